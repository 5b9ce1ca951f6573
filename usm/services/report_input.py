"""Reading the inputs of a report (as-of day, N days, percentages) from text, with errors that name
the field, so the web page can show them (400) and the API can answer them (422)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from bir.base import utcnow

DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
FIRST_YEAR, LAST_YEAR = 1900, 2999


class BadReportInput(ValueError):
    """One input the user gave cannot be used; ``field`` names it (the URL parameter)."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def day_end(day: date) -> datetime:
    """The last moment of ``day`` (UTC): a report 'as of 31 March' counts that day's changes."""
    return datetime.combine(day + timedelta(days=1), time.min, UTC) - timedelta(microseconds=1)


def parse_day(text: str | None, field: str = "as_of", default: date | None = None) -> date:
    """Exactly ``YYYY-MM-DD`` (no timestamps, no date-times); empty means ``default`` (today,
    UTC)."""
    if text is None or not text.strip():
        return default or utcnow().date()
    cleaned = text.strip()
    try:
        if not DAY.fullmatch(cleaned):
            raise ValueError(cleaned)
        day = date.fromisoformat(cleaned)
    except ValueError:
        raise BadReportInput(field, f"'{cleaned[:40]}' is not a date; give YYYY-MM-DD, "
                                    "e.g. 2026-03-31") from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise BadReportInput(field, f"give a date between the years {FIRST_YEAR} and {LAST_YEAR}")
    return day


def parse_whole(text: str | None, field: str, low: int, high: int, default: int) -> int:
    """A whole number from ``low`` to ``high``; empty means ``default``."""
    if text is None or not text.strip():
        return default
    value = text.strip()
    if not value.lstrip("-").isdigit() or len(value) > 12:
        raise BadReportInput(field, f"'{value[:40]}' is not a whole number; give {low} to {high}")
    number = int(value)
    if not low <= number <= high:
        raise BadReportInput(field, f"give a whole number from {low} to {high}, not {number}")
    return number


def parse_decimal(text: str | None, field: str, low: Decimal, high: Decimal,
                  *, high_inclusive: bool = True) -> Decimal | None:
    """A decimal number from ``low`` to ``high`` (``high`` itself excluded unless inclusive);
    empty means not given (``None``)."""
    if text is None or not text.strip():
        return None
    value = text.strip().replace(",", ".")
    try:
        number = Decimal(value)
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite() or len(value) > 20:
        raise BadReportInput(field, f"'{value[:40]}' is not a number")
    too_high = number > high if high_inclusive else number >= high
    if number < low or too_high:
        upper = f"up to {high}" if high_inclusive else f"below {high}"
        raise BadReportInput(field, f"give a number from {low} {upper}, not {number}")
    return number


__all__ = ["BadReportInput", "day_end", "parse_day", "parse_decimal", "parse_whole"]
