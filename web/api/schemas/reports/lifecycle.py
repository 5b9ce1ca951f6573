"""Schemas of the lifecycle and spares reports in the API."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints, WithJsonSchema

from usm.services import reports
from web.api.schemas.common import Day, Query


def _number(low: Decimal, high: Decimal, description: str) -> Any:
    return Annotated[Decimal, Field(ge=low, le=high, allow_inf_nan=False), WithJsonSchema(
        {"type": "number", "minimum": float(low), "maximum": float(high),
         "description": description})]


class LifecycleQuery(Query):
    as_of: Day | None = Field(None, description="the day (YYYY-MM-DD) whose end the register "
                                                 "is read at, UTC; today when left out")
    days: Annotated[int, Field(ge=reports.MIN_DAYS, le=reports.MAX_DAYS)] = Field(
        reports.DEFAULT_DAYS, description="warranties and leases ending from as_of up to "
                                            "this many days later (1..3650)")


class ItemRef(BaseModel):
    key: str
    name: str
    class_code: str
    class_name: str
    status: str
    owner: str | None
    location: str | None
    cost_centre: str | None


class ExpiryOut(ItemRef):
    kind: str = Field(description="warranty or lease")
    ends_on: date
    days_left: int


class EndOfLifeOut(ItemRef):
    end_of_life: date
    days_past: int


class StockOut(BaseModel):
    class_code: str
    class_name: str
    location: str | None
    count: int


class MissingDataOut(ItemRef):
    missing: list[str] = Field(description="'owner' and/or 'cost centre'")


class StatusCount(BaseModel):
    status: str
    count: int


class MonthOut(BaseModel):
    month: str = Field(description="YYYY-MM")
    warranty: int
    lease: int


class LifecycleOut(BaseModel):
    as_of: date
    days: int
    until: date = Field(description="as_of + days: the last day an expiry is listed for")
    expiring: list[ExpiryOut] = Field(description="warranty and lease ends from as_of to until, "
                                                  "retired and disposed items left out")
    past_end_of_life: list[EndOfLifeOut] = Field(
        description="end of life before as_of, item neither retired nor disposed")
    stock: list[StockOut] = Field(description="items in stock per class and location")
    data_quality: list[MissingDataOut] = Field(
        description="items in use without owner or without cost centre")
    status_counts: list[StatusCount]
    expiries_by_month: list[MonthOut] = Field(
        description="the month of as_of (from as_of on) and the eleven after it")


Text = Annotated[str, StringConstraints(max_length=120)]


class SparesQueryIn(Query):
    class_code: Annotated[str, StringConstraints(min_length=1, max_length=64)] = Field(
        reports.DEFAULT_CLASS, alias="class",
        description="item class of the pool; subclasses included (default hardware.laptop)")
    location: Text | None = Field(None, description="exact location of the pool; every "
                                                    "location when left out")
    as_of: Day | None = Field(None, description="the day (YYYY-MM-DD) whose end the register "
                                                 "is read at, UTC; today when left out")
    window_days: Annotated[int, Field(ge=reports.WINDOW_DAYS[0], le=reports.WINDOW_DAYS[1])] = Field(
        reports.DEFAULT_WINDOW_DAYS, description="look-back window for rate and lead time")
    rate_percent: _number(*reports.RATE_PERCENT, "given replacement rate, % of devices per "  # type: ignore[valid-type]
                          "year; measured when left out") | None = None
    lead_time_days: _number(*reports.LEAD_DAYS, "given lead time in days; measured when "  # type: ignore[valid-type]
                            "left out") | None = None
    growth_percent: _number(*reports.GROWTH_PERCENT, "planned growth of the installed "  # type: ignore[valid-type]
                            "base, %") = Decimal(0)
    service_level: _number(*reports.SERVICE_LEVEL_PERCENT, "share of replacement "  # type: ignore[valid-type]
                           "requests to serve from stock, %; when left out, the highest agreed "
                           "level of the services the pool supports, else 95") | None = None


class ReplacementOut(BaseModel):
    item_key: str
    item_name: str
    change_key: str = Field(description="the change that took the device out of use")
    at: datetime
    to_status: str = Field(description="maintenance (a repair) or retired")
    reason: str | None = Field(
        description="the retirement reason the change records (failure, end_of_life, "
                    "lost_or_stolen, other); null for a repair or when none is recorded")


class RecordedFailureOut(BaseModel):
    item_key: str
    item_name: str = Field(description="the item's name when it failed")
    at: datetime = Field(description="when the item failed")
    incident_reference: str
    outcome: str = Field(description="replaced or repaired")
    recorded_by: str


class DeliveryOut(BaseModel):
    change_key: str = Field(description="the change that brought the devices into stock")
    title: str
    registered_at: datetime = Field(description="when the register took them into stock")
    devices: int
    order_change_key: str | None = Field(
        description="the change that registered them as ordered; null: the order and delivery "
                    "dates are the ones the hardware receipt records")
    ordered: datetime | date | None = Field(
        description="the moment they were registered as ordered, or the receipt's order date")
    delivered: datetime | date | None = Field(
        description="the moment they entered stock, or the receipt's delivery date")
    days: str | None = Field(description="order to delivery, days with two decimals; null when "
                                         "not measurable (see problem)")
    problem: str | None = Field(
        description="no_order_date, no_delivery_date or delivered_first; null when measured")


class AgreedLevelOut(BaseModel):
    service_key: str
    service_name: str
    percent: str = Field(description="the agreed spares service level the service records, %")
    usable: bool = Field(description="within 50 to 99.99, so the calculation can use it")
    used: bool = Field(description="the level the calculation used (the highest usable one, "
                                   "when no level is given)")


class ProbabilityOut(BaseModel):
    k: int
    probability: float = Field(description="P(X <= k) for X ~ Poisson(demand)")


class SparesOut(BaseModel):
    as_of: date
    class_code: str
    class_name: str
    location: str | None
    window_days: int
    window_start: date
    installed_base: int = Field(description="items of the pool in use")
    stock_on_hand: int = Field(description="items of the pool in stock")
    observed_from: date = Field(
        description="the window's start, or the day the pool's first device was registered "
                    "when that is later")
    observed_days: int = Field(description="whole days the rate is measured over (at least 1)")
    observation_short: bool = Field(description="fewer days observed than the window has")
    replacements: list[ReplacementOut] = Field(
        description="failures inferred: devices of the pool moved from in use to maintenance, "
                    "or to retired with the reason failure or lost_or_stolen, in the observed "
                    "days (what R counts when failures_from is inferred)")
    failures_from: Literal["measured", "inferred"] = Field(
        description="where R comes from: measured (the failures recorded from incidents, when "
                    "the pool has any in the observed days) or inferred (from the status moves "
                    "in replacements)")
    failures_counted: int = Field(description="R: the failures the measured rate uses")
    recorded_failures: list[RecordedFailureOut] = Field(
        description="failures of devices of the pool recorded from incidents in the observed "
                    "days (POST /items/{key}/failures)")
    not_counted: list[ReplacementOut] = Field(
        description="devices of the pool retired from use in the observed days for another "
                    "reason, or without a recorded reason: not counted as replacements")
    measured_rate_per_day: str | None = Field(
        description="R / (installed base x observed days); null without a base")
    rate_per_day: str | None = Field(description="the rate used (given or measured)")
    rate_given: bool
    deliveries: list[DeliveryOut] = Field(
        description="deliveries into stock of the pool's class (every location) the lead time "
                    "is measured over, with those that measure nothing")
    deliveries_in_window: bool = Field(
        description="false when none in the window gives a lead time and every earlier "
                    "delivery is used")
    delivered_devices_measured: int = Field(description="devices the mean lead time is over")
    measured_lead_time_days: str | None = Field(
        description="mean order-to-delivery days per delivered device; null when no delivery "
                    "gives one")
    lead_time_days: str | None = Field(description="the lead time used (given or measured)")
    lead_given: bool
    growth_percent: str
    service_level_percent: str = Field(description="the service level used")
    service_level_from: str = Field(
        description="given, service (the highest agreed level of the services the pool's "
                    "devices support) or default (95)")
    agreed_service_levels: list[AgreedLevelOut] = Field(
        description="the services the pool's devices support that record an agreed spares "
                    "service level")
    demand: str | None = Field(description="lambda = base x rate x lead time x (1 + growth); "
                                           "null when the lead time is unknown")
    spares_needed: int | None = Field(
        description="smallest S with P(Poisson(demand) <= S) >= service level")
    shortfall: int | None = Field(description="spares still to buy (0 when stock covers it)")
    stock_service_level: float | None = Field(
        description="P(Poisson(demand) <= stock on hand)")
    cumulative: list[ProbabilityOut] = Field(description="P(X <= k) around the answer")
