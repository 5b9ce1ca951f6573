"""Downloads over the API, the same files as the web's download links: the register (a whole
filtered listing, now or as of a moment), an item's history and the change list, as CSV or XLSX.
The item columns are the ones ``POST /imports`` (format csv) reads back."""

from __future__ import annotations

from flask import Response

from usm.services import register
from usm.services import register as register_export
from usm.services.changes import ChangeFilter
from web.api.auth import roles_required
from web.api.blueprint import bp
from web.api.errors import ApiError
from web.api.schemas.audit import ChangesExportQuery, ExportFormatQuery, ItemsExportQuery
from web.api.spec import api_spec, responses
from web.support import access
from web.support.context import database
from web.support.downloads import download

TAGS = ["exports"]


@bp.get("/exports/items")
@roles_required(*access.REGISTER_READERS)
@api_spec.validate(query=ItemsExportQuery, resp=responses(HTTP_200=None), tags=TAGS,
                   operation_id="exportItems")
def export_items(query: ItemsExportQuery) -> Response:
    """Download the register items matching the filters (all of them), as CSV or XLSX

    The same filters as `GET /items`; with `as_of`, the register as it stood then. An unknown
    class is a 422.
    """
    search = register.SearchQuery(
        text=query.q, class_code=query.class_code, status=query.status, owner=query.owner,
        location=query.location, cost_centre=query.cost_centre, as_of=query.as_of)
    try:
        sheet = register_export.items_sheet(database(), search)
    except register.BadQuery as exc:
        raise ApiError(422, "validation_failed", str(exc), [("class", str(exc))]) from exc
    moment = f"-{query.as_of:%Y-%m-%dT%H%M}" if query.as_of else ""
    return download(f"register{moment}", query.format, sheet)


@bp.get("/exports/items/<key>/history")
@roles_required(*access.REGISTER_READERS)
@api_spec.validate(query=ExportFormatQuery, resp=responses("HTTP_404", HTTP_200=None),
                   tags=TAGS, operation_id="exportItemHistory")
def export_item_history(key: str, query: ExportFormatQuery) -> Response:
    """Download an item's history (one row per changed field of each version)"""
    sheet = register_export.history_sheet(database(), key)
    return download(f"history-{key.strip().upper()}", query.format, sheet)


@bp.get("/exports/changes")
@roles_required(*access.CHANGE_PARTICIPANTS)
@api_spec.validate(query=ChangesExportQuery, resp=responses(HTTP_200=None), tags=TAGS,
                   operation_id="exportChanges")
def export_changes(query: ChangesExportQuery) -> Response:
    """Download the changes matching the filters (all of them, newest first)"""
    flt = ChangeFilter(open_only=query.open, step=query.step, model=query.model,
                       coordinator=query.coordinator)
    return download("changes", query.format, register_export.changes_sheet(database(), flt))
