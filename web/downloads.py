"""Downloads (CSV or XLSX) of what the register and change screens show: the register search
result (all pages), an item's history and the change queue."""

from __future__ import annotations

from flask import Blueprint, Response, abort, request
from flask.typing import ResponseReturnValue

from usm.services import platform as exports
from usm.services import register
from usm.services import register as register_export
from web import access
from web.changes import queue_filter
from web.context import database
from web.security import roles_required

bp = Blueprint("downloads", __name__)


def download(name: str, fmt: str, sheet: exports.Sheet) -> Response:
    """``sheet`` as an attachment ``name.fmt`` (the web's and the API's downloads)."""
    body, media_type = exports.export(fmt, sheet)
    return Response(body, headers={"Content-Type": media_type,
                                   "Content-Disposition": f'attachment; filename="{name}.{fmt}"'})


def _format(fmt: str) -> str:
    if fmt not in exports.FORMATS:
        abort(404, description="no such format (csv, xlsx)")
    return fmt


@bp.get("/items/export.<fmt>")
@roles_required(*access.REGISTER_READERS)
def items(fmt: str) -> ResponseReturnValue:
    _format(fmt)
    query = register.search_query(request.args)
    sheet = register_export.items_sheet(database(), query)
    moment = f"-{query.as_of:%Y-%m-%dT%H%M}" if query.as_of else ""
    return download(f"register{moment}", fmt, sheet)


@bp.get("/items/<key>/history.<fmt>")
@roles_required(*access.REGISTER_READERS)
def history(key: str, fmt: str) -> ResponseReturnValue:
    _format(fmt)
    sheet = register_export.history_sheet(database(), key)
    return download(f"history-{key.strip().upper()}", fmt, sheet)


@bp.get("/changes/export.<fmt>")
@roles_required(*access.CHANGE_PARTICIPANTS)
def changes(fmt: str) -> ResponseReturnValue:
    _format(fmt)
    return download("changes", fmt, register_export.changes_sheet(database(),
                                                                   queue_filter(request.args)))
