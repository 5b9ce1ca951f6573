"""Service owners' screens over the register: items now or as of a moment."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from flask import Blueprint, abort, render_template, request
from flask.typing import ResponseReturnValue

from usm.services import register
from web import access
from web.context import database
from web.formatting import history_changes, item_groups
from web.security import roles_required

bp = Blueprint("register", __name__)

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


@bp.get("/items/<key>")
@roles_required(*access.REGISTER_READERS)
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
