"""What the item page's failures panel (``incidents/_item_panel.html``) shows and offers."""

from __future__ import annotations

from typing import Any

from flask_login import current_user

from usm.services import incidents
from web.support import access
from web.support.context import database


def item_failures_context(key: str) -> dict[str, Any]:
    """The failures recorded for the item (which the page has just read), newest first, and
    whether the user may record one (change coordinators, as an incident tool does with a
    coordinator's token). One statement."""
    return {
        "rows": incidents.item_failures(database(), key, known_item=True),
        "may_record": bool(set(current_user.roles) & set(access.CHANGE_EDITORS)),
        "outcomes": incidents.OUTCOMES,
    }
