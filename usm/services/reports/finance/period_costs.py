"""Cost over a period: total cost of ownership per service, and cost per cost centre.

A period is whole calendar months, ``[start, end)`` with both dates the 1st of a month. Each month
is charged by the register as it stood at the month's last moment (UTC):

- depreciation: the periods of each item's schedule booked in that month (``depreciation``);
- recurring cost: monthly cost in full, quarterly / 3, yearly / 12, for items held that month
  (status in stock, in use or in maintenance: not planned, ordered, retired or disposed).

Per service, the items that support it through the relation graph carry their cost to it. An item
that supports several services is split: a direct ``supports`` relation with a ``share`` gives
that service that fraction; the rest (1 less the explicit shares, not below 0) is split evenly
over the other services it supports. Split amounts are summed exactly and each total is rounded
to cents once (ROUND_HALF_EVEN). Amounts are kept per currency.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bir import queries
from bir.impact import support_links
from bir.items import ItemVersion
from bir.reference import ReferenceKind, display_names
from bir.relations import Relation
from bir.vocabulary import LifecycleStatus
from usm.services.platform import Database
from usm.services.reports.finance.book_values import NO_COST_CENTRE
from usm.services.reports.finance.depreciation import Terms, add_months, cents, depreciation_between
from usm.services.user_input import InputError

MAX_MONTHS = 36
MONTHS_PER_PERIOD = {"monthly": 1, "quarterly": 3, "yearly": 12}
HELD = frozenset({LifecycleStatus.IN_STOCK.value, LifecycleStatus.IN_USE.value,
                  LifecycleStatus.MAINTENANCE.value})


def months_of(start: date, end: date) -> list[date]:
    """The first days of the months in ``[start, end)``; ``InputError`` naming ``from`` or
    ``to`` unless both are the 1st of a month, ``to`` after ``from``, at most MAX_MONTHS apart."""
    if start.day != 1:
        raise InputError("from", f"{start.isoformat()} is not the 1st of a month: a period "
                                      "is whole months")
    if end.day != 1:
        raise InputError("to", f"{end.isoformat()} is not the 1st of a month: a period is "
                                    "whole months (to is the first day after it)")
    count = (end.year - start.year) * 12 + end.month - start.month
    if count < 1:
        raise InputError("to", "must be after from")
    if count > MAX_MONTHS:
        raise InputError("to", f"a period is at most {MAX_MONTHS} months")
    return [add_months(start, k) for k in range(count)]


def default_period(day: date) -> tuple[date, date]:
    """The year to date, month of ``day`` included: 1 January up to the 1st of the next month."""
    return date(day.year, 1, 1), add_months(date(day.year, day.month, 1), 1)


@dataclass(frozen=True)
class _MonthCost:
    depreciation: Decimal
    recurring: Decimal


def _month_cost(version: ItemVersion, first: date, following: date) -> _MonthCost | None:
    if version.status == LifecycleStatus.DISPOSED.value:
        return None
    terms = Terms.of(version)
    depreciation = depreciation_between(terms, first, following) if terms else Decimal(0)
    recurring = Decimal(0)
    if (version.recurring_cost is not None and version.status in HELD
            and version.recurring_period in MONTHS_PER_PERIOD):
        recurring = version.recurring_cost / MONTHS_PER_PERIOD[version.recurring_period]
    if not depreciation and not recurring:
        return None
    return _MonthCost(depreciation, recurring)


def _month_end(first: date) -> datetime:
    return datetime.combine(add_months(first, 1), time(), UTC) - timedelta(microseconds=1)


@dataclass(frozen=True)
class CostLine:
    """The cost one group (a service or a cost centre) carried over the period in a currency."""

    group: str
    label: str
    currency: str | None
    depreciation: Decimal
    recurring: Decimal
    items: int

    @property
    def total(self) -> Decimal:
        return self.depreciation + self.recurring


class _Sums:
    def __init__(self) -> None:
        self.depreciation: dict[tuple[str, str | None], Decimal] = defaultdict(Decimal)
        self.recurring: dict[tuple[str, str | None], Decimal] = defaultdict(Decimal)
        self.items: dict[tuple[str, str | None], set[int]] = defaultdict(set)
        self.labels: dict[str, str] = {}

    def add(self, group: str, label: str, version: ItemVersion, cost: _MonthCost,
            share: Decimal = Decimal(1)) -> None:
        key = (group, version.currency)
        self.labels[group] = label
        self.depreciation[key] += cost.depreciation * share
        self.recurring[key] += cost.recurring * share
        self.items[key].add(version.item_id)

    def lines(self) -> list[CostLine]:
        return [CostLine(group, self.labels[group], currency, cents(self.depreciation[key]),
                         cents(self.recurring[key]), len(self.items[key]))
                for key in sorted(self.items, key=lambda k: (k[0], k[1] or ""))
                for group, currency in [key]]


def _versions(session: Session, moment: datetime, extra: Any = None) -> list[ItemVersion]:
    stmt = select(ItemVersion).where(queries.valid_at(ItemVersion, moment))
    if extra is not None:
        stmt = stmt.where(extra)
    return list(session.scalars(stmt))


def cost_centre_costs(db: Database, start: date, end: date) -> list[CostLine]:
    """Depreciation and recurring cost per cost centre (the item's, each month) and currency."""
    sums = _Sums()
    with db.reading() as session:
        for first in months_of(start, end):
            following = add_months(first, 1)
            costly = or_(ItemVersion.purchase_cost.is_not(None),
                         ItemVersion.recurring_cost.is_not(None))
            for version in _versions(session, _month_end(first), costly):
                cost = _month_cost(version, first, following)
                if cost is not None:
                    centre = version.cost_centre or ""
                    sums.add(centre, version.cost_centre or NO_COST_CENTRE, version, cost)
        # Grouped by the stored code, shown by the reference name: a rename does not split it.
        sums.labels.update(display_names(session, ReferenceKind.COST_CENTRE, sums.labels))
    return sums.lines()


def service_costs(db: Database, start: date, end: date) -> list[CostLine]:
    """Total cost of ownership per service and currency: the supporting items' depreciation and
    recurring cost, shared items split (see the module's text). Groups are service keys."""
    sums = _Sums()
    with db.reading() as session:
        for first in months_of(start, end):
            moment = _month_end(first)
            services = {v.item_id: v for v in _versions(session, moment,
                                                        queries.service_condition(ItemVersion))}
            if not services:
                continue
            links = support_links(session, set(services), moment)
            supported_by: dict[int, list[int]] = defaultdict(list)
            for service_id, items in links.items():
                for item_id in items:
                    supported_by[item_id].append(service_id)
            shares = _explicit_shares(session, moment, set(services))
            items = _items_by_id(session, moment, set(supported_by))
            following = add_months(first, 1)
            for item_id, service_ids in supported_by.items():
                version = items.get(item_id)
                cost = _month_cost(version, first, following) if version else None
                if version is None or cost is None:
                    continue
                for service_id, share in _split(item_id, service_ids, shares).items():
                    service = services[service_id]
                    sums.add(service.key, service.name, version, cost, share)
    return sums.lines()


def _items_by_id(session: Session, moment: datetime, ids: set[int]) -> dict[int, ItemVersion]:
    if not ids:
        return {}
    return {v.item_id: v for v in _versions(session, moment, ItemVersion.item_id.in_(ids))}


def _explicit_shares(session: Session, moment: datetime, service_ids: set[int]
                     ) -> dict[tuple[int, int], Decimal]:
    """(item, service) -> share, from direct supports relations that carry one."""
    rows = session.execute(select(Relation.source_id, Relation.target_id, Relation.attributes)
                           .where(Relation.kind == "supports", queries.valid_at(Relation, moment),
                                  Relation.target_id.in_(service_ids)))
    return {(source, target): Decimal(str(attributes["share"]))
            for source, target, attributes in rows
            if attributes and attributes.get("share") is not None}


def _split(item_id: int, service_ids: list[int], shares: dict[tuple[int, int], Decimal]
           ) -> dict[int, Decimal]:
    explicit = {s: shares[(item_id, s)] for s in service_ids if (item_id, s) in shares}
    rest = [s for s in service_ids if s not in explicit]
    split = dict(explicit)
    if rest:
        remainder = max(Decimal(0), 1 - sum(explicit.values(), Decimal(0)))
        split.update(dict.fromkeys(rest, remainder / len(rest)))
    return split
