"""The landing page: the role's dashboard, the open changes and the register, as far as the
user's roles reach."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from usm.services import changes, register
from web.home import dashboard
from web.home.blueprint import bp
from web.support import access
from web.support.context import database

PAGE_SIZE = 50


@bp.get("/")
@login_required
def index() -> ResponseReturnValue:
    db = database()
    roles = set(current_user.roles)
    items, item_count, open_changes = [], 0, []
    if roles.intersection(access.REGISTER_READERS):
        items, item_count = register.list_items(db, limit=PAGE_SIZE)
    if roles.intersection(access.CHANGE_PARTICIPANTS):
        open_changes = changes.list_changes(db, open_only=True, limit=PAGE_SIZE)
    panels = dashboard.panels_for(db, roles, datetime.now(UTC).date())
    return render_template("home/index.html", items=items, item_count=item_count, panels=panels,
                           open_changes=open_changes,
                           sees_register=bool(roles.intersection(access.REGISTER_READERS)),
                           sees_changes=bool(roles.intersection(access.CHANGE_PARTICIPANTS)))
