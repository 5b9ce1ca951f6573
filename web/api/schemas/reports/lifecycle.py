"""Schemas of the lifecycle and spares reports in the API."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

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
                           "requests to serve from stock, %") = reports.DEFAULT_SERVICE_LEVEL


class ReplacementOut(BaseModel):
    item_key: str
    item_name: str
    change_key: str
    at: datetime
    to_status: str


class ReceiptOut(BaseModel):
    change_key: str
    title: str
    registered_at: datetime
    implemented_at: datetime
    days: str = Field(description="registration to implementation, days with two decimals")


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
    replacements: list[ReplacementOut] = Field(
        description="devices of the pool moved from in use to maintenance or retired in the "
                    "window")
    measured_rate_per_day: str | None = Field(
        description="replacements / (installed base x window days); null without a base")
    rate_per_day: str | None = Field(description="the rate used (given or measured)")
    rate_given: bool
    receipts: list[ReceiptOut] = Field(
        description="implemented hardware receipts of the class the lead time is measured from")
    receipts_in_window: bool = Field(
        description="false when none fell in the window and every earlier one is used")
    measured_lead_time_days: str | None
    lead_time_days: str | None = Field(description="the lead time used (given or measured)")
    lead_given: bool
    growth_percent: str
    service_level_percent: str
    demand: str | None = Field(description="lambda = base x rate x lead time x (1 + growth); "
                                           "null when the lead time is unknown")
    spares_needed: int | None = Field(
        description="smallest S with P(Poisson(demand) <= S) >= service level")
    shortfall: int | None = Field(description="spares still to buy (0 when stock covers it)")
    stock_service_level: float | None = Field(
        description="P(Poisson(demand) <= stock on hand)")
    cumulative: list[ProbabilityOut] = Field(description="P(X <= k) around the answer")
