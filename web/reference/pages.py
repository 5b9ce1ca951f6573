"""Administrators keep the reference data: a list per kind (search, paging, how many items use
each value), and per value the forms to rename, link, retire or reactivate it and to merge it
into another. A merge moves the items through one change; when the administrator is no change
coordinator it stops at the first coordinator's move, and the page says so with a link."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from usm.services import reference
from usm.services.errors import FieldError, Invalid, Refused
from web.reference.blueprint import bp
from web.support import access
from web.support.auditing import origin
from web.support.context import database
from web.support.security import roles_required

INVALID = 400
KIND_TITLES = {"person": _l("People"), "location": _l("Locations"),
               "cost_centre": _l("Cost centres")}
KIND_NAMES = {"person": _l("person"), "location": _l("location"),
              "cost_centre": _l("cost centre")}
DEFAULT_KIND = "person"
ACTIONS = ("rename", "link", "retire", "activate")


def _reads_register() -> bool:
    """Whether the user may follow the links into the register (an administrator alone may not)."""
    return bool(set(current_user.roles) & set(access.REGISTER_READERS))


def _list(kind: str, *, errors: list[FieldError] | None = None,
          form: dict[str, str] | None = None, status: int = 200) -> ResponseReturnValue:
    chosen = reference.reference_kind(kind).value
    args = {name: request.args.get(name, "") for name in ("q", "state", "cursor")}
    state = args["state"] if args["state"] in reference.STATES else "active"
    try:
        page = reference.reference_page(database(), chosen, q=args["q"], state=state,
                                        cursor=args["cursor"] or None)
        problem = None
    except Invalid as exc:
        page, problem = None, str(exc)
    filters = {name: value for name, value in (("q", args["q"]), ("state", args["state"]))
               if value}
    return render_template(
        "reference/values.html", kind=chosen, kinds=KIND_TITLES, names=KIND_NAMES, page=page,
        args=args, state=state, filters=filters, problem=problem, form=form or {},
        errors={e.field: e.message for e in errors or []},
        reads_register=_reads_register()), status


@bp.get("/admin/reference")
@roles_required(*access.ADMINISTRATORS)
def index() -> ResponseReturnValue:
    """The people (the first kind); the other kinds are a tab away."""
    return _list(DEFAULT_KIND)


@bp.get("/admin/reference/<kind>")
@roles_required(*access.ADMINISTRATORS)
def values(kind: str) -> ResponseReturnValue:
    return _list(kind)


@bp.post("/admin/reference/<kind>")
@roles_required(*access.ADMINISTRATORS)
def add(kind: str) -> ResponseReturnValue:
    form = {name: request.form.get(name, "") for name in ("code", "name", "username",
                                                           "item_key")}
    try:
        added = reference.add_value(database(), origin(), kind, form["code"], form["name"] or None,
                                    username=form["username"] or None,
                                    item_key=form["item_key"] or None)
    except Invalid as exc:
        return _list(kind, errors=exc.errors, form=form, status=INVALID)
    flash(_("Added %(value)s.", value=added.label), "success")
    return redirect(url_for("reference.values", kind=added.kind))


def _value_page(kind: str, code: str, *, errors: list[FieldError] | None = None,
                merged: reference.Merged | None = None, status: int = 200) -> ResponseReturnValue:
    value = reference.get_value(database(), kind, code)
    return render_template("reference/value.html", kind=value.kind, value=value,
                           kinds=KIND_TITLES, names=KIND_NAMES, merged=merged,
                           errors={e.field: e.message for e in errors or []},
                           form=request.form if request.method == "POST" else {},
                           reads_register=_reads_register()), status


@bp.get("/admin/reference/<kind>/values/<path:code>")
@roles_required(*access.ADMINISTRATORS)
def value(kind: str, code: str) -> ResponseReturnValue:
    """One value: what it is, how many items use it, and its forms."""
    return _value_page(kind, code)


@bp.post("/admin/reference/<kind>/update")
@roles_required(*access.ADMINISTRATORS)
def update(kind: str) -> ResponseReturnValue:
    code, action = request.form.get("code", ""), request.form.get("action", "")
    changes: dict[str, object] = {}
    if action == "rename":
        changes["name"] = request.form.get("name", "")
    elif action == "link":
        changes["username" if reference.reference_kind(kind).value == "person"
                else "item_key"] = request.form.get("link", "")
    elif action in ("retire", "activate"):
        changes["active"] = action == "activate"
    else:
        return _value_page(kind, code, errors=[FieldError(
            "action", _("choose one of: %(actions)s", actions=", ".join(ACTIONS)))],
            status=INVALID)
    try:
        updated = reference.update_value(database(), origin(), kind, code,
                                         **changes)  # type: ignore[arg-type]
    except Invalid as exc:
        errors = [FieldError("link" if e.field in ("username", "item_key") else e.field,
                                       e.message) for e in exc.errors]
        return _value_page(kind, code, errors=errors, status=INVALID)
    flash({"rename": _("Renamed: %(value)s. Items and reports keep its code.",
                       value=updated.label),
           "link": _("Link saved for %(value)s.", value=updated.label),
           "retire": _("Retired %(value)s: it stays on the items that hold it but cannot be "
                       "newly set.", value=updated.label),
           "activate": _("Reactivated %(value)s.", value=updated.label)}[action], "success")
    return redirect(url_for("reference.value", kind=updated.kind, code=updated.code))


@bp.post("/admin/reference/<kind>/merge")
@roles_required(*access.ADMINISTRATORS)
def merge(kind: str) -> ResponseReturnValue:
    """Merge the value into another: one change moves its items; the page says where it
    stands (carried through, or waiting for a change coordinator)."""
    code, target = request.form.get("code", ""), request.form.get("target", "")
    try:
        merged = reference.merge_values(database(), origin(), kind, code, target)
    except Invalid as exc:
        return _value_page(kind, code, errors=exc.errors, status=INVALID)
    except Refused as exc:
        return _value_page(kind, code, errors=[FieldError("target", str(exc))],
                           status=409)
    return _value_page(kind, merged.source, merged=merged)
