"""Book values at a moment and disposals with their gain or loss, read from the register's versions.

Every figure uses the item as the register held it at the moment asked (cost, residual, method,
dates), so a later correction does not rewrite an earlier answer. Amounts are grouped by currency
and never added across currencies.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, aliased

from bir import queries
from bir.classes import ItemClass
from bir.impact import supporting_item_ids
from bir.items import ItemVersion
from bir.reference import ReferenceKind, display_names
from bir.vocabulary import LifecycleStatus
from usm.services.errors import NotFound
from usm.services.platform import Database
from usm.services.reports.finance.depreciation import ZERO, Period, Terms, book_value_on, schedule
from usm.services.user_input import InputError
from workflows.models import Change

DISPOSED = LifecycleStatus.DISPOSED.value
NO_COST_CENTRE = "(no cost centre)"




class ItemNotFound(NotFound):
    pass



@dataclass(frozen=True)
class ItemBookValue:
    key: str
    name: str
    class_code: str
    class_name: str
    status: str
    cost_centre: str | None
    currency: str | None
    method: str
    start: date | None
    cost: Decimal
    book_value: Decimal

    @property
    def depreciated(self) -> Decimal:
        return self.cost - self.book_value


@dataclass(frozen=True)
class GroupTotal:
    """Items of one group (a class, a cost centre, or all) in one currency."""

    group: str
    label: str
    currency: str | None
    items: int
    cost: Decimal
    book_value: Decimal

    @property
    def depreciated(self) -> Decimal:
        return self.cost - self.book_value


@dataclass(frozen=True)
class BookValueReport:
    at: datetime
    items: list[ItemBookValue]
    totals: list[GroupTotal]
    by_class: list[GroupTotal]
    by_cost_centre: list[GroupTotal]
    # Items with a cost but no currency: left out (their amounts cannot be totalled); the
    # lifecycle report's data quality lists them with the change that fixes them.
    without_currency: int = 0


def book_values(db: Database, at: datetime, *, class_code: str | None = None,
                cost_centre: str | None = None, service_key: str | None = None
                ) -> BookValueReport:
    """Book value at ``at`` of every item held then (with a cost, not disposed), optionally only
    those of a class (subclasses included), of a cost centre, or supporting a service (each in
    full). Raises ``InputError`` naming the filter the register does not know."""
    for name, value in (("class", class_code), ("cost_centre", cost_centre),
                        ("service", service_key)):
        if value and ("\x00" in value or len(value) > 200):
            raise InputError(name, "is not a value the register can hold")
    with db.reading() as session:
        stmt = (select(ItemVersion, ItemClass.name)
                .join(ItemClass, ItemClass.code == ItemVersion.class_code)
                .where(queries.valid_at(ItemVersion, at), ItemVersion.purchase_cost.is_not(None),
                       ItemVersion.status != DISPOSED)
                .order_by(ItemVersion.key))
        if class_code:
            if session.get(ItemClass, class_code) is None:
                raise InputError("class", f"{class_code!r} is not an item class")
            stmt = stmt.where(or_(ItemVersion.class_code == class_code,
                                  ItemVersion.class_code.like(f"{class_code}.%")))
        if cost_centre:
            stmt = stmt.where(ItemVersion.cost_centre == cost_centre)
        if service_key:
            ids = supporting_item_ids(session, _service_id(session, service_key, at), at)
            stmt = stmt.where(ItemVersion.item_id.in_(ids))
        found = [_item_book_value(version, name, at.date())
                 for version, name in session.execute(stmt)]
        # Grouped by the stored code, shown by the reference name: a rename does not split it.
        centres = display_names(session, ReferenceKind.COST_CENTRE,
                                (r.cost_centre or "" for r in found))
    rows = [r for r in found if r.currency]
    return BookValueReport(
        at, rows, _totals(rows, lambda r: ("all", "All items")),
        _totals(rows, lambda r: (r.class_code, r.class_name)),
        _totals(rows, lambda r: (r.cost_centre or "", centres.get(r.cost_centre or "")
                                 or r.cost_centre or NO_COST_CENTRE)),
        without_currency=len(found) - len(rows))


def _service_id(session: Session, key: str, at: datetime) -> int:
    version = session.scalar(select(ItemVersion).where(
        ItemVersion.key == key.strip().upper(), queries.valid_at(ItemVersion, at)))
    if version is None or not queries.is_service_class(version.class_code):
        raise InputError("service", f"{key!r} is not a service in the register at "
                                         f"{at.date().isoformat()}")
    return version.item_id


def _item_book_value(version: ItemVersion, class_name: str, day: date) -> ItemBookValue:
    terms = Terms.of(version)
    assert terms is not None
    return ItemBookValue(version.key, version.name, version.class_code, class_name,
                         version.status, version.cost_centre, version.currency, terms.method,
                         terms.start, terms.cost, book_value_on(terms, day))


def _totals(rows: Iterable[ItemBookValue], group_of) -> list[GroupTotal]:  # type: ignore[no-untyped-def]
    count: dict[tuple[str, str, str | None], int] = defaultdict(int)
    cost: dict[tuple[str, str, str | None], Decimal] = defaultdict(lambda: ZERO)
    book: dict[tuple[str, str, str | None], Decimal] = defaultdict(lambda: ZERO)
    for row in rows:
        key = (*group_of(row), row.currency)
        count[key] += 1
        cost[key] += row.cost
        book[key] += row.book_value
    return [GroupTotal(g, label, currency, count[(g, label, currency)], cost[(g, label, currency)],
                       book[(g, label, currency)])
            for g, label, currency in sorted(count, key=lambda k: (k[0], k[2] or ""))]


@dataclass(frozen=True)
class ItemSchedule:
    key: str
    name: str
    currency: str | None
    as_of: datetime
    terms: Terms | None
    periods: tuple[Period, ...]
    book_value: Decimal | None
    disposed: bool


def item_schedule(db: Database, key: str, at: datetime) -> ItemSchedule:
    """The depreciation schedule of an item as registered at ``at``, with its book value then.
    ``ItemNotFound`` when no such item existed at that moment."""
    key = key.strip().upper()
    if "\x00" in key:
        raise ItemNotFound("no such item in the register")
    with db.reading() as session:
        version = session.scalar(select(ItemVersion).where(
            ItemVersion.key == key[:32], queries.valid_at(ItemVersion, at)))
        if version is None:
            raise ItemNotFound(f"no item {key[:32]} in the register at {at.date().isoformat()}")
        terms = Terms.of(version)
        disposed = version.status == DISPOSED
    value = None if terms is None else (ZERO if disposed else book_value_on(terms, at.date()))
    return ItemSchedule(version.key, version.name, version.currency, at, terms,
                        schedule(terms) if terms else (), value, disposed)


@dataclass(frozen=True)
class Disposal:
    key: str
    name: str
    class_code: str
    disposed_at: datetime
    change_key: str
    change_title: str
    currency: str | None
    cost: Decimal | None
    book_value: Decimal
    proceeds: Decimal

    @property
    def gain(self) -> Decimal:
        """Proceeds less the book value at disposal; negative is a loss."""
        return self.proceeds - self.book_value


def disposals(db: Database, start: datetime, end: datetime) -> list[Disposal]:
    """Items disposed of in ``start`` <= moment < ``end``: the version whose status became
    disposed, with its book value at that moment (by the terms it carried) and its proceeds."""
    before = aliased(ItemVersion)
    stmt = (
        select(ItemVersion, Change.key, Change.title)
        .join(before, and_(before.item_id == ItemVersion.item_id,
                           before.version == ItemVersion.version - 1))
        .join(Change, Change.id == ItemVersion.change_id)
        .where(ItemVersion.status == DISPOSED, before.status != DISPOSED,
               ItemVersion.valid_from >= start, ItemVersion.valid_from < end)
        .order_by(ItemVersion.valid_from, ItemVersion.key)
    )
    with db.reading() as session:
        found = []
        for version, change_key, title in session.execute(stmt):
            terms = Terms.of(version)
            book = book_value_on(terms, version.valid_from.date()) if terms else ZERO
            found.append(Disposal(version.key, version.name, version.class_code,
                                  version.valid_from, change_key, title, version.currency,
                                  version.purchase_cost, book, version.disposal_proceeds or ZERO))
    return found
