"""The audit log over the API, for administrators: a page at a time (newest first) and the whole
filtered log as CSV or XLSX."""

from __future__ import annotations

from flask import Response, request, url_for

from usm.services import audit_log
from web.api.auth import roles_required
from web.api.blueprint import bp
from web.api.schemas.audit_log import AuditEntryOut, AuditExportQuery, AuditLogPage, AuditLogQuery
from web.api.spec import api_spec, responses
from web.support import access
from web.support.context import database
from web.support.downloads import download

TAGS = ["audit log"]


def _args(query: AuditLogQuery | AuditExportQuery) -> dict[str, str]:
    return {k: str(v) for k, v in query.model_dump(by_alias=True, exclude_none=True).items()}


@bp.get("/audit-log")
@roles_required(*access.ADMINISTRATORS)
@api_spec.validate(query=AuditLogQuery, resp=responses(HTTP_200=AuditLogPage), tags=TAGS,
                   operation_id="listAuditLog")
def list_audit_log(query: AuditLogQuery) -> AuditLogPage:
    """The audit log, newest first: sign-ins, sessions, tokens, users, roles, settings, exports

    Filter by user (`actor`: what they did and what was done as them), `action`, and `from`/`to`
    (a day, whole days included, or a moment). An unusable value is a 422 naming it.
    """
    page = audit_log.audit_entries(database(), audit_log.audit_query(_args(query)))
    next_url = None
    if page.next_cursor:
        args = {k: v for k, v in request.args.items() if k != "cursor"}
        next_url = url_for("api.list_audit_log", **args, cursor=page.next_cursor)
    return AuditLogPage(entries=[AuditEntryOut(**vars(row)) for row in page.rows], next=next_url)


@bp.get("/exports/audit-log")
@roles_required(*access.ADMINISTRATORS)
@api_spec.validate(query=AuditExportQuery, resp=responses(HTTP_200=None), tags=TAGS,
                   operation_id="exportAuditLog")
def export_audit_log(query: AuditExportQuery) -> Response:
    """Download the audit log entries matching the filters (all of them, newest first)"""
    args = _args(query)
    fmt = args.pop("format")
    return download("audit-log", fmt, audit_log.audit_sheet(database(),
                                                          audit_log.audit_query(args)))
