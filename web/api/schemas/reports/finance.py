"""Schemas of the finance report in the API: book values, depreciation schedules, cost over a
period per service (TCO) and per cost centre, disposals. Money is exact text with two decimals."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from web.api.schemas.common import Day, MoneyOut, Query

Filter = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
AS_OF = ("the day (YYYY-MM-DD) whose end the register is read at (UTC); today when left out")


class BookValueQuery(Query):
    as_of: Day | None = Field(None, description=AS_OF)
    class_code: Filter | None = Field(None, alias="class", description="item class code; "
                                      "subclasses included")
    cost_centre: Filter | None = None
    service: Filter | None = Field(None, description="key of a service: only the items that "
                                   "support it (through the relation graph), each in full")


class DayQuery(Query):
    as_of: Day | None = Field(None, description=AS_OF)


class PeriodQuery(Query):
    start: Day | None = Field(None, alias="from", description="first day of the period, the "
                              "1st of a month; 1 January of this year when left out")
    end: Day | None = Field(None, alias="to", description="the day after the period, the 1st "
                            "of a month (whole months, at most 36); the 1st of next month when "
                            "left out")


class ItemBookValueOut(BaseModel):
    key: str
    name: str
    class_code: str
    status: str
    cost_centre: str | None
    currency: str | None
    method: str
    start: date | None = Field(description="in-service date, else acquisition date")
    cost: MoneyOut
    depreciated: MoneyOut
    book_value: MoneyOut


class GroupTotalOut(BaseModel):
    group: str = Field(description="class code or cost centre ('' for none); 'all' in totals")
    label: str
    currency: str | None
    items: int
    cost: MoneyOut
    depreciated: MoneyOut
    book_value: MoneyOut


class BookValues(BaseModel):
    as_of: date
    items: list[ItemBookValueOut]
    totals: list[GroupTotalOut] = Field(description="per currency, never added across them")
    by_class: list[GroupTotalOut]
    by_cost_centre: list[GroupTotalOut]


class PeriodOut(BaseModel):
    number: int
    start: date
    end: date = Field(description="the day the period's depreciation is booked on")
    opening: MoneyOut
    amount: MoneyOut
    closing: MoneyOut


class DepreciationSchedule(BaseModel):
    key: str
    name: str
    as_of: date
    currency: str | None
    cost: MoneyOut | None
    residual_value: MoneyOut | None
    method: str | None
    months: int | None
    start: date | None
    book_value: MoneyOut | None = Field(description="at the end of as_of; null without a cost")
    disposed: bool
    periods: list[PeriodOut]


class CostLineOut(BaseModel):
    group: str = Field(description="service key, or cost centre ('' for none)")
    label: str
    currency: str | None
    items: int
    depreciation: MoneyOut
    recurring: MoneyOut
    total: MoneyOut


class PeriodCosts(BaseModel):
    start: date
    end: date
    lines: list[CostLineOut]


class DisposalOut(BaseModel):
    key: str
    name: str
    class_code: str
    disposed_at: datetime
    change_key: str
    currency: str | None
    cost: MoneyOut | None
    book_value: MoneyOut
    proceeds: MoneyOut
    gain: MoneyOut = Field(description="proceeds less book value; negative is a loss")


class Disposals(BaseModel):
    start: date
    end: date
    disposals: list[DisposalOut]
