"""The main navigation: each screen with the roles that may open it; a user sees only theirs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from web.support import access


@dataclass(frozen=True)
class NavEntry:
    label: str  # a lazy translation: read in the request's language
    endpoint: str
    roles: tuple[str, ...]


NAVIGATION = (
    NavEntry(_l("Change queue"), "changes.queue", access.CHANGE_PARTICIPANTS),
    NavEntry(_l("New change"), "changes.new", access.CHANGE_EDITORS),
    NavEntry(_l("Calendar"), "changes.calendar", access.CHANGE_PARTICIPANTS),
    NavEntry(_l("Register"), "register.search", access.REGISTER_READERS),
    NavEntry(_l("Services"), "register.services", access.REGISTER_READERS),
    NavEntry(_l("Check-outs"), "checkouts.overview", access.CHANGE_PARTICIPANTS),
    NavEntry(_l("Import"), "audit.upload_form", access.CHANGE_EDITORS),
    NavEntry(_l("Reports"), "reports.index", access.REPORT_READERS),
    NavEntry(_l("Change models"), "change_models.definitions", access.DESIGNERS),
    NavEntry(_l("Item classes"), "item_classes.classes", access.DESIGNERS),
    NavEntry(_l("Users"), "accounts.users", access.ADMINISTRATORS),
    NavEntry(_l("Audit log"), "audit_log.entries", access.ADMINISTRATORS),
    NavEntry(_l("Reference data"), "reference.index", access.ADMINISTRATORS),
)


def navigation() -> dict[str, Any]:
    """Template context: the entries this user may open (screens not built yet are left out)."""
    if not current_user.is_authenticated:
        return {"nav": []}
    roles = set(current_user.roles)
    blueprint = request.blueprints[0] if request.blueprints else None
    entries = [
        (e, e.endpoint.split(".")[0] == blueprint and request.endpoint == e.endpoint)
        for e in NAVIGATION
        if roles.intersection(e.roles) and e.endpoint in current_app.view_functions
    ]
    return {"nav": entries}
