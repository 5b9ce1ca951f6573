"""Check-out and check-in screens: one form each, one click to submit, for one item (from its
page) or several (``?key=K&key=K2``, as the register list's selection links here); the list of
what is out (overdue first) and booked; booking and cancelling from the item's page.

Each submit calls one service function; the chore's change runs through its steps at once, and
the flash says it is done, or where the change waits and why, with a link to it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from usm.services import checkouts, register
from usm.services.errors import Invalid, UsmError
from usm.services.user_input import parse_day
from web.checkouts.blueprint import bp
from web.checkouts.messages import outcome, refusal_text
from web.support import access
from web.support.context import database
from web.support.errors import status_of
from web.support.security import roles_required

LISTED = 500  # rows each section of the list shows


def _today() -> date:
    return datetime.now(UTC).date()


def _keys(values: list[str]) -> tuple[list[str], str | None, int]:
    """The keys a form or link names; an error text and status for too many or bad ones."""
    given = [v for v in values if v and v.strip()]
    if not given:
        return [], None, 200
    try:
        return checkouts.parse_keys(given), None, 200
    except Invalid as exc:
        count = len({part for v in given for part in v.replace(",", " ").split()})
        if count > checkouts.MAX_ITEMS:
            return [], _("At most %(limit)s items can be handled at a time; %(count)s were "
                         "selected. Select fewer items.", limit=checkouts.MAX_ITEMS,
                         count=count), 400
        return [], refusal_text(exc), 400


def _lines(keys: list[str]) -> tuple[list[checkouts.ItemLine], str | None, int]:
    if not keys:
        return [], None, 200
    try:
        return checkouts.describe(database(), keys, today=_today()), None, 200
    except UsmError as exc:
        return [], refusal_text(exc), status_of(exc)


def _form(template: str, keys: list[str], error: str | None, status: int,
          values: dict[str, str] | None = None) -> ResponseReturnValue:
    lines, problem, code = _lines(keys) if error is None else ([], None, status)
    if problem:
        error, status = problem, code
    choices = register.search_choices(database())
    return render_template(template, keys=keys, lines=lines, error=error, values=values or {},
                           owners=choices.owners, locations=choices.locations,
                           today=_today(), latest_day=_today() + checkouts.MAX_AHEAD,
                           limit=checkouts.MAX_ITEMS), status


def _submitted_keys() -> tuple[list[str], str | None, int]:
    return _keys(request.form.getlist("key") + [request.form.get("keys", "")])


def _back_to(keys: list[str]) -> ResponseReturnValue:
    if len(keys) == 1:
        return redirect(url_for("register.item", key=keys[0]))
    return redirect(url_for("checkouts.overview"))


@bp.get("/checkouts/new")
@roles_required(*access.CHANGE_EDITORS)
def new() -> ResponseReturnValue:
    """The check-out form for the items of ``key`` (repeated) or ``keys`` (a list)."""
    keys, error, status = _keys(request.args.getlist("key") + [request.args.get("keys", "")])
    return _form("checkouts/new.html", keys, error, status)


@bp.post("/checkouts/new")
@roles_required(*access.CHANGE_EDITORS)
def create() -> ResponseReturnValue:
    keys, error, status = _submitted_keys()
    values = {name: request.form.get(name, "") for name in
              ("to_person", "to_location", "to_item", "expected_return")}
    values["item_keys"] = request.form.get("keys", "")
    if error is not None:
        return _form("checkouts/new.html", [], error, status, values)
    try:
        expected = parse_day(values["expected_return"], "expected_return") \
            if values["expected_return"].strip() else None
        carried = checkouts.check_out(
            database(), current_user.username, keys or [""],
            to_person=values["to_person"] or None, to_location=values["to_location"] or None,
            to_item=values["to_item"] or None, expected_return=expected)
    except UsmError as exc:
        return _form("checkouts/new.html", keys, refusal_text(exc), status_of(exc), values)
    target = next(values[n] for n in ("to_person", "to_location", "to_item")
                  if values[n].strip()).strip()
    done = _("Checked out %(items)s to %(name)s.", items=_listing(keys), name=target)
    flash(outcome(carried, done), "success" if carried.reached else "warning")
    return _back_to(keys)


def _listing(keys: list[str]) -> str:
    if len(keys) <= 3:
        return ", ".join(keys)
    return _("%(first)s and %(count)s more", first=", ".join(keys[:3]), count=len(keys) - 3)


@bp.get("/checkouts/check-in")
@roles_required(*access.CHANGE_EDITORS)
def checkin_form() -> ResponseReturnValue:
    """The check-in form: the items and who has them, and where they go (optional)."""
    keys, error, status = _keys(request.args.getlist("key") + [request.args.get("keys", "")])
    return _form("checkouts/check_in.html", keys, error, status)


@bp.post("/checkouts/check-in")
@roles_required(*access.CHANGE_EDITORS)
def checkin() -> ResponseReturnValue:
    keys, error, status = _submitted_keys()
    values = {"location": request.form.get("location", ""),
              "item_keys": request.form.get("keys", "")}
    if error is not None:
        return _form("checkouts/check_in.html", [], error, status, values)
    try:
        carried = checkouts.check_in(database(), current_user.username, keys or [""],
                                     location=values["location"] or None)
    except UsmError as exc:
        return _form("checkouts/check_in.html", keys, refusal_text(exc), status_of(exc),
                     values)
    done = _("Checked in %(items)s.", items=_listing(keys))
    flash(outcome(carried, done), "success" if carried.reached else "warning")
    return _back_to(keys)


@bp.get("/checkouts")
@roles_required(*access.CHANGE_PARTICIPANTS)
def overview() -> ResponseReturnValue:
    """Overdue check-outs first, then everything not back yet, then the bookings from today;
    ``q`` keeps the rows whose item key or person, location or item holds it."""
    text = request.args.get("q", "").strip()[:120]
    today = _today()
    db = database()
    context: dict[str, Any] = {
        "overdue": checkouts.list_checkouts(db, today=today, overdue=True, text=text,
                                            limit=LISTED),
        "current": checkouts.list_checkouts(db, today=today, text=text, limit=LISTED),
        "reservations": checkouts.upcoming(db, today=today, text=text, limit=LISTED),
    }
    return render_template("checkouts/list.html", q=text, shown=LISTED, today=today,
                           may_check_out=bool(set(current_user.roles)
                                              .intersection(access.CHANGE_EDITORS)),
                           **context)


def _item_key() -> str:
    return request.form.get("key", "").strip().upper()[:32]


def _to_item(key: str) -> ResponseReturnValue:
    if key:
        return redirect(url_for("register.item", key=key) + "#checkouts-heading")
    return redirect(url_for("checkouts.overview"))


@bp.post("/checkouts/reservations")
@roles_required(*access.CHANGE_PARTICIPANTS)
def reserve() -> ResponseReturnValue:
    """Book the item of the form for a person's days; back to the item with what happened."""
    key = _item_key()
    try:
        first = parse_day(request.form.get("starts_on") or "", "starts_on", date.min) \
            if request.form.get("starts_on", "").strip() else None
        last = parse_day(request.form.get("ends_on") or "", "ends_on", date.min) \
            if request.form.get("ends_on", "").strip() else first
        if first is None or last is None:
            raise Invalid(_("Give the first and the last day of the booking."))
        booked = checkouts.reserve(database(), current_user.username, key,
                                   person=request.form.get("person", ""), starts_on=first,
                                   ends_on=last, note=request.form.get("note"))
    except UsmError as exc:
        flash(refusal_text(exc), "error")
        return _to_item(key)
    flash(_("%(key)s is booked for %(person)s.", key=booked.item_key, person=booked.person),
          "success")
    return _to_item(booked.item_key)


@bp.post("/checkouts/reservations/<int:reservation_id>/cancel")
@roles_required(*access.CHANGE_PARTICIPANTS)
def cancel_reservation(reservation_id: int) -> ResponseReturnValue:
    key = _item_key()
    try:
        cancelled = checkouts.cancel(database(), current_user.username, reservation_id)
    except UsmError as exc:
        flash(refusal_text(exc), "error")
        return _to_item(key)
    flash(_("The booking of %(key)s for %(person)s is cancelled.", key=cancelled.item_key,
            person=cancelled.person), "success")
    return _to_item(cancelled.item_key)
