"""Bulk actions from the register search: a coordinator ticks rows (or "all N matching this
filter", which posts the filter, never N keys), picks an action, reads on one page exactly what
will happen, and registers ONE change for the whole selection with one click.

The action bar posts to ``bulk``, which shows that confirmation (or, for the change form and a
check-out, hands the keys on); the confirmation posts to ``bulk_run``. Nothing per row goes
further than the keys ticked on one page.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from markupsafe import Markup, escape
from werkzeug.datastructures import MultiDict

from usm.services import register
from usm.services.errors import FieldError, Invalid
from web.register.blueprint import bp
from web.support import access
from web.support.context import database
from web.support.formatting import number, status_label
from web.support.security import roles_required
from web.support.vocabulary import ui_reason

# What the action bar offers beside the bulk changes: items handed on to another screen.
HAND_ON = ("form", "checkout")
KEY = "@@KEY@@"  # where the change's link goes in a translated message
FORM_MODEL = "normal-change"  # the change form a selection opens, with one row per item
CHECKOUT_MAX_ITEMS = register.MAX_KEYS


@bp.app_context_processor
def _bulk_context() -> dict[str, Any]:
    """Whether the register page offers bulk actions (coordinators only), and the helpers its
    action bar uses."""
    roles = set(current_user.roles) if current_user.is_authenticated else set()
    return {"bulk_allowed": bool(roles & set(access.CHANGE_EDITORS)),
            "bulk_filter": _filter_text}


def _filter_text(form: dict[str, str]) -> str:
    """The search's filters as a query string: what "all N matching" posts."""
    return urlencode({name: form[name] for name in register.FILTER_PARAMETERS
                      if form.get(name)})


def _selection(form: MultiDict[str, str]) -> register.Selection:
    if form.get("all") == "1":
        text = form.get("filter", "")
        if len(text) > 4000:
            raise Invalid([FieldError("filter", _("The filter is too long."))])
        return register.select_matching(dict(parse_qsl(text)))
    return register.select_keys(form.getlist("keys"))


def _bulk(form: MultiDict[str, str]) -> register.Bulk:
    action = form.get("action", "")
    return register.bulk_action(action, form.get(f"to_{action}", ""))


def _hidden(selection: register.Selection, bulk: register.Bulk) -> list[tuple[str, str]]:
    """The inputs the confirmation posts again: the selection and the action."""
    if selection.by_filter:
        fields = [("all", "1"), ("filter", urlencode(selection.params()))]
    else:
        fields = [("keys", key) for key in selection.keys]
    fields.append(("action", bulk.action))
    if bulk.action != "retire":
        fields.append((f"to_{bulk.action}", bulk.value))
    return fields


def _back(selection: register.Selection | None) -> str:
    if selection is not None and selection.by_filter:
        return url_for("register.search", **selection.params())
    return url_for("register.search")


def _problems(exc: Invalid) -> list[str]:
    return [e.message for e in exc.errors]


def summary(plan: register.BulkPlan) -> str:
    """What the one click will do, in the page's language."""
    n, value = plan.count, plan.bulk.value
    num = number(n)
    if plan.bulk.action == "status":
        return ngettext("Set the status of %(count)s item to %(status)s: one standard change.",
                        "Set the status of %(count)s items to %(status)s: one standard change.",
                        n, count=num, status=status_label(value).lower())
    if plan.bulk.action == "owner":
        return ngettext("Set the owner of %(count)s item to %(owner)s: one standard change.",
                        "Set the owner of %(count)s items to %(owner)s: one standard change.",
                        n, count=num, owner=value)
    if plan.bulk.action == "location":
        return ngettext("Move %(count)s item to location %(location)s: one standard change.",
                        "Move %(count)s items to location %(location)s: one standard change.",
                        n, count=num, location=value)
    return ngettext("Retire %(count)s item: one asset retirement change.",
                    "Retire %(count)s items: one asset retirement change.", n, count=num)


def _confirm(selection: register.Selection | None, bulk: register.Bulk | None,
             plan: register.BulkPlan | None, problems: list[str], status: int
             ) -> ResponseReturnValue:
    return render_template(
        "register/bulk_confirm.html", plan=plan, problems=problems,
        summary=summary(plan) if plan is not None and plan.count else None,
        hidden=_hidden(selection, bulk) if selection is not None and bulk is not None else [],
        back=_back(selection)), status


@bp.post("/items/bulk")
@roles_required(*access.CHANGE_EDITORS)
def bulk() -> ResponseReturnValue:
    """The action bar's post: the confirmation of a bulk change, or the selected items handed
    on to the change form or a check-out."""
    form = request.form
    selection = None
    try:
        selection = _selection(form)
        if form.get("action") in HAND_ON:
            return _hand_on(selection, form["action"])
        bulk_ = _bulk(form)
        plan = register.plan_bulk(database(), selection, bulk_)
    except Invalid as exc:
        return _confirm(selection, None, None, _problems(exc), 422)
    problems = [e.message for e in plan.problems()]
    return _confirm(selection, bulk_, plan, problems, 422 if problems else 200)


def _hand_on(selection: register.Selection, action: str) -> ResponseReturnValue:
    if action == "checkout":
        keys = register.selected_keys(database(), selection, CHECKOUT_MAX_ITEMS)
        return redirect(url_for("checkouts.new", key=keys))
    keys = register.selected_keys(database(), selection, register.FORM_MAX_ITEMS)
    return redirect(url_for("changes.new_for_model", model=FORM_MODEL, item=keys))


@bp.post("/items/bulk/run")
@roles_required(*access.CHANGE_EDITORS)
def bulk_run() -> ResponseReturnValue:
    """The one click: register the change for the whole selection and carry it through."""
    selection = bulk_ = None
    try:
        selection = _selection(request.form)
        bulk_ = _bulk(request.form)
        done = register.run_bulk(database(), current_user.username, selection, bulk_)
    except Invalid as exc:
        plan = None
        if selection is not None and bulk_ is not None:
            plan = register.plan_bulk(database(), selection, bulk_)
        return _confirm(selection, bulk_, plan, _problems(exc), 422)
    carried = done.carried
    num = number(done.count)
    if carried.reached:
        text = ngettext("%(key)s registered for %(count)s item and carried through to %(state)s.",
                        "%(key)s registered for %(count)s items and carried through to %(state)s.",
                        done.count, key=KEY, count=num, state=carried.state_label)
    else:
        text = ngettext("%(key)s registered for %(count)s item; it stopped at %(state)s: "
                        "%(reasons)s",
                        "%(key)s registered for %(count)s items; it stopped at %(state)s: "
                        "%(reasons)s",
                        done.count, key=KEY, count=num, state=carried.state_label,
                        reasons="; ".join(ui_reason(r) for r in carried.blocked))
    link = Markup('<a href="{}">{}</a>').format(url_for("changes.detail", key=carried.key),
                                                carried.key)
    flash(escape(text).replace(KEY, link), "success" if carried.reached else "warning")
    # Back to the register: it shows the items as they are now, and the flash links the change
    # (whose page, for a change of 100,000 operations, takes a while to build).
    return redirect(_back(selection))
