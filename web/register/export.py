"""Downloads (CSV or XLSX) of what the register screens show: the register search result (all
pages, with its filters and "as of") and an item's history."""

from __future__ import annotations

from flask import request
from flask.typing import ResponseReturnValue

from usm.services import register
from web.register.blueprint import bp
from web.support import access
from web.support.context import database
from web.support.downloads import download, known_format
from web.support.security import roles_required


@bp.get("/items/export.<fmt>")
@roles_required(*access.REGISTER_READERS)
def items_export(fmt: str) -> ResponseReturnValue:
    query = register.search_query(request.args)
    sheet = register.items_sheet(database(), query)
    moment = f"-{query.as_of:%Y-%m-%dT%H%M}" if query.as_of else ""
    return download(f"register{moment}", known_format(fmt), sheet)


@bp.get("/items/<key>/history.<fmt>")
@roles_required(*access.REGISTER_READERS)
def history_export(key: str, fmt: str) -> ResponseReturnValue:
    sheet = register.history_sheet(database(), key)
    return download(f"history-{key.strip().upper()}", known_format(fmt), sheet)
