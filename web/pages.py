"""The walking skeleton's pages: the register, an item, the open changes and a change.

Every view parses its input, calls the service layer and renders; templates never query.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from flask import Blueprint, abort, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import login_required

from usm.services import changes, register
from web.context import database
from web.formatting import history_changes, item_groups

bp = Blueprint("pages", __name__)

PAGE_SIZE = 50
AS_OF = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2})?)?$")


def parse_as_of(text: str | None) -> datetime | None:
    """``YYYY-MM-DD`` (the start of that day) or ``YYYY-MM-DDTHH:MM``, read as UTC.

    Raises ``ValueError`` with a message fit for the user.
    """
    if text is None or not text.strip():
        return None
    text = text.strip()
    problem = (f"'{text}' is not a moment the register can be read at: give a date as "
               "YYYY-MM-DD or a date and time as YYYY-MM-DDTHH:MM (UTC).")
    if not AS_OF.match(text):
        raise ValueError(problem)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(problem) from None
    return moment.replace(tzinfo=UTC)


@bp.get("/")
@login_required
def index() -> ResponseReturnValue:
    db = database()
    items, item_count = register.list_items(db, limit=PAGE_SIZE)
    open_changes = changes.list_changes(db, open_only=True, limit=PAGE_SIZE)
    return render_template("index.html", items=items, item_count=item_count,
                           open_changes=open_changes)


@bp.get("/items/<key>")
@login_required
def item(key: str) -> ResponseReturnValue:
    try:
        as_of = parse_as_of(request.args.get("as_of"))
    except ValueError as exc:
        abort(400, description=str(exc))
    db = database()
    try:
        view = register.item_view(db, key.strip().upper(), as_of=as_of)
        history = register.item_history(db, view.key)
    except register.NotFound as exc:
        abort(404, description=str(exc))
    labels = [(name, text) for name, text, _value, _unit in view.attributes]
    return render_template(
        "item.html", item=view, groups=item_groups(view),
        history=[(row, history_changes(row, labels)) for row in history],
        as_of_text=request.args.get("as_of", ""),
    )


@bp.get("/changes")
@login_required
def change_list() -> ResponseReturnValue:
    after = request.args.get("after") or None
    page = changes.list_changes(database(), open_only=True, limit=PAGE_SIZE, after=after)
    return render_template("changes.html", changes=page,
                           next_after=page[-1].key if len(page) == PAGE_SIZE else None)


@bp.get("/changes/<key>")
@login_required
def change(key: str) -> ResponseReturnValue:
    try:
        detail = changes.change_detail(database(), key)
    except changes.ChangeNotFound as exc:
        abort(404, description=str(exc))
    return render_template("change.html", change=detail, summary=detail.summary)
