"""Building blocks of the API's schemas: strict moments, money, keys and request-model defaults."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, WithJsonSchema

from usm.services.user_input import MOMENT, InputError, parse_day, parse_moment


class Body(BaseModel):
    """A request body: unknown fields are refused, so a typo is an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


class Query(BaseModel):
    """Query parameters: unknown ones are ignored, as usual on the web."""

    model_config = ConfigDict(extra="ignore")


def _moment(value: Any) -> datetime:
    """A moment as the web and the CLI read it (``usm.services.user_input``): a day or a date and
    time, UTC unless it names an offset."""
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str):
        raise ValueError("is not a date or a moment (e.g. 2026-01-31T00:00:00Z)")
    try:
        moment = parse_moment(value)
    except InputError as exc:
        raise ValueError(exc.message) from None
    if moment is None:
        raise ValueError("is empty: give a date or a moment (e.g. 2026-01-31T00:00:00Z)")
    return moment


Moment = Annotated[datetime, BeforeValidator(_moment), WithJsonSchema({
    "type": "string", "pattern": f"^{MOMENT.pattern}$", "examples": ["2026-01-31T00:00:00Z"],
    "description": "a day (YYYY-MM-DD, its first moment) or a date and time "
                   "(YYYY-MM-DDTHH:MM[:SS[.ffffff]]), UTC unless an offset (Z, +01:00) follows"})]


def _day(value: Any) -> date:
    """Exactly YYYY-MM-DD (lax pydantic would also take timestamps and date-times)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not value.strip():
        raise ValueError("is not a day (YYYY-MM-DD)")
    try:
        return parse_day(value)
    except InputError as exc:
        raise ValueError(exc.message) from None


Day = Annotated[date, BeforeValidator(_day), WithJsonSchema({"type": "string", "format": "date"})]

MONEY_PATTERN = r"^[0-9]{1,13}(\.[0-9]{1,2})?$"


def money_in(value: Any) -> Decimal:
    """An amount from JSON (number or string): at least 0, below 10^13, at most two decimals."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ValueError("is not an amount")
    try:
        amount = Decimal(repr(value) if isinstance(value, float) else str(value).strip())
    except InvalidOperation:
        raise ValueError("is not an amount") from None
    if not amount.is_finite() or amount < 0 or amount >= Decimal("1e13"):
        raise ValueError("must be an amount from 0 up to 9999999999999.99")
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueError("has more than two decimals")
    return amount.quantize(Decimal("0.01"))


MoneyIn = Annotated[Decimal, BeforeValidator(money_in), WithJsonSchema({
    "anyOf": [{"type": "number", "minimum": 0, "maximum": 9999999999999.99},
              {"type": "string", "pattern": MONEY_PATTERN}],
    "description": "an amount with at most two decimals, as a number or a string"})]
# Amounts in answers are exact decimal strings ("1249.00"), never floats.
MoneyOut = Annotated[str, Field(pattern=r"^-?[0-9]+\.[0-9]{2}$")]

Key = Annotated[str, StringConstraints(min_length=1, max_length=32)]
Text = Annotated[str, StringConstraints(max_length=10000)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Limit = Annotated[int, Field(ge=1, le=200, description="page size, 1..200")]
Cursor = Annotated[str, StringConstraints(max_length=200), Field(
    description="opaque: the `cursor` of the previous page's `next` link")]


def money_text(amount: Decimal | None) -> str | None:
    return None if amount is None else f"{amount:.2f}"
