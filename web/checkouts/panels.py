"""The check-out panels other screens include: the item page's (who has it, since when, until
when, its bookings, a small booking form) and the home page's "My check-outs due back".

Each returns the template context its ``_*.html`` needs, so the screen that includes it stays one
small edit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask_login import current_user

from usm.services import checkouts
from web.support import access
from web.support.context import database

DUE_AHEAD = timedelta(days=7)  # the home panel lists what is due back within a week
DUE_SHOWN = 20


def _today() -> Any:
    return datetime.now(UTC).date()


def _holds(roles: tuple[str, ...]) -> bool:
    return bool(current_user.is_authenticated and set(current_user.roles).intersection(roles))


def item_panel_context(key: str) -> dict[str, Any]:
    """For ``checkouts/_item_actions.html`` and ``checkouts/_item_panel.html`` on an item's
    page: its current check-out (pending, out or coming back), its bookings from today, and what
    the user may do (coordinators check out and in; participants book)."""
    today = _today()
    db = database()
    current, reservations = checkouts.item_panel(db, key, today=today)
    return {
        "current": current,
        "reservations": reservations,
        "may_check_out": _holds(access.CHANGE_EDITORS),
        "may_book": _holds(access.CHANGE_PARTICIPANTS),
        "today": today,
        "latest_day": today + checkouts.MAX_AHEAD,
    }


def due_panel_context() -> dict[str, Any]:
    """For ``checkouts/_due_panel.html`` on the home page, under the name ``due_checkouts``:
    the check-outs the signed-in user made that are due back within a week or overdue."""
    if not _holds(access.CHANGE_EDITORS):
        return {"due_checkouts": None}
    today = _today()
    rows = checkouts.due(database(), requested_by=current_user.username,
                         until=today + DUE_AHEAD, today=today, limit=DUE_SHOWN)
    return {"due_checkouts": {"rows": rows, "today": today, "shown": DUE_SHOWN}}

