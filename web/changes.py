"""Change coordinators' screens: the change queue and a change's detail."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask.typing import ResponseReturnValue

from usm.services import changes
from web import access
from web.context import database
from web.security import roles_required

bp = Blueprint("changes", __name__)

PAGE_SIZE = 50


@bp.get("/changes")
@roles_required(*access.CHANGE_PARTICIPANTS)
def queue() -> ResponseReturnValue:
    after = request.args.get("after") or None
    page = changes.list_changes(database(), open_only=True, limit=PAGE_SIZE, after=after)
    return render_template("changes.html", changes=page,
                           next_after=page[-1].key if len(page) == PAGE_SIZE else None)


@bp.get("/changes/<key>")
@roles_required(*access.CHANGE_PARTICIPANTS)
def detail(key: str) -> ResponseReturnValue:
    try:
        detail = changes.change_detail(database(), key)
    except changes.ChangeNotFound as exc:
        abort(404, description=str(exc))
    return render_template("change.html", change=detail, summary=detail.summary)
