"""Depreciation maths: pure, exact (Decimal, cents), no database.

Conventions, stated once so every figure agrees with them:

- Depreciation runs in monthly periods from the start date: ``in_service_on``, or ``acquired_on``
  when the in-service date is not registered. Period *k* runs from start + (k-1) months to
  start + k months (the day clamped to the month's length, so 31 January + 1 month is 28 or 29
  February) and is booked on its end date: on a day *d* the book value is the cost less every
  period that ended on or before *d*.
- ``straight_line``: (cost - residual) / months per month. Each period is the difference of the
  cumulative amounts rounded to cents (ROUND_HALF_EVEN), so periods differ by at most a cent and
  the schedule sums exactly to cost - residual.
- ``declining_balance``: double-declining, 2 / months of the opening book value each month,
  rounded to cents; switching to straight-line on the remainder (book value - residual spread
  evenly over the months left) once that is larger; never below the residual; the last period
  takes what is left, so the item is at its residual exactly at the end of its life.
- ``none``, or a method without a period or a start date: the book value stays the cost.
- A residual above the cost is read as the cost (nothing to depreciate).
"""

from __future__ import annotations

from bisect import bisect_right
from calendar import monthrange
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache
from typing import Any

from bir.vocabulary import DepreciationMethod

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_EVEN)


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole months, the day of the month clamped to the target month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, monthrange(year, month + 1)[1]))


@dataclass(frozen=True)
class Terms:
    """What depreciation needs of an item (as one version of it registered)."""

    cost: Decimal
    residual: Decimal
    method: str
    months: int | None
    start: date | None

    @classmethod
    def of(cls, record: Any) -> Terms | None:
        """The terms of an item record (``Item`` or ``ItemVersion``); ``None`` without a cost."""
        if record.purchase_cost is None:
            return None
        cost = record.purchase_cost
        residual = min(record.residual_value or ZERO, cost)
        return cls(cost, residual, record.depreciation_method or DepreciationMethod.NONE,
                   record.depreciation_months, record.in_service_on or record.acquired_on)

    @property
    def depreciates(self) -> bool:
        return not self.not_depreciating

    @property
    def not_depreciating(self) -> list[str]:
        """Why the item keeps its cost as its book value, each a code the pages word: no_method,
        no_months, no_start (neither an in-service nor an acquisition date), residual_is_cost."""
        reasons = []
        if self.method == DepreciationMethod.NONE:
            reasons.append("no_method")
        elif not self.months:
            reasons.append("no_months")
        if self.start is None:
            reasons.append("no_start")
        if self.cost <= self.residual:
            reasons.append("residual_is_cost")
        return reasons


@dataclass(frozen=True)
class Period:
    number: int
    start: date
    end: date  # exclusive; the period's depreciation is booked on this day
    opening: Decimal
    amount: Decimal
    closing: Decimal


@lru_cache(maxsize=4096)
def schedule(terms: Terms) -> tuple[Period, ...]:
    """Every period of the item's depreciation; empty when it does not depreciate."""
    if not terms.depreciates:
        return ()
    assert terms.start is not None and terms.months is not None
    months, base, book = terms.months, terms.cost - terms.residual, terms.cost
    periods: list[Period] = []
    for k in range(1, months + 1):
        left = book - terms.residual
        if k == months:
            amount = left
        elif terms.method == DepreciationMethod.STRAIGHT_LINE:
            amount = cents(base * k / months) - cents(base * (k - 1) / months)
        else:
            declining = cents(book * 2 / months)
            straight = cents(left / (months - k + 1))
            amount = min(max(declining, straight), left)
        periods.append(Period(k, add_months(terms.start, k - 1), add_months(terms.start, k),
                              book, amount, book - amount))
        book -= amount
    return tuple(periods)


@lru_cache(maxsize=4096)
def _period_ends(terms: Terms) -> tuple[date, ...]:
    return tuple(p.end for p in schedule(terms))


def book_value_on(terms: Terms, day: date) -> Decimal:
    """Cost less every period booked on or before ``day``."""
    periods = schedule(terms)
    booked = bisect_right(_period_ends(terms), day)
    return periods[booked - 1].closing if booked else terms.cost


def depreciation_between(terms: Terms, first: date, end: date) -> Decimal:
    """Depreciation booked on days ``first`` <= d < ``end``."""
    return book_value_on(terms, first - timedelta(days=1)) - book_value_on(terms, end - timedelta(days=1))

