"""How many spare devices a pool needs: a Poisson base-stock calculation from the register.

A pool is an item class (subclasses included) at a location (or at every location). As the register
stood at the end of the as-of day, and over a look-back window ending then:

- installed base ``N``: items of the pool in use;
- replacements ``R``: implemented changes that took a device of the pool out of use (its status
  went from in use to maintenance or retired: it broke, or was worn out, and its user needs a
  replacement from stock). One count per device moved, so a change that retires three broken
  laptops counts three;
- replacement rate ``r`` per device per day = ``R / (N x window days)`` (or given by the user, as
  a percentage of devices per year);
- lead time ``L`` in days: the mean time from registration to implementation of the implemented
  hardware-receipt changes in the window that registered devices of the pool's class (how long
  replenishing the stock takes; without any in the window, every earlier one), or given;
- demand during the lead time ``lambda = N x r x L x (1 + growth)``;
- spares needed ``S``: the smallest stock with ``P(Poisson(lambda) <= S) >= service level``, i.e.
  the share of replacement requests the SLA wants served from stock is met while a replenishment
  is on its way. Compared with the stock on hand (items of the pool in stock).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import aliased

from bir.classes import ItemClass
from bir.items import Item, ItemVersion
from bir.queries import valid_at
from bir.vocabulary import LifecycleStatus
from usm.services.platform import Database
from usm.services.user_input import (
    InputError,
    day_end,
    parse_day,
    parse_decimal,
    parse_whole,
)
from workflows.models import Change, ChangeModel

RECEIPT_MODEL = "hardware-receipt"
REPLACED_FROM = LifecycleStatus.IN_USE.value
REPLACED_TO = (LifecycleStatus.MAINTENANCE.value, LifecycleStatus.RETIRED.value)
DAYS_PER_YEAR = Decimal(365)
SECONDS_PER_DAY = Decimal(86400)
# Input limits: (low, high) for each override; the web form and the API state the same.
WINDOW_DAYS = (7, 3650)
RATE_PERCENT = (Decimal(0), Decimal(1000))
LEAD_DAYS = (Decimal(0), Decimal(3650))
GROWTH_PERCENT = (Decimal(-100), Decimal(1000))
SERVICE_LEVEL_PERCENT = (Decimal(50), Decimal("99.99"))
DEFAULT_WINDOW_DAYS = 365
# The commonest pool: what a page or an API call without a class asks about.
DEFAULT_CLASS = "hardware.laptop"
DEFAULT_SERVICE_LEVEL = Decimal(95)
# Past this the table of cumulative probabilities would take too long to add up.
MAX_DEMAND = 100_000


# -- the Poisson base-stock calculation -----------------------------------------------------------

def poisson_cumulative(lam: float, upto: int) -> list[float]:
    """``P(X <= k)`` for ``k = 0..upto``, ``X ~ Poisson(lam)``: the exact sum of the terms
    ``e^-lam lam^k / k!`` (each computed in log space, so large ``lam`` does not underflow)."""
    if lam < 0:
        raise ValueError("the mean demand cannot be negative")
    total, sums = 0.0, []
    for k in range(upto + 1):
        if lam == 0:
            term = 1.0 if k == 0 else 0.0
        else:
            term = math.exp(-lam + k * math.log(lam) - math.lgamma(k + 1))
        total += term
        sums.append(min(total, 1.0))
    return sums


def base_stock(lam: float, service_level: float) -> int:
    """The smallest ``S`` with ``P(Poisson(lam) <= S) >= service_level`` (0 < level < 1)."""
    if not 0 < service_level < 1:
        raise ValueError("the service level is a share between 0 and 1")
    if lam > MAX_DEMAND:
        raise ValueError(f"a demand over {MAX_DEMAND} devices per lead time is out of range")
    total, k = 0.0, 0
    while True:
        term = 1.0 if lam == 0 and k == 0 else 0.0 if lam == 0 else math.exp(
            -lam + k * math.log(lam) - math.lgamma(k + 1))
        total += term
        if total >= service_level:
            return k
        k += 1


# -- the query ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SparesQuery:
    """The pool and the overrides; ``None`` for an input means 'measure it from the register'."""

    class_code: str
    location: str | None = None
    as_of: date | None = None
    window_days: int = DEFAULT_WINDOW_DAYS
    rate_percent_per_year: Decimal | None = None
    lead_time_days: Decimal | None = None
    growth_percent: Decimal = Decimal(0)
    service_level_percent: Decimal = DEFAULT_SERVICE_LEVEL


def _within(value: Decimal | None, field: str, limits: tuple[Decimal, Decimal]) -> None:
    if value is not None and not limits[0] <= value <= limits[1]:
        raise InputError(field, f"give a number from {limits[0]} to {limits[1]}, "
                                    f"not {value}")


def check_query(query: SparesQuery) -> SparesQuery:
    """The query if every input is in range; ``InputError`` naming the first that is not."""
    if not query.class_code.strip():
        raise InputError("class", "choose the item class of the pool")
    if not WINDOW_DAYS[0] <= query.window_days <= WINDOW_DAYS[1]:
        raise InputError("window_days", f"give a whole number from {WINDOW_DAYS[0]} to "
                                            f"{WINDOW_DAYS[1]}, not {query.window_days}")
    _within(query.rate_percent_per_year, "rate_percent", RATE_PERCENT)
    _within(query.lead_time_days, "lead_time_days", LEAD_DAYS)
    _within(query.growth_percent, "growth_percent", GROWTH_PERCENT)
    _within(query.service_level_percent, "service_level", SERVICE_LEVEL_PERCENT)
    location = (query.location or "").strip() or None
    return replace(query, class_code=query.class_code.strip(), location=location)


def query_from_args(args: Mapping[str, str], today: date | None = None) -> SparesQuery:
    """The query a form or URL asks for (every value text); ``InputError`` names a bad one."""
    return check_query(SparesQuery(
        class_code=args.get("class") or "",
        location=args.get("location"),
        as_of=parse_day(args.get("as_of"), default=today),
        window_days=parse_whole(args.get("window_days"), "window_days", *WINDOW_DAYS,
                                DEFAULT_WINDOW_DAYS),
        rate_percent_per_year=parse_decimal(args.get("rate_percent"), "rate_percent",
                                            *RATE_PERCENT),
        lead_time_days=parse_decimal(args.get("lead_time_days"), "lead_time_days", *LEAD_DAYS),
        growth_percent=parse_decimal(args.get("growth_percent"), "growth_percent",
                                     *GROWTH_PERCENT) or Decimal(0),
        service_level_percent=parse_decimal(args.get("service_level"), "service_level",
                                            *SERVICE_LEVEL_PERCENT) or DEFAULT_SERVICE_LEVEL,
    ))


# -- the report -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Replacement:
    item_key: str
    item_name: str
    change_key: str
    at: datetime
    to_status: str


@dataclass(frozen=True)
class Receipt:
    change_key: str
    title: str
    registered_at: datetime
    implemented_at: datetime

    @property
    def days(self) -> Decimal:
        seconds = Decimal(int((self.implemented_at - self.registered_at).total_seconds()))
        return seconds / SECONDS_PER_DAY


@dataclass(frozen=True)
class SparesReport:
    query: SparesQuery
    as_of: date
    class_name: str
    installed_base: int
    stock_on_hand: int
    replacements: list[Replacement]
    measured_rate_per_day: Decimal | None  # None without an installed base
    rate_per_day: Decimal | None
    rate_given: bool
    receipts: list[Receipt]
    measured_lead_days: Decimal | None  # None without receipts in the window
    lead_days: Decimal | None
    lead_given: bool
    demand: Decimal | None  # lambda; None when an input is missing
    spares_needed: int | None
    cumulative: list[tuple[int, float]]  # (k, P(X <= k)) around the answer
    stock_service_level: float | None  # P(X <= stock on hand)
    receipts_in_window: bool = True  # False: none in the window, so every earlier one is used

    @property
    def window_start(self) -> date:
        return self.as_of - timedelta(days=self.query.window_days)

    @property
    def growth_factor(self) -> Decimal:
        return 1 + self.query.growth_percent / 100

    @property
    def shortfall(self) -> int | None:
        """Spares still to buy (0 when the stock covers the need)."""
        if self.spares_needed is None:
            return None
        return max(0, self.spares_needed - self.stock_on_hand)

    @property
    def surplus(self) -> int | None:
        if self.spares_needed is None:
            return None
        return max(0, self.stock_on_hand - self.spares_needed)

    @property
    def missing(self) -> list[str]:
        """What the calculation lacks, for the user to give."""
        return [] if self.demand is not None else ["lead_time_days"]


def _in_class(model: Any, code: str) -> Any:
    return or_(model.class_code == code, model.class_code.like(f"{code}.%"))


def spares_report(db: Database, query: SparesQuery) -> SparesReport:
    """Measure the pool's inputs in the register (as of the end of ``query.as_of``) and compute the
    spares it needs. ``InputError`` for an unknown class or out-of-range input."""
    query = check_query(query)
    as_of = query.as_of or parse_day(None)
    moment = day_end(as_of)
    since = moment - timedelta(days=query.window_days)
    with db.reading() as session:
        class_name = session.scalar(select(ItemClass.name).where(
            ItemClass.code == query.class_code))
        if class_name is None:
            raise InputError("class", f"there is no item class '{query.class_code[:64]}'")
        pool = [valid_at(ItemVersion, moment), _in_class(ItemVersion, query.class_code)]
        if query.location:
            pool.append(ItemVersion.location == query.location)
        counts = dict(session.execute(
            select(ItemVersion.status, func.count(ItemVersion.id)).where(
                *pool, ItemVersion.status.in_((LifecycleStatus.IN_USE.value,
                                               LifecycleStatus.IN_STOCK.value)))
            .group_by(ItemVersion.status)).all())
        before, after = aliased(ItemVersion), aliased(ItemVersion)
        moved = (
            select(after.key, after.name, Change.key, after.valid_from, after.status)
            .join(before, (before.item_id == after.item_id)
                  & (before.version == after.version - 1))
            .join(Change, Change.id == after.change_id)
            .where(before.status == REPLACED_FROM, after.status.in_(REPLACED_TO),
                   _in_class(before, query.class_code),
                   after.valid_from > since, after.valid_from <= moment)
            .order_by(after.valid_from, after.key))
        if query.location:
            moved = moved.where(before.location == query.location)
        replacements = [Replacement(*row) for row in session.execute(moved)]
        registered = exists().where(ItemVersion.change_id == Change.id,
                                    _in_class(ItemVersion, query.class_code))
        receipts = [Receipt(*row) for row in session.execute(
            select(Change.key, Change.title, Change.created_at, Change.implemented_at)
            .join(ChangeModel, ChangeModel.id == Change.definition_id)
            .where(ChangeModel.code == RECEIPT_MODEL, Change.implemented_at <= moment,
                   registered)
            .order_by(Change.implemented_at, Change.key))]
    # Receipts in the window; without any, every earlier one (stock is replenished rarely).
    recent = [r for r in receipts if r.implemented_at > since]
    receipts_in_window = bool(recent) or not receipts
    receipts = recent or receipts
    report = _calculated(query, as_of, class_name, counts.get(LifecycleStatus.IN_USE.value, 0),
                         counts.get(LifecycleStatus.IN_STOCK.value, 0), replacements, receipts)
    return replace(report, receipts_in_window=receipts_in_window)


def _calculated(query: SparesQuery, as_of: date, class_name: str, base: int, stock: int,
                replacements: list[Replacement], receipts: list[Receipt]) -> SparesReport:
    measured_rate = (Decimal(len(replacements)) / (base * query.window_days)) if base else None
    given_rate = query.rate_percent_per_year
    rate_given = given_rate is not None
    rate = given_rate / 100 / DAYS_PER_YEAR if given_rate is not None else measured_rate
    measured_lead = (sum((r.days for r in receipts), Decimal(0)) / len(receipts)
                     if receipts else None)
    lead_given = query.lead_time_days is not None
    lead = query.lead_time_days if lead_given else measured_lead
    growth = 1 + query.growth_percent / 100
    demand: Decimal | None
    if base == 0 or rate == 0:
        demand = Decimal(0)  # nothing in use, or nothing ever breaks: no demand whatever the lead
    elif rate is None or lead is None:
        demand = None
    else:
        demand = base * rate * lead * growth
    needed, cumulative, stock_level = None, [], None
    if demand is not None:
        lam = float(demand)
        level = float(query.service_level_percent / 100)
        try:
            needed = base_stock(lam, level)
        except ValueError as exc:
            raise InputError("rate_percent", str(exc)) from None
        first = max(0, needed - 4)
        sums = poisson_cumulative(lam, max(needed + 2, stock))
        cumulative = [(k, sums[k]) for k in range(first, needed + 3)]
        stock_level = sums[stock]
    return SparesReport(
        query=query, as_of=as_of, class_name=class_name, installed_base=base,
        stock_on_hand=stock, replacements=replacements, measured_rate_per_day=measured_rate,
        rate_per_day=rate, rate_given=rate_given, receipts=receipts,
        measured_lead_days=measured_lead, lead_days=lead, lead_given=lead_given, demand=demand,
        spares_needed=needed, cumulative=cumulative, stock_service_level=stock_level)


def pool_choices(db: Database) -> tuple[list[tuple[str, str]], list[str]]:
    """What the pool form offers: (code, name) of every class, and the current locations."""
    with db.reading() as session:
        classes = [(code, name) for code, name in session.execute(
            select(ItemClass.code, ItemClass.name).order_by(ItemClass.code))]
        locations = list(session.scalars(select(Item.location).where(
            Item.location.is_not(None)).distinct().order_by(Item.location).limit(1000)))
    return classes, locations


__all__ = ["RECEIPT_MODEL", "REPLACED_FROM", "REPLACED_TO", "Receipt", "Replacement",
           "SparesQuery", "SparesReport", "base_stock", "check_query", "poisson_cumulative",
           "pool_choices", "query_from_args", "spares_report"]
