"""The landing page: first what waits for the user (My work), then the role's dashboard, the
open changes and the register, as far as the user's roles reach; and the favicon."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app, render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from usm.services import changes, home, register
from web.checkouts.panels import due_panel_context
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
    now = datetime.now(UTC)
    work = home.my_work(db, current_user.username, roles, now)
    due = due_panel_context()  # the check-outs panel's own context
    due_rows = (due.get("due_checkouts") or {}).get("rows") or []
    panels = dashboard.panels_for(db, roles, now.date())
    return render_template("home/index.html", items=items, item_count=item_count, panels=panels,
                           open_changes=open_changes, work=work, checkouts_due_count=len(due_rows),
                           **due,
                           sees_register=bool(roles.intersection(access.REGISTER_READERS)),
                           sees_changes=bool(roles.intersection(access.CHANGE_PARTICIPANTS)))


@bp.get("/favicon.ico")
def favicon() -> ResponseReturnValue:
    """Browsers ask for /favicon.ico whatever the page links: the icon, signed in or not."""
    response = current_app.send_static_file("favicon.ico")
    response.cache_control.max_age = 86400
    response.cache_control.public = True
    return response
