"""The lifecycle report: what expires (warranty, lease), what is past its end of life, what lies in
stock, which items in use lack an owner or cost centre, and how many items are in each status, all
as the register (BIR) stood at the end of a given day. Read only, in five queries whatever the
register's size."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select

from bir.classes import ItemClass
from bir.items import MONEY_FIELDS, ItemVersion
from bir.queries import valid_at
from bir.vocabulary import LifecycleStatus
from usm.services.platform import Database
from usm.services.user_input import InputError, day_end

# Items that have left the estate: their dates no longer call for action.
GONE = (LifecycleStatus.RETIRED.value, LifecycleStatus.DISPOSED.value)
MIN_DAYS, MAX_DAYS, DEFAULT_DAYS = 1, 3650, 90
CHART_MONTHS = 12


@dataclass(frozen=True)
class LifecycleItem:
    key: str
    name: str
    class_code: str
    class_name: str
    status: str
    owner: str | None
    location: str | None
    cost_centre: str | None


@dataclass(frozen=True)
class Expiry:
    item: LifecycleItem
    kind: str  # "warranty" or "lease"
    ends_on: date
    days_left: int


@dataclass(frozen=True)
class PastEndOfLife:
    item: LifecycleItem
    end_of_life: date
    days_past: int


@dataclass(frozen=True)
class StockLine:
    class_code: str
    class_name: str
    location: str | None
    count: int


@dataclass(frozen=True)
class MissingData:
    item: LifecycleItem
    missing: tuple[str, ...]  # "owner", "cost centre", "currency"


@dataclass(frozen=True)
class MonthExpiries:
    month: date  # first day of the month
    warranty: int
    lease: int


@dataclass(frozen=True)
class LifecycleReport:
    as_of: date
    days: int
    expiring: list[Expiry]
    past_end_of_life: list[PastEndOfLife]
    stock: list[StockLine]
    data_quality: list[MissingData]
    status_counts: list[tuple[str, int]]
    months: list[MonthExpiries]

    @property
    def until(self) -> date:
        return self.as_of + timedelta(days=self.days)

    @property
    def stock_total(self) -> int:
        return sum(line.count for line in self.stock)


def check_days(days: int) -> int:
    if not MIN_DAYS <= days <= MAX_DAYS:
        raise InputError("days", f"give a whole number from {MIN_DAYS} to {MAX_DAYS}, "
                                     f"not {days}")
    return days


def month_starts(first: date, count: int = CHART_MONTHS) -> list[date]:
    """The first days of ``count`` months, starting with the month of ``first``."""
    year, month = first.year, first.month
    starts = []
    for _ in range(count):
        starts.append(date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return starts


def _item(version: ItemVersion, class_name: str) -> LifecycleItem:
    return LifecycleItem(version.key, version.name, version.class_code, class_name,
                         version.status, version.owner, version.location, version.cost_centre)


# An item with an amount but no currency: its amounts cannot be totalled, so finance leaves it out
# and data quality lists it.
AMOUNT_WITHOUT_CURRENCY = and_(ItemVersion.currency.is_(None), or_(
    *(getattr(ItemVersion, name).is_not(None) for name in MONEY_FIELDS)))


def _missing(version: ItemVersion) -> tuple[str, ...]:
    in_use = version.status == LifecycleStatus.IN_USE.value
    missing = [label for label, value in (("owner", version.owner),
                                          ("cost centre", version.cost_centre))
               if in_use and value is None]
    if version.currency is None and any(getattr(version, name) is not None
                                        for name in MONEY_FIELDS):
        missing.append("currency")
    return tuple(missing)


def lifecycle_report(db: Database, as_of: date, days: int = DEFAULT_DAYS) -> LifecycleReport:
    """The lifecycle figures as the register stood at the end of ``as_of`` (UTC): expiries from
    ``as_of`` through ``as_of + days`` and per month for twelve months; end of life before
    ``as_of``; items of retired or disposed status are left out of both."""
    check_days(days)
    moment = day_end(as_of)
    until = as_of + timedelta(days=days)
    months = month_starts(as_of, CHART_MONTHS + 1)
    horizon = max(until, months[-1] - timedelta(days=1))

    def versions(*conditions: Any) -> Any:
        return (select(ItemVersion, ItemClass.name)
                .join(ItemClass, ItemClass.code == ItemVersion.class_code)
                .where(valid_at(ItemVersion, moment), *conditions))

    with db.reading() as session:
        in_estate = ItemVersion.status.not_in(GONE)
        expiring_rows = session.execute(versions(in_estate, or_(
            ItemVersion.warranty_end.between(as_of, horizon),
            ItemVersion.lease_end.between(as_of, horizon)))).all()
        eol_rows = session.execute(versions(in_estate, ItemVersion.end_of_life < as_of)
                                   .order_by(ItemVersion.end_of_life, ItemVersion.key)).all()
        stock_rows = session.execute(
            select(ItemVersion.class_code, ItemClass.name, ItemVersion.location,
                   func.count(ItemVersion.id))
            .join(ItemClass, ItemClass.code == ItemVersion.class_code)
            .where(valid_at(ItemVersion, moment),
                   ItemVersion.status == LifecycleStatus.IN_STOCK.value)
            .group_by(ItemVersion.class_code, ItemClass.name, ItemVersion.location)).all()
        quality_rows = session.execute(versions(or_(
            and_(ItemVersion.status == LifecycleStatus.IN_USE.value,
                 or_(ItemVersion.owner.is_(None), ItemVersion.cost_centre.is_(None))),
            and_(in_estate, AMOUNT_WITHOUT_CURRENCY)))
            .order_by(ItemVersion.key)).all()
        status_rows = dict(session.execute(
            select(ItemVersion.status, func.count(ItemVersion.id))
            .where(valid_at(ItemVersion, moment)).group_by(ItemVersion.status)).all())

    expiring: list[Expiry] = []
    per_month = {start: {"warranty": 0, "lease": 0} for start in months[:-1]}
    for version, class_name in expiring_rows:
        for kind, ends_on in (("warranty", version.warranty_end), ("lease", version.lease_end)):
            if ends_on is None or not as_of <= ends_on <= horizon:
                continue
            if ends_on <= until:
                expiring.append(Expiry(_item(version, class_name), kind, ends_on,
                                       (ends_on - as_of).days))
            start = ends_on.replace(day=1)
            if start in per_month:
                per_month[start][kind] += 1
    expiring.sort(key=lambda e: (e.ends_on, e.item.key, e.kind))
    return LifecycleReport(
        as_of=as_of, days=days, expiring=expiring,
        past_end_of_life=[PastEndOfLife(_item(v, name), v.end_of_life, (as_of - v.end_of_life).days)
                          for v, name in eol_rows],
        stock=sorted((StockLine(code, name, location, count)
                      for code, name, location, count in stock_rows),
                     key=lambda s: (s.class_name, s.location or "")),
        data_quality=[MissingData(_item(v, name), _missing(v)) for v, name in quality_rows],
        status_counts=[(status.value, status_rows.get(status.value, 0))
                       for status in LifecycleStatus],
        months=[MonthExpiries(start, counts["warranty"], counts["lease"])
                for start, counts in per_month.items()],
    )


__all__ = ["DEFAULT_DAYS", "GONE", "MAX_DAYS", "MIN_DAYS", "Expiry", "LifecycleItem",
           "LifecycleReport", "MissingData", "MonthExpiries", "PastEndOfLife", "StockLine",
           "check_days", "lifecycle_report", "month_starts"]
