"""Service owners' screens over the register: search, an item now or as of a moment, the services
and what supports each."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from flask import render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from usm.services import attachments, register
from usm.services.errors import Invalid
from usm.services.user_input import parse_moment
from web.checkouts.panels import item_panel_context
from web.incidents.panels import item_failures_context
from web.register.blueprint import bp
from web.support import access
from web.support.context import database
from web.support.formatting import history_changes, item_groups, moment_param
from web.support.security import roles_required

# Result columns a user can sort by: (sort name, header).
SORTABLE_COLUMNS = (
    ("key", _l("Key")), ("name", _l("Name")), ("class", _l("Class")), ("status", _l("Status")),
    ("owner", _l("Owner")), ("location", _l("Location")), ("cost_centre", _l("Cost centre")),
    ("purchase_cost", _l("Purchase cost")), ("acquired_on", _l("Acquired on")),
)


@bp.context_processor
def _change_access() -> dict[str, bool]:
    """Whether change keys on these pages may be links: not every register reader sees changes."""
    roles = set(current_user.roles) if current_user.is_authenticated else set()
    return {"sees_changes": bool(roles & set(access.CHANGE_PARTICIPANTS))}


def _as_of_argument() -> datetime | None:
    return parse_moment(request.args.get("as_of"))


def search_params(query: register.SearchQuery, **changes: str | None) -> dict[str, str]:
    """The URL parameters that ask for ``query`` (defaults left out), with ``changes`` applied."""
    params = {
        "q": query.text, "class": query.class_code, "status": query.status, "owner": query.owner,
        "location": query.location, "cost_centre": query.cost_centre, "service": query.service,
        "sort": None if query.sort == "key" else query.sort,
        "order": "desc" if query.descending else None,
        "limit": None if query.limit == register.DEFAULT_PAGE_SIZE else str(query.limit),
        "as_of": moment_param(query.as_of) if query.as_of else None,
        "after": query.after, "before": query.before,
    }
    params.update(changes)
    return {name: value for name, value in params.items() if value}


def _search_url(query: register.SearchQuery) -> Callable[..., str]:
    def build(**changes: str | None) -> str:
        return url_for("register.search", **search_params(query, **changes))
    return build


@bp.get("/items")
@roles_required(*access.REGISTER_READERS)
def search() -> ResponseReturnValue:
    db = database()
    choices = register.search_choices(db)
    try:
        query = register.search_query(request.args)
        page = register.search_items(db, query)
    except Invalid as exc:
        # The form shows what was asked, minus the sort and page: a bad one would stick.
        form = {k: v for k, v in request.args.items() if k not in ("sort", "order", "after", "before")}
        return render_template("register/search.html", error=str(exc), page=None, choices=choices,
                               form=form, columns=SORTABLE_COLUMNS, search_url=None), 400
    return render_template("register/search.html", error=None, page=page, choices=choices,
                           form=search_params(query.first_page()), columns=SORTABLE_COLUMNS,
                           search_url=_search_url(query.first_page()))


@bp.get("/items/<key>")
@roles_required(*access.REGISTER_READERS)
def item(key: str) -> ResponseReturnValue:
    as_of = _as_of_argument()
    db = database()
    try:
        view = register.item_view(db, key, as_of=as_of)
    except register.NotYetRegistered as exc:
        # The item exists, only not yet then: say so, and when it was first registered.
        return render_template("register/item_not_yet.html", key=exc.key, as_of=as_of,
                               first_registered=exc.first_registered), 404
    history = register.item_history(db, view.key)
    labels = list(view.attribute_labels.items())
    return render_template(
        "register/item.html", item=view, groups=item_groups(view),
        timeline=[(row, history_changes(row, labels)) for row in reversed(history)],
        checkouts=None if as_of else item_panel_context(view.key),
        failures=None if as_of else item_failures_context(view.key),
        item_attachments=attachments.item_attachments(db, view.key, as_of=as_of),
    )


@bp.get("/services")
@roles_required(*access.REGISTER_READERS)
def services() -> ResponseReturnValue:
    return render_template("register/services.html", services=register.list_services(database()))


@bp.get("/services/<key>")
@roles_required(*access.REGISTER_READERS)
def service(key: str) -> ResponseReturnValue:
    as_of = _as_of_argument()
    view = register.service_view(database(), key, as_of=as_of)
    return render_template("register/service.html", view=view)
