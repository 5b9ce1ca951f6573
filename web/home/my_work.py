"""My work in the header: the badge with what waits for the signed-in user (approvals, overdue
changes, check-outs due back).

The badge is a function the template calls, not a value: the sign-in page and anonymous error
pages never ask, and a page that shows the header asks once (kept in ``flask.g``)."""

from __future__ import annotations

import logging
from typing import Any

from flask import g
from flask_login import current_user

from usm.services import home
from web.home.blueprint import bp
from web.support.context import database

log = logging.getLogger(__name__)
_CACHE = "my_work_waiting"


def waiting_for_me() -> int:
    """What the header's badge counts: approvals asked of me, my overdue changes, my check-outs
    due back. Computed once per request, and only for a signed-in user."""
    if not current_user.is_authenticated:
        return 0
    if _CACHE not in g:
        try:
            count = home.waiting_count(database(), current_user.username, current_user.roles)
        except Exception:  # a busy or failing database: the page (maybe its error page) still shows
            log.exception("the My work badge could not be counted")
            count = 0
        setattr(g, _CACHE, count)
    return int(getattr(g, _CACHE))


@bp.app_context_processor
def my_work_badge() -> dict[str, Any]:
    return {"waiting_for_me": waiting_for_me}
