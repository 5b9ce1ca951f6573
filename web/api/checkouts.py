"""Check-outs and reservations over the API: check items out and in (each one change of the
``check-out`` model, carried through its steps at once when its guards hold), list what is out
or overdue, and book items for a person's days (bookings are not changes)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from flask import request, url_for

from usm.services import checkouts
from usm.services.cursors import encode_cursor
from usm.services.user_input import InputError
from web.api.auth import holder, roles_required
from web.api.blueprint import bp
from web.api.pagination import after_key
from web.api.schemas.checkouts import (
    Assignee,
    CarriedOut,
    CheckIn,
    CheckOut,
    CheckoutOut,
    CheckoutPage,
    CheckoutsQuery,
    CreateReservation,
    ReservationOut,
    ReservationPage,
    ReservationsQuery,
)
from web.api.spec import api_spec, responses
from web.support import access
from web.support.context import database

TAGS = ["check-outs"]
RESERVATION_ID = "<int(min=1):reservation_id>"
T = TypeVar("T")


def _after(cursor: str | None) -> int | None:
    key = after_key(cursor)
    if key is None:
        return None
    if not key.isdigit() or len(key) > 10:
        raise InputError("cursor", "use the cursor of a previous page's next link")
    return int(key)


def _page(rows: Sequence[T], limit: int, ids: Sequence[int]) -> tuple[Sequence[T], str | None]:
    """The first ``limit`` rows (``limit + 1`` were read) and the next page's URL, if any."""
    if len(rows) <= limit:
        return rows, None
    args = {k: v for k, v in request.args.items() if k != "cursor"}
    assert request.endpoint is not None
    return rows[:limit], url_for(request.endpoint, **args, cursor=encode_cursor(str(ids[limit - 1])))


def _carried(done: checkouts.Carried) -> tuple[CarriedOut, int, dict[str, str]]:
    location = url_for("api.get_change", key=done.key)
    return (CarriedOut(key=done.key, state=done.state, state_label=done.state_label,
                       step=done.step, reached=done.reached, blocked=list(done.blocked),
                       change=location), 201, {"Location": location})


@bp.post("/checkouts")
@roles_required(*access.CHANGE_EDITORS)
@api_spec.validate(json=CheckOut, resp=responses(
    "HTTP_400", "HTTP_404", "HTTP_409", "HTTP_415", HTTP_201=CarriedOut), tags=TAGS,
    operation_id="checkOut")
def check_out(json: CheckOut) -> Any:
    """Check items out to a person, a location or another item: one change, run through

    Registers one change of the `check-out` model for all the items and carries it through its
    steps at once: with the model's guards met it is closed (`reached`), and the register shows
    the new owner, location or relation and the status in use. Where a guard does not hold, the
    change waits (`blocked` says why) and the items count as out once it is implemented. An item
    already out, or booked for someone else in the days, is a 409 naming it; an unknown item a
    404; a status that does not allow it, or bad days, a 422.
    """
    target = {f"to_{json.to.kind}": json.to.name}
    done = checkouts.check_out(database(), holder().username, json.keys,
                               expected_return=json.expected_return, **target)
    return _carried(done)


@bp.post("/checkouts/check-in")
@roles_required(*access.CHANGE_EDITORS)
@api_spec.validate(json=CheckIn, resp=responses(
    "HTTP_400", "HTTP_404", "HTTP_409", "HTTP_415", HTTP_201=CarriedOut), tags=TAGS,
    operation_id="checkIn")
def check_in(json: CheckIn) -> Any:
    """Check items back in: one change, run through

    The owner a check-out to a person set is cleared, the status goes back to in stock, the
    location becomes the one given (unchanged without one) and a check-out's relation ends. An
    item that is not out is a 409 naming it.
    """
    done = checkouts.check_in(database(), holder().username, json.keys,
                              location=json.location)
    return _carried(done)


def _checkout_out(row: checkouts.CheckoutView) -> CheckoutOut:
    return CheckoutOut(
        id=row.id, item=row.item_key, item_name=row.item_name,
        to=Assignee(kind=row.assignee_kind, name=row.assignee),
        checked_out_at=row.checked_out_at, expected_return=row.expected_return,
        created_by=row.created_by, change=row.change_key, state=row.state,  # type: ignore[arg-type]
        change_step=row.change_step, checkin_change=row.checkin_change_key, overdue=row.overdue)


@bp.get("/checkouts")
@roles_required(*access.CHANGE_PARTICIPANTS)
@api_spec.validate(query=CheckoutsQuery, resp=responses(HTTP_200=CheckoutPage), tags=TAGS,
                   operation_id="listCheckouts")
def list_checkouts(query: CheckoutsQuery) -> CheckoutPage:
    """Check-outs not back yet (pending, out, returning), oldest first; `overdue=true`: only
    those out past their expected return"""
    rows = checkouts.list_checkouts(database(), today=datetime.now(UTC).date(),
                                    overdue=query.overdue, limit=query.limit + 1,
                                    after=_after(query.cursor))
    shown, next_url = _page(rows, query.limit, [r.id for r in rows])
    return CheckoutPage(checkouts=[_checkout_out(r) for r in shown], next=next_url)


def _reservation_out(row: checkouts.ReservationView) -> ReservationOut:
    return ReservationOut(id=row.id, item=row.item_key, person=row.person,
                          starts_on=row.starts_on, ends_on=row.ends_on, note=row.note,
                          created_by=row.created_by, created_at=row.created_at,
                          cancelled_at=row.cancelled_at, cancelled_by=row.cancelled_by)


@bp.get("/reservations")
@roles_required(*access.CHANGE_PARTICIPANTS)
@api_spec.validate(query=ReservationsQuery, resp=responses(HTTP_200=ReservationPage), tags=TAGS,
                   operation_id="listReservations")
def list_reservations(query: ReservationsQuery) -> ReservationPage:
    """Bookings that are not cancelled and end today or later, in the order they were made"""
    rows = checkouts.reservations(database(), item_key=query.item,
                                  today=datetime.now(UTC).date(), limit=query.limit + 1,
                                  after=_after(query.cursor))
    shown, next_url = _page(rows, query.limit, [r.id for r in rows])
    return ReservationPage(reservations=[_reservation_out(r) for r in shown], next=next_url)


@bp.post("/reservations")
@roles_required(*access.CHANGE_PARTICIPANTS)
@api_spec.validate(json=CreateReservation, resp=responses(
    "HTTP_400", "HTTP_404", "HTTP_409", "HTTP_415", HTTP_201=ReservationOut), tags=TAGS,
    operation_id="createReservation")
def create_reservation(json: CreateReservation) -> Any:
    """Book an item for a person from one day to another (both included)

    A booking changes nothing in the register, so it is not a change. Days that overlap another
    booking of the item are a 409 naming it ("LAP-000003 is already booked for Iris van Dijk
    from 2026-12-10 to 2026-12-12"); an unknown item a 404; days in the past, more than two years
    ahead or an end before the start a 422.
    """
    row = checkouts.reserve(database(), holder().username, json.item, person=json.person,
                            starts_on=json.starts_on, ends_on=json.ends_on, note=json.note)
    return _reservation_out(row), 201


@bp.delete(f"/reservations/{RESERVATION_ID}")
@roles_required(*access.CHANGE_PARTICIPANTS)
@api_spec.validate(resp=responses("HTTP_404", "HTTP_409", HTTP_200=ReservationOut), tags=TAGS,
                   operation_id="cancelReservation")
def cancel_reservation(reservation_id: int) -> Any:
    """Cancel a booking: it is kept, with who cancelled it and when; one already cancelled or
    over is a 409"""
    return _reservation_out(checkouts.cancel(database(), holder().username, reservation_id))
