"""Check-out and check-in: one user action that is one change of the shipped ``check-out`` model,
carried through its steps at once when its guards hold (``changes.carry_through``).

When a check-out row counts as *out*: only once its change is implemented, because that is when
the register says the item is with its assignee. Before that the row is *pending* (the change
stopped where a person must act, and the row names it); a check-out whose change was rejected or
withdrawn is *void* and never counted. A check-in works the same way: the row is *returning*
while the check-in change waits, and *returned* once it is implemented (a check-in change that
was rejected or withdrawn leaves the item out, to be checked in again). An item with a pending,
out or returning row cannot be checked out again.

What the register records (the change set):

- to a person: owner = the person, status in use;
- to a location: location = it, status in use;
- to another item: an ``assigned_to`` relation from the item to the holder ("assigned to" /
  "holds"), status in use. Of the relation kinds this is the one that says who has the item
  without claiming a dependency: ``part_of`` or ``connected_to`` would make the loan count in
  impact analysis, ``assigned_to`` carries no impact.

Check-in: the owner a person check-out set is cleared, the status goes back to in stock, the
location becomes the one given (unchanged without one), and the check-out's relation ends.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, func, not_, or_, select
from sqlalchemy.orm import Session, aliased

from bir.base import utcnow
from bir.items import Item
from bir.relations import Relation
from bir.vocabulary import LifecycleStatus
from usm.checkouts import Checkout, Reservation
from usm.services import changes
from usm.services.checkouts.refusals import (
    AlreadyBooked,
    AlreadyCheckedOut,
    NotCheckedOut,
    StatusNotAllowed,
)
from usm.services.errors import FieldError, Invalid, NotFound
from usm.services.platform import Database
from usm.services.user_input import unstorable_reason
from workflows.models import Change
from workflows.skeleton import Step

MODEL = "check-out"
RELATION = "assigned_to"
KINDS = ("person", "location", "item")
MAX_ITEMS = 500  # items in one check-out or check-in: one change, one form
MAX_AHEAD = timedelta(days=2 * 366)  # the furthest an expected return or a booking may lie
NAME_LIMITS = {"person": 64, "location": 120, "item": 32}  # the register's columns
CHECKABLE = (LifecycleStatus.IN_STOCK.value, LifecycleStatus.IN_USE.value)
ENDED = (Step.REJECTED.value, Step.WITHDRAWN.value)
LOOKUP = 500  # keys per query
_SEPARATORS = re.compile(r"[\s,;]+")
# What a row's state is called (see the module's docstring).
PENDING, OUT, RETURNING, RETURNED, VOID = "pending", "out", "returning", "returned", "void"


@dataclass(frozen=True)
class CheckoutView:
    """One check-out as the screens show it; ``state`` is one of pending, out, returning,
    returned, void; ``change_step``/``change_state`` say where its change (or, while returning,
    the check-in change) stands."""

    id: int
    item_key: str
    item_name: str | None
    assignee_kind: str
    assignee: str
    checked_out_at: datetime
    expected_return: date | None
    created_by: str
    change_key: str
    change_step: str
    change_state: str
    state: str
    checkin_change_key: str | None
    checkin_change_step: str | None
    checked_in_at: datetime | None
    checked_in_by: str | None
    overdue: bool

    @property
    def counts_as_out(self) -> bool:
        return self.state in (OUT, RETURNING)


def parse_keys(texts: Iterable[str]) -> list[str]:
    """Item keys from ``texts`` (each may list several, separated by commas, spaces or new
    lines), upper-cased, each once, in order; ``Invalid`` naming ``keys`` for none, a key longer
    than any, or more than ``MAX_ITEMS``."""
    keys = list(dict.fromkeys(part.upper() for text in texts
                              for part in _SEPARATORS.split(text or "") if part))
    if not keys:
        raise Invalid([FieldError("keys", "name at least one item key")])
    if len(keys) > MAX_ITEMS:
        raise Invalid([FieldError("keys", f"at most {MAX_ITEMS} items at a time, not "
                                          f"{len(keys)}")])
    for key in keys:
        if len(key) > 32 or unstorable_reason(key):
            raise Invalid([FieldError("keys", f"{key[:40]!r} is not an item key")])
    return keys


def clean_name(value: str | None, field: str, limit: int, *, required: bool = True) -> str | None:
    """A person, location or note as typed: trimmed, within the column, storable."""
    text = (value or "").strip()
    if not text:
        if required:
            raise Invalid([FieldError(field, "is required")])
        return None
    if len(text) > limit:
        raise Invalid([FieldError(field, f"at most {limit} characters")])
    reason = unstorable_reason(text)
    if reason:
        raise Invalid([FieldError(field, reason)])
    return text


def check_day(day: date | None, field: str, today: date) -> None:
    """A day from today up to ``MAX_AHEAD``."""
    if day is None:
        return
    if day < today:
        raise Invalid([FieldError(field, f"{day.isoformat()} is in the past")])
    if day > today + MAX_AHEAD:
        raise Invalid([FieldError(field, f"{day.isoformat()} is more than two years ahead")])


def assignee_of(to_person: str | None, to_location: str | None, to_item: str | None
                ) -> tuple[str, str]:
    """(kind, name) of exactly one of the three targets."""
    given = [(kind, value) for kind, value in zip(KINDS, (to_person, to_location, to_item),
                                                   strict=True)
             if value is not None and value.strip()]
    if len(given) != 1:
        raise Invalid([FieldError("to", "give one of: a person, a location or an item")])
    kind, value = given[0]
    name = clean_name(value, f"to_{kind}", NAME_LIMITS[kind])
    assert name is not None
    return kind, name.upper() if kind == "item" else name


@dataclass(frozen=True)
class _ItemNow:
    key: str
    name: str
    status: str
    owner: str | None
    location: str | None


def _items(session: Session, keys: list[str], *, lock: bool = False) -> dict[str, _ItemNow]:
    """The items of ``keys`` as registered now; ``NotFound`` naming the first unknown key.
    ``lock`` takes their rows (PostgreSQL: FOR UPDATE; SQLite has one writer at a time), so two
    check-outs or bookings of one item are decided one after the other."""
    found: dict[str, _ItemNow] = {}
    for start in range(0, len(keys), LOOKUP):
        query = select(Item.key, Item.name, Item.status, Item.owner, Item.location).where(
            Item.key.in_(keys[start:start + LOOKUP])).order_by(Item.key)
        if lock:
            query = query.with_for_update()
        found.update((row.key, _ItemNow(*row)) for row in session.execute(query))
    unknown = [k for k in keys if k not in found]
    if unknown:
        more = f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""
        raise NotFound(f"there is no item {unknown[0]} in the register{more}")
    return found


def lock_items(session: Session, keys: list[str]) -> dict[str, _ItemNow]:
    return _items(session, keys, lock=True)


# -- reading the rows ----------------------------------------------------------------------------

_OUT = aliased(Change, name="out_change")
_BACK = aliased(Change, name="back_change")
VOID_ROW = _OUT.step.in_(ENDED)
RETURNED_ROW = _BACK.implemented_at.is_not(None)
ACTIVE_ROW = and_(not_(VOID_ROW), or_(_BACK.id.is_(None), not_(RETURNED_ROW)))
OUT_ROW = and_(_OUT.implemented_at.is_not(None), or_(_BACK.id.is_(None), not_(RETURNED_ROW)))


def _query() -> Select[Any]:
    return (select(Checkout, _OUT.step, _OUT.state, _OUT.implemented_at, _BACK.step,
                   _BACK.implemented_at, _BACK.id, Item.name)
            .join(_OUT, _OUT.id == Checkout.change_id)
            .outerjoin(_BACK, _BACK.id == Checkout.checkin_change_id)
            .outerjoin(Item, Item.key == Checkout.item_key))


def _view(row: Any, today: date) -> CheckoutView:
    c: Checkout = row[0]
    out_step, out_state, out_at, back_step, back_at, back_id, item_name = row[1:]
    returning = back_id is not None and back_at is None and back_step not in ENDED
    if out_step in ENDED:
        state = VOID
    elif back_at is not None:
        state = RETURNED
    elif out_at is None:
        state = PENDING
    else:
        state = RETURNING if returning else OUT
    return CheckoutView(
        id=c.id, item_key=c.item_key, item_name=item_name, assignee_kind=c.assignee_kind,
        assignee=c.assignee, checked_out_at=c.checked_out_at, expected_return=c.expected_return,
        created_by=c.created_by, change_key=c.change_key, change_step=out_step,
        change_state=out_state, state=state,
        checkin_change_key=c.checkin_change_key if back_id is not None else None,
        checkin_change_step=back_step, checked_in_at=c.checked_in_at,
        checked_in_by=c.checked_in_by,
        overdue=state in (OUT, RETURNING) and c.expected_return is not None
        and c.expected_return < today)


def active_in(session: Session, keys: list[str], today: date) -> dict[str, CheckoutView]:
    found: dict[str, CheckoutView] = {}
    for start in range(0, len(keys), LOOKUP):
        rows = session.execute(_query().where(Checkout.item_key.in_(keys[start:start + LOOKUP]),
                                              ACTIVE_ROW).order_by(Checkout.id))
        found.update((v.item_key, v) for v in (_view(r, today) for r in rows))
    return found


def current_checkout(db: Database, key: str, *, today: date | None = None) -> CheckoutView | None:
    """The item's pending, out or returning check-out, if any."""
    with db.reading() as session:
        return active_in(session, [key.strip().upper()], today or utcnow().date()).get(
            key.strip().upper())


def matching(text: str | None, *columns: Any) -> Any:
    """Rows whose ``columns`` hold ``text`` (any case); None without text."""
    words = (text or "").strip().lower()
    if not words:
        return None
    return or_(*(func.lower(column).contains(words, autoescape=True) for column in columns))


def list_checkouts(db: Database, *, today: date | None = None, overdue: bool = False,
                   text: str | None = None, limit: int = 100, after: int | None = None
                   ) -> list[CheckoutView]:
    """Check-outs not yet back (pending, out, returning), oldest first by id (keyset after
    ``after``); ``overdue``: only those out past their expected return; ``text``: whose item
    key or assignee holds it."""
    day = today or utcnow().date()
    query = _query().where(ACTIVE_ROW)
    if overdue:
        query = query.where(OUT_ROW, Checkout.expected_return < day)
    found = matching(text, Checkout.item_key, Checkout.assignee)
    if found is not None:
        query = query.where(found)
    if after is not None:
        query = query.where(Checkout.id > after)
    with db.reading() as session:
        rows = session.execute(query.order_by(Checkout.id).limit(limit))
        return [_view(r, day) for r in rows]


def due(db: Database, *, requested_by: str | None, until: date, today: date | None = None,
        limit: int = 50) -> list[CheckoutView]:
    """Check-outs that are out and due back by ``until`` (overdue ones included), earliest
    first; with ``requested_by``, only those that user made (a home panel's "my check-outs due
    back")."""
    day = today or utcnow().date()
    query = _query().where(OUT_ROW, Checkout.expected_return <= until)
    if requested_by is not None:
        query = query.where(Checkout.created_by == requested_by)
    with db.reading() as session:
        rows = session.execute(query.order_by(Checkout.expected_return, Checkout.id)
                               .limit(limit))
        return [_view(r, day) for r in rows]


def count_due(session: Session, *, requested_by: str, until: date) -> int:
    """How many check-outs ``requested_by`` made are out and due back by ``until``: one COUNT,
    in the caller's transaction (the header badge counts it with what else waits)."""
    query = _query().where(OUT_ROW, Checkout.expected_return <= until,
                           Checkout.created_by == requested_by)
    return int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)


def item_checkouts(db: Database, key: str, *, today: date | None = None, limit: int = 10
                   ) -> list[CheckoutView]:
    """The item's check-outs, newest first (its history of loans)."""
    day = today or utcnow().date()
    with db.reading() as session:
        rows = session.execute(_query().where(Checkout.item_key == key.strip().upper())
                               .order_by(Checkout.id.desc()).limit(limit))
        return [_view(r, day) for r in rows]


@dataclass(frozen=True)
class ItemLine:
    """An item as a check-out or check-in form lists it."""

    key: str
    name: str
    status: str
    owner: str | None
    location: str | None
    checkout: CheckoutView | None


def describe(db: Database, keys: Iterable[str], *, today: date | None = None) -> list[ItemLine]:
    """The items of ``keys`` (see ``parse_keys``) with their current check-out, in order;
    ``NotFound`` naming an unknown key."""
    wanted = parse_keys(keys)
    day = today or utcnow().date()
    with db.reading() as session:
        items = _items(session, wanted)
        rows = active_in(session, wanted, day)
    return [ItemLine(k, items[k].name, items[k].status, items[k].owner, items[k].location,
                     rows.get(k)) for k in wanted]


# -- check-out -----------------------------------------------------------------------------------

def _listed(keys: list[str]) -> str:
    shown = ", ".join(keys[:3])
    return shown if len(keys) <= 3 else f"{shown} and {len(keys) - 3} more"


def _booked_for_another(session: Session, keys: list[str], kind: str, person: str,
                        first: date, last: date) -> None:
    """A check-out may not take an item on days it is booked for someone else."""
    for start in range(0, len(keys), LOOKUP):
        query = select(Reservation).where(
            Reservation.item_key.in_(keys[start:start + LOOKUP]),
            Reservation.cancelled_at.is_(None), Reservation.starts_on <= last,
            Reservation.ends_on >= first).order_by(Reservation.starts_on, Reservation.id)
        for booking in session.scalars(query):
            if kind != "person" or booking.person.casefold() != person.casefold():
                raise AlreadyBooked(booking.item_key, booking.person, booking.starts_on,
                                    booking.ends_on)


def _refuse_active(session: Session, keys: list[str], today: date) -> None:
    for key, row in active_in(session, keys, today).items():
        raise AlreadyCheckedOut(key, row.assignee, row.checked_out_at, row.change_key,
                                pending=row.state == PENDING)


def _checkout_operations(items: dict[str, _ItemNow], keys: list[str], kind: str, name: str
                         ) -> list[dict[str, Any]]:
    ops: list[dict[str, Any]] = []
    for key in keys:
        item = items[key]
        if item.status == LifecycleStatus.IN_USE.value and (
                (kind == "person" and item.owner == name)
                or (kind == "location" and item.location == name)):
            where = "by" if kind == "person" else "at"
            raise Invalid([FieldError(f"to_{kind}", f"{key} is already in use {where} {name}")])
        if kind == "person" and item.owner != name:
            ops.append({"op": "update_item", "item": key, "owner": name})
        elif kind == "location" and item.location != name:
            ops.append({"op": "update_item", "item": key, "location": name})
        elif kind == "item":
            ops.append({"op": "add_relation", "kind": RELATION, "source": key, "target": name})
        if item.status != LifecycleStatus.IN_USE.value:
            ops.append({"op": "set_status", "item": key, "status": LifecycleStatus.IN_USE.value})
    return ops


def check_out(db: Database, username: str, keys: Iterable[str], *, to_person: str | None = None,
              to_location: str | None = None, to_item: str | None = None,
              expected_return: date | None = None, now: datetime | None = None
              ) -> changes.Carried:
    """Check the items of ``keys`` out to one person, location or item until
    ``expected_return``: one ``check-out`` change for all of them, carried through as far as
    the model allows (see ``changes.carry_through``), with a check-out row per item written in
    its transaction. Refused by name: an unknown item, a status that does not allow it, an item
    already out (or whose check-out waits), days it is booked for someone else."""
    at = now or utcnow()
    today = at.date()
    wanted = parse_keys(keys)
    kind, name = assignee_of(to_person, to_location, to_item)
    check_day(expected_return, "expected_return", today)
    with db.reading() as session:
        items = _items(session, wanted)
        if kind == "item":
            holder = _items(session, [name])[name]
            if name in items:
                raise Invalid([FieldError("to_item", f"{name} cannot be checked out to itself")])
            if holder.status not in CHECKABLE:
                raise Invalid([FieldError("to_item", f"{name} is {holder.status}: items go to "
                                                     "an item in stock or in use")])
    for key in wanted:
        if items[key].status not in CHECKABLE:
            raise StatusNotAllowed(key, items[key].status)
    operations = _checkout_operations(items, wanted, kind, name)
    title = f"Check out {_listed(wanted)} to {name}"
    until = f" until {expected_return.isoformat()}" if expected_return else ""
    impact = (f"Hands {_listed(wanted)} to {name}{until}; no service is affected "
              "(a routine check-out)")

    def record(session: Session, change: Change) -> None:
        lock_items(session, wanted)
        _refuse_active(session, wanted, today)
        _booked_for_another(session, wanted, kind, name, today, expected_return or today)
        session.add_all(Checkout(
            item_key=key, change_id=change.id, change_key=change.key, assignee_kind=kind,
            assignee=name, checked_out_at=at, expected_return=expected_return,
            created_by=username) for key in wanted)

    fields = {"handed_to": name}
    if expected_return:
        fields["expected_return"] = expected_return.isoformat()
    return changes.carry_through(
        db, username, model=MODEL, title=title[:200], operations=operations, now=at,
        with_change=record, fields=fields, **changes.chore_details(impact, at))


# -- check-in ------------------------------------------------------------------------------------

def _checkin_operations(session: Session, items: dict[str, _ItemNow],
                        rows: dict[str, CheckoutView], keys: list[str], location: str | None
                        ) -> list[dict[str, Any]]:
    ops: list[dict[str, Any]] = []
    for key in keys:
        item, row = items[key], rows[key]
        fields: dict[str, Any] = {}
        if row.assignee_kind == "person" and item.owner is not None:
            fields["owner"] = None
        if location is not None and item.location != location:
            fields["location"] = location
        if fields:
            ops.append({"op": "update_item", "item": key, **fields})
        if item.status != LifecycleStatus.IN_STOCK.value:
            ops.append({"op": "set_status", "item": key, "status": LifecycleStatus.IN_STOCK.value})
        if row.assignee_kind == "item" and _relation_exists(session, key, row.assignee):
            ops.append({"op": "remove_relation", "kind": RELATION, "source": key,
                        "target": row.assignee})
    return ops


def _relation_exists(session: Session, source: str, target: str) -> bool:
    src, dst = aliased(Item), aliased(Item)
    return session.scalar(
        select(Relation.id).join(src, src.id == Relation.source_id)
        .join(dst, dst.id == Relation.target_id)
        .where(Relation.kind == RELATION, Relation.valid_to.is_(None), src.key == source,
               dst.key == target).limit(1)) is not None


def _checked_out(session: Session, keys: list[str], today: date) -> dict[str, CheckoutView]:
    """The rows of ``keys`` that are out; ``NotCheckedOut`` naming the first that is not."""
    rows = active_in(session, keys, today)
    for key in keys:
        row = rows.get(key)
        if row is None:
            raise NotCheckedOut(key)
        if row.state == PENDING:
            raise NotCheckedOut(key, waiting=row.change_key)
        if row.state == RETURNING:
            raise NotCheckedOut(key, returning=row.checkin_change_key)
    return rows


def check_in(db: Database, username: str, keys: Iterable[str], *, location: str | None = None,
             now: datetime | None = None) -> changes.Carried:
    """Take the items of ``keys`` back in: one ``check-out`` change (the model covers both ways)
    carried through as far as it goes; each row records it. Refused by name for an item that
    is not out."""
    at = now or utcnow()
    today = at.date()
    wanted = parse_keys(keys)
    place = clean_name(location, "location", NAME_LIMITS["location"], required=False)
    with db.reading() as session:
        items = _items(session, wanted)
        rows = _checked_out(session, wanted, today)
        operations = _checkin_operations(session, items, rows, wanted, place)
    holders = list(dict.fromkeys(rows[k].assignee for k in wanted))
    source = holders[0] if len(holders) == 1 else f"{len(holders)} holders"
    title = f"Check in {_listed(wanted)} from {source}"
    into = f" into {place}" if place else ""
    impact = f"Takes {_listed(wanted)} back{into}; no service is affected (a routine check-in)"

    def record(session: Session, change: Change) -> None:
        lock_items(session, wanted)
        current = _checked_out(session, wanted, today)
        for checkout in session.scalars(select(Checkout).where(
                Checkout.id.in_([row.id for row in current.values()]))):
            checkout.checkin_change_id = change.id
            checkout.checkin_change_key = change.key
            checkout.checked_in_at = at
            checkout.checked_in_by = username

    return changes.carry_through(
        db, username, model=MODEL, title=title[:200], operations=operations, now=at,
        with_change=record, fields={"handed_to": source}, **changes.chore_details(impact, at))
