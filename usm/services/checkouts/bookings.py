"""Reservations: an item booked for a person for whole days (start and end included).

A booking changes no managed attribute of the item (owner, status, location stay as they are
until a check-out changes them), so by USM's scope rule it is not a change: it is stored here
directly, with who made it and when, and a cancellation keeps the row (who, when). Two bookings
of one item may not overlap: the item's register row is locked while the overlap is checked and
the booking written (PostgreSQL: FOR UPDATE; SQLite allows one writer at a time), so two people
booking the same days at once end with one booking and one refusal that names the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bir.base import utcnow
from usm.checkouts import Reservation
from usm.services.checkouts.handouts import (
    CHECKABLE,
    NAME_LIMITS,
    check_day,
    clean_name,
    lock_items,
    matching,
    parse_keys,
)
from usm.services.checkouts.refusals import AlreadyBooked, StatusNotAllowed
from usm.services.errors import FieldError, Invalid, NotFound, Refused
from usm.services.platform import Database

MAX_NOTE = 500


@dataclass(frozen=True)
class ReservationView:
    id: int
    item_key: str
    person: str
    starts_on: date
    ends_on: date
    note: str | None
    created_by: str
    created_at: datetime
    cancelled_at: datetime | None
    cancelled_by: str | None


def _view(row: Reservation) -> ReservationView:
    return ReservationView(row.id, row.item_key, row.person, row.starts_on, row.ends_on, row.note,
                           row.created_by, row.created_at, row.cancelled_at, row.cancelled_by)


def reserve(db: Database, username: str, key: str, *, person: str, starts_on: date,
            ends_on: date, note: str | None = None, now: datetime | None = None
            ) -> ReservationView:
    """Book the item for ``person`` from ``starts_on`` to ``ends_on`` (both included).

    Refused by name: an unknown item, one that cannot be handed out (retired, disposed, not yet
    delivered), days in the past or more than two years ahead, an end before the start, and
    days that overlap another booking of the item (``AlreadyBooked`` names it)."""
    at = now or utcnow()
    today = at.date()
    keys = parse_keys([key or ""])
    if len(keys) != 1:
        raise Invalid([FieldError("key", "name one item key")])
    item_key = keys[0]
    who = clean_name(person, "person", NAME_LIMITS["person"])
    text = clean_name(note, "note", MAX_NOTE, required=False)
    check_day(starts_on, "starts_on", today)
    check_day(ends_on, "ends_on", today)
    if ends_on < starts_on:
        raise Invalid([FieldError("ends_on", "is before the first day")])
    assert who is not None
    with db.transaction() as session:
        item = lock_items(session, [item_key])[item_key]
        if item.status not in CHECKABLE:
            raise StatusNotAllowed(item_key, item.status)
        clash = session.scalars(select(Reservation).where(
            Reservation.item_key == item_key, Reservation.cancelled_at.is_(None),
            Reservation.starts_on <= ends_on, Reservation.ends_on >= starts_on)
            .order_by(Reservation.starts_on, Reservation.id).limit(1)).first()
        if clash is not None:
            raise AlreadyBooked(item_key, clash.person, clash.starts_on, clash.ends_on)
        row = Reservation(item_key=item_key, person=who, starts_on=starts_on, ends_on=ends_on,
                          note=text, created_by=username, created_at=at)
        session.add(row)
        session.flush()
        return _view(row)


def cancel(db: Database, username: str, reservation_id: int, *, now: datetime | None = None
           ) -> ReservationView:
    """Cancel a booking (kept, with who cancelled it and when); ``NotFound`` for no such
    booking, ``Refused`` for one already cancelled or already over."""
    at = now or utcnow()
    with db.transaction() as session:
        row = session.scalar(select(Reservation).where(Reservation.id == reservation_id)
                             .with_for_update())
        if row is None:
            raise NotFound(f"there is no reservation {reservation_id}")
        if row.cancelled_at is not None:
            raise Refused(f"reservation {reservation_id} of {row.item_key} was already cancelled")
        if row.ends_on < at.date():
            raise Refused(f"reservation {reservation_id} of {row.item_key} is already over")
        row.cancelled_at, row.cancelled_by = at, username
        session.flush()
        return _view(row)


def reservations(db: Database, *, item_key: str | None = None, today: date | None = None,
                 limit: int = 100, after: int | None = None) -> list[ReservationView]:
    """Bookings not cancelled that end today or later, by id (keyset after ``after``);
    ``item_key`` for one item's."""
    day = today or utcnow().date()
    query = select(Reservation).where(Reservation.cancelled_at.is_(None),
                                      Reservation.ends_on >= day)
    if item_key is not None:
        query = query.where(Reservation.item_key == item_key.strip().upper())
    if after is not None:
        query = query.where(Reservation.id > after)
    with db.reading() as session:
        return [_view(r) for r in session.scalars(query.order_by(Reservation.id).limit(limit))]


def upcoming(db: Database, *, item_key: str | None = None, today: date | None = None,
             text: str | None = None, limit: int = 200) -> list[ReservationView]:
    """Bookings not cancelled that end today or later, soonest first (the screens' order);
    ``text``: whose item key or person holds it."""
    with db.reading() as session:
        return upcoming_in(session, item_key=item_key, today=today or utcnow().date(),
                           text=text, limit=limit)


def upcoming_in(session: Session, *, item_key: str | None, today: date, text: str | None = None,
                limit: int = 200) -> list[ReservationView]:
    """``upcoming`` in the caller's transaction (an item page reads its panel in one)."""
    query = select(Reservation).where(Reservation.cancelled_at.is_(None),
                                      Reservation.ends_on >= today)
    found = matching(text, Reservation.item_key, Reservation.person)
    if found is not None:
        query = query.where(found)
    if item_key is not None:
        query = query.where(Reservation.item_key == item_key.strip().upper())
    return [_view(r) for r in session.scalars(
        query.order_by(Reservation.starts_on, Reservation.id).limit(limit))]
