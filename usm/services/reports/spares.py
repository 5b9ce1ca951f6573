"""How many spare devices a pool needs: a Poisson base-stock calculation from the register.

A pool is an item class (subclasses included) at a location (or at every location). As the register
stood at the end of the as-of day, and over a look-back window ending then (the register reads are
in ``spares_inputs``, each figure with the changes it came from):

- installed base ``N``: items of the pool in use;
- observation: the window, or, for a pool whose first item was registered later, the whole days
  from that registration to the as-of day (at least one; the report says the observation is short);
  a rate is never spread over days the pool was not in the register;
- replacements ``R``: failures only, measured where they can be. When failures of the pool's
  devices in the observed days were recorded from incidents (``usm.incidents``: item, moment,
  incident, replaced or repaired), ``R`` is their number ("measured"). Otherwise they are
  inferred from the register ("inferred"): a device of the pool that an implemented change took
  from in use to maintenance (a repair), or to retired by a change whose ``retirement_reason`` is
  ``failure`` or ``lost_or_stolen``: its user needs a device from stock. One count per device, so
  a change retiring three broken laptops counts three. Retirements from use for another reason
  (planned end of life, other) or without a recorded reason are not counted; they are listed, so
  a missing reason can be seen and recorded;
- replacement rate ``r`` per device per day = ``R / (N x observed days)`` (or given by the user, as
  a percentage of devices per year);
- lead time ``L`` in days: how long replenishing the stock takes, from order to delivery, the mean
  over the delivered devices of the pool's class (every location). A device's order moment is when
  it first had status ``ordered`` and its delivery when it first had ``in_stock``; a device a
  hardware receipt registered straight in stock takes the receipt's ``ordered_on`` and
  ``delivered_on`` dates. A receipt without those dates measures nothing (it is listed as such, not
  counted as a lead time of 0 days). The deliveries registered in the window are used; when none of
  them gives a lead time, every one before the end of the as-of day. Without any, the lead time
  must be given;
- demand during the lead time ``lambda = N x r x L x (1 + growth)``;
- service level: given by the user; else the highest agreed level (``spares_service_level``) of
  the services the pool's devices support; else 95%;
- spares needed ``S``: the smallest stock with ``P(Poisson(lambda) <= S) >= service level``, i.e.
  the share of replacement requests the SLA wants served from stock is met while a replenishment
  is on its way. Compared with the stock on hand (items of the pool in stock).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from bir.classes import ItemClass
from bir.items import Item, ItemVersion
from bir.queries import valid_at
from bir.vocabulary import LifecycleStatus
from usm.services.platform import Database
from usm.services.reports.spares_inputs import (
    RECEIPT_MODEL,
    REPLACED_FROM,
    REPLACED_TO,
    AgreedLevel,
    Delivery,
    Pool,
    RecordedFailure,
    Replacement,
    agreed_levels,
    delivered,
    first_registered,
    recorded_failures,
    taken_out_of_use,
)
from usm.services.user_input import (
    InputError,
    day_end,
    parse_day,
    parse_decimal,
    parse_whole,
)

DAYS_PER_YEAR = Decimal(365)
# Input limits: (low, high) for each override; the web form and the API state the same.
WINDOW_DAYS = (7, 3650)
RATE_PERCENT = (Decimal(0), Decimal(1000))
LEAD_DAYS = (Decimal(0), Decimal(3650))
GROWTH_PERCENT = (Decimal(-100), Decimal(1000))
SERVICE_LEVEL_PERCENT = (Decimal(50), Decimal("99.99"))
DEFAULT_WINDOW_DAYS = 365
# The commonest pool: what a page or an API call without a class asks about.
DEFAULT_CLASS = "hardware.laptop"
# Without a given level and without an agreed one on a supported service.
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
    """The pool and the overrides; ``None`` for an input means 'measure it from the register'
    (for the service level: take the agreed one of the services the pool supports)."""

    class_code: str
    location: str | None = None
    as_of: date | None = None
    window_days: int = DEFAULT_WINDOW_DAYS
    rate_percent_per_year: Decimal | None = None
    lead_time_days: Decimal | None = None
    growth_percent: Decimal = Decimal(0)
    service_level_percent: Decimal | None = None


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
                                            *SERVICE_LEVEL_PERCENT),
    ))


# -- the report -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class SparesReport:
    query: SparesQuery
    as_of: date
    class_name: str
    installed_base: int
    stock_on_hand: int
    replacements: list[Replacement]  # the failures R counts
    not_counted: list[Replacement]  # retirements from use that were no failure, or say no reason
    observed_from: date  # the window's start, or the pool's first registration when later
    observed_days: int
    measured_rate_per_day: Decimal | None  # None without an installed base
    rate_per_day: Decimal | None
    rate_given: bool
    deliveries: list[Delivery]  # the ones the lead time is measured over, measurable or not
    measured_lead_days: Decimal | None  # None when no delivery gives a lead time
    lead_days: Decimal | None
    lead_given: bool
    agreed_levels: list[AgreedLevel]
    service_level: Decimal  # the one used
    service_level_from: str  # "given", "service" (the highest agreed level) or "default"
    demand: Decimal | None  # lambda; None when an input is missing
    spares_needed: int | None
    cumulative: list[tuple[int, float]]  # (k, P(X <= k)) around the answer
    stock_service_level: float | None  # P(X <= stock on hand)
    deliveries_in_window: bool = True  # False: none in the window measures, every earlier is used
    # Failures recorded from incidents in the observed days; when there are any, R counts them
    # ("measured"), else the failures inferred from status moves (``replacements``, "inferred").
    recorded_failures: list[RecordedFailure] = field(default_factory=list)

    @property
    def failures_from(self) -> str:
        """Where ``R`` comes from: "measured" (recorded from incidents) or "inferred"."""
        return "measured" if self.recorded_failures else "inferred"

    @property
    def failures_counted(self) -> int:
        """``R``: the failures the rate is measured with."""
        return len(self.recorded_failures) if self.recorded_failures else len(self.replacements)

    @property
    def window_start(self) -> date:
        return self.as_of - timedelta(days=self.query.window_days)

    @property
    def observation_short(self) -> bool:
        """Whether the pool was registered after the window started (observed fewer days)."""
        return self.observed_days < self.query.window_days

    @property
    def measured_deliveries(self) -> list[Delivery]:
        return [d for d in self.deliveries if d.days is not None]

    @property
    def devices_measured(self) -> int:
        return sum(d.devices for d in self.measured_deliveries)

    @property
    def services_used(self) -> list[AgreedLevel]:
        """The services whose agreed level is the one used (the highest; ties name them all)."""
        if self.service_level_from != "service":
            return []
        return [a for a in self.agreed_levels if a.usable and a.percent == self.service_level]

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


def spares_report(db: Database, query: SparesQuery) -> SparesReport:
    """Measure the pool's inputs in the register (as of the end of ``query.as_of``) and compute the
    spares it needs. ``InputError`` for an unknown class or out-of-range input."""
    query = check_query(query)
    as_of = query.as_of or parse_day(None)
    moment = day_end(as_of)
    since = moment - timedelta(days=query.window_days)
    pool = Pool(query.class_code, query.location, moment)
    with db.reading() as session:
        found = session.execute(
            select(ItemClass.name, first_registered(pool), _count(pool, LifecycleStatus.IN_USE),
                   _count(pool, LifecycleStatus.IN_STOCK))
            .where(ItemClass.code == query.class_code)).first()
        if found is None:
            raise InputError("class", f"there is no item class '{query.class_code[:64]}'")
        class_name, first, base, stock = found
        moved = taken_out_of_use(session, pool, since)
        recorded = recorded_failures(session, pool, since)
        deliveries = delivered(session, query.class_code, moment)
        levels = agreed_levels(session, pool, SERVICE_LEVEL_PERCENT)
    observed_from, observed_days = observation(as_of, query.window_days, first)
    chosen, in_window, lead = _lead_time(deliveries, since)
    level, level_from = _service_level(query.service_level_percent, levels)
    failures = [m for m in moved if m.is_failure]
    counted = len(recorded) if recorded else len(failures)
    measured_rate = Decimal(counted) / (base * observed_days) if base else None
    rate = (query.rate_percent_per_year / 100 / DAYS_PER_YEAR
            if query.rate_percent_per_year is not None else measured_rate)
    lead_days = query.lead_time_days if query.lead_time_days is not None else lead
    demand = _demand(base, rate, lead_days, 1 + query.growth_percent / 100)
    needed, cumulative, stock_level = _base_stock_around(demand, level, stock)
    return SparesReport(
        query=query, as_of=as_of, class_name=class_name, installed_base=base,
        stock_on_hand=stock, replacements=failures,
        not_counted=[m for m in moved if not m.is_failure], observed_from=observed_from,
        observed_days=observed_days, measured_rate_per_day=measured_rate, rate_per_day=rate,
        rate_given=query.rate_percent_per_year is not None, deliveries=chosen,
        measured_lead_days=lead, lead_days=lead_days,
        lead_given=query.lead_time_days is not None, agreed_levels=levels, service_level=level,
        service_level_from=level_from, demand=demand, spares_needed=needed,
        cumulative=cumulative, stock_service_level=stock_level, deliveries_in_window=in_window,
        recorded_failures=recorded)


def _count(pool: Pool, status: LifecycleStatus) -> Any:
    """A scalar subquery: how many items of the pool had ``status`` at the pool's moment."""
    return (select(func.count(ItemVersion.id))
            .where(valid_at(ItemVersion, pool.moment), *pool.conditions(ItemVersion),
                   ItemVersion.status == status.value)
            .scalar_subquery())


def observation(as_of: date, window_days: int, first: datetime | None) -> tuple[date, int]:
    """The first day observed and the number of whole days observed up to ``as_of``: the window,
    or from the day the pool's first item was registered when that is later (at least one)."""
    window_start = as_of - timedelta(days=window_days)
    if first is None or first.date() <= window_start:
        return window_start, window_days
    return first.date(), max(1, (as_of - first.date()).days + 1)


def _lead_time(deliveries: list[Delivery], since: datetime
               ) -> tuple[list[Delivery], bool, Decimal | None]:
    """The deliveries used (those in the window when one measures, else all), whether they are
    the window's, and their mean lead time per delivered device (None when none measures)."""
    recent = [d for d in deliveries if d.registered_at > since]
    in_window = any(d.days is not None for d in recent)
    chosen = recent if in_window else deliveries
    measured = [d for d in chosen if d.days is not None]
    devices = sum(d.devices for d in measured)
    if not devices:
        return chosen, in_window or not deliveries, None
    total = sum((d.days * d.devices for d in measured if d.days is not None), Decimal(0))
    return chosen, in_window, total / devices


def _service_level(given: Decimal | None, levels: list[AgreedLevel]) -> tuple[Decimal, str]:
    if given is not None:
        return given, "given"
    usable = [a.percent for a in levels if a.usable]
    return (max(usable), "service") if usable else (DEFAULT_SERVICE_LEVEL, "default")


def _demand(base: int, rate: Decimal | None, lead: Decimal | None, growth: Decimal
            ) -> Decimal | None:
    if base == 0 or rate == 0:
        return Decimal(0)  # nothing in use, or nothing ever breaks: no demand whatever the lead
    if rate is None or lead is None:
        return None
    return base * rate * lead * growth


def _base_stock_around(demand: Decimal | None, level_percent: Decimal, stock: int
                       ) -> tuple[int | None, list[tuple[int, float]], float | None]:
    """The spares needed, the cumulative probabilities around them and the level the stock
    gives; nothing without a demand."""
    if demand is None:
        return None, [], None
    lam = float(demand)
    try:
        needed = base_stock(lam, float(level_percent / 100))
    except ValueError as exc:
        raise InputError("rate_percent", str(exc)) from None
    sums = poisson_cumulative(lam, max(needed + 2, stock))
    cumulative = [(k, sums[k]) for k in range(max(0, needed - 4), needed + 3)]
    return needed, cumulative, sums[stock]


def pool_choices(db: Database) -> tuple[list[tuple[str, str]], list[str]]:
    """What the pool form offers: (code, name) of every class, and the current locations."""
    with db.reading() as session:
        classes = [(code, name) for code, name in session.execute(
            select(ItemClass.code, ItemClass.name).order_by(ItemClass.code))]
        locations = list(session.scalars(select(Item.location).where(
            Item.location.is_not(None)).distinct().order_by(Item.location).limit(1000)))
    return classes, locations



__all__ = ["RECEIPT_MODEL", "REPLACED_FROM", "REPLACED_TO", "AgreedLevel", "Delivery",
           "RecordedFailure", "Replacement", "SparesQuery", "SparesReport", "base_stock", "check_query",
           "observation", "poisson_cumulative", "pool_choices", "query_from_args",
           "spares_report"]
