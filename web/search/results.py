"""The results page of the search in the header: one group each for items, changes and people,
as far as the user's roles reach, or straight to the page an exact key names."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from usm.services import search
from web.search.blueprint import bp
from web.support import access
from web.support.context import database

TARGET_PAGES = {search.ITEM: "register.item", search.CHANGE: "changes.detail"}


@bp.get("/search")
@login_required
def results() -> ResponseReturnValue:
    db = database()
    scope = access.search_scope(current_user.roles)
    raw = request.args.get("q")
    try:
        target = search.exact_target(db, raw, scope)
        found = None if target else search.search_everywhere(db, raw, scope)
    except search.BadSearch as exc:
        return render_template("search/results.html", results=None, error=str(exc),
                               header_search=(raw or "").replace("\x00", "")), 400
    if target is not None:
        return redirect(url_for(TARGET_PAGES[target.kind], key=target.key))
    return render_template("search/results.html", results=found, error=None,
                           header_search=found.text)
