"""The audit log page and its download: filters by user, action and moment; newest first, by
keyset pages; the download holds every entry the filters select."""

from __future__ import annotations

from flask import render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l

from usm.services import audit_log
from usm.services.audit_log import FILTERS, AuditQuery
from usm.services.errors import FieldError, Invalid
from web.audit_log.blueprint import bp
from web.support import access
from web.support.context import database
from web.support.downloads import download, known_format
from web.support.security import roles_required

# What each action code means, in the page's language (the codes stay as they are in exports).
ACTION_LABELS = {
    "sign_in": _l("Signed in"),
    "sign_in.failed": _l("Sign-in failed"),
    "sign_in.throttled": _l("Sign-in refused: too many failures"),
    "sign_out": _l("Signed out"),
    "sessions.ended": _l("Signed out everywhere"),
    "token.created": _l("API token made"),
    "token.used": _l("API token used"),
    "token.revoked": _l("API token revoked"),
    "user.created": _l("User created"),
    "user.renamed": _l("Display name changed"),
    "user.roles_changed": _l("Roles changed"),
    "user.deactivated": _l("User deactivated"),
    "user.activated": _l("User activated"),
    "user.password_reset": _l("Password reset"),
    "user.password_changed": _l("Own password changed"),
    "settings.language": _l("Language changed"),
    "export": _l("File exported"),
    "act_as": _l("Written as another user"),
    "reference.created": _l("Reference value added"),
    "reference.renamed": _l("Reference value renamed"),
    "reference.linked": _l("Reference value linked"),
    "reference.retired": _l("Reference value retired"),
    "reference.activated": _l("Reference value reactivated"),
    "reference.merged": _l("Reference value merged"),
}


@bp.get("/admin/audit-log")
@roles_required(*access.ADMINISTRATORS)
def entries() -> ResponseReturnValue:
    args = {name: request.args.get(name, "") for name in (*FILTERS, "cursor")}
    try:
        query = audit_log.audit_query(args)
    except Invalid as exc:
        return _page(args, AuditQuery(), exc.errors, status=400)
    return _page(args, query)


def _page(args: dict[str, str], query: AuditQuery, errors: list[FieldError] | None = None,
          status: int = 200) -> ResponseReturnValue:
    page = None if errors else audit_log.audit_entries(database(), query)
    filters = {name: value for name, value in args.items() if name in FILTERS and value}
    problems = {error.field: error.message for error in errors or []}
    return render_template("audit_log/entries.html", page=page, args=args, filters=filters,
                           problems=problems, labels=ACTION_LABELS), status


@bp.get("/admin/audit-log/export.<fmt>")
@roles_required(*access.ADMINISTRATORS)
def export(fmt: str) -> ResponseReturnValue:
    query = audit_log.audit_query({name: request.args.get(name, "") for name in FILTERS})
    return download("audit-log", known_format(fmt), audit_log.audit_sheet(database(), query))
