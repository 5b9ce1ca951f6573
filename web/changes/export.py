"""The change queue's download (CSV or XLSX): every change its filters select."""

from __future__ import annotations

from flask import request
from flask.typing import ResponseReturnValue

from usm.services import register
from web.changes.blueprint import bp
from web.changes.pages import queue_filter
from web.support import access
from web.support.context import database
from web.support.downloads import download, known_format
from web.support.security import roles_required


@bp.get("/changes/export.<fmt>")
@roles_required(*access.CHANGE_PARTICIPANTS)
def export(fmt: str) -> ResponseReturnValue:
    sheet = register.changes_sheet(database(), queue_filter(request.args))
    return download("changes", known_format(fmt), sheet)
