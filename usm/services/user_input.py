"""Reading what users type: moments, days, whole and decimal numbers, amounts, and the details of
a change as a form posts them. The web views, the API's schemas, the CLI and the register search
all read through here, so the same text means the same thing everywhere and a refusal names the
field and says what is expected.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from bir.base import to_money, utcnow
from bir.errors import FieldError, Invalid
from bir.yaml_input import load_yaml  # YAML a person wrote, read within limits

DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
MOMENT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
                    r"(?:[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?"
                    r"(?:Z|[+-][0-9]{2}:[0-9]{2})?)?")
FIRST_YEAR, LAST_YEAR = 1900, 2999
MOMENT_FORMS = ("give a date as YYYY-MM-DD or a date and time as YYYY-MM-DDTHH:MM (UTC unless an "
                "offset such as +01:00 follows)")


class InputError(Invalid):
    """One input the user gave cannot be used; ``field`` names it (the form field or URL
    parameter) and ``message`` says what is expected."""

    def __init__(self, field: str, message: str):
        super().__init__([FieldError(field, message)], f"{field}: {message}")
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
        raise InputError(field, f"'{cleaned[:40]}' is not a date; give YYYY-MM-DD, "
                                "e.g. 2026-03-31") from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise InputError(field, f"give a date between the years {FIRST_YEAR} and {LAST_YEAR}")
    return day


def parse_moment(text: str | None, field: str = "as_of") -> datetime | None:
    """A day (its first moment) or a date and time, as UTC unless the text names an offset
    (``Z``, ``+01:00``); empty means not given (``None``: now, where a moment is optional)."""
    if text is None or not text.strip():
        return None
    cleaned = text.strip()
    problem = InputError(field, f"'{cleaned[:40]}' is not a date or a moment: {MOMENT_FORMS}")
    if not MOMENT.fullmatch(cleaned):
        raise problem
    try:
        moment = datetime.fromisoformat(cleaned.replace(" ", "T", 1).replace("Z", "+00:00"))
        moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    except (ValueError, OverflowError):
        raise problem from None
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise InputError(field, f"give a moment between the years {FIRST_YEAR} and {LAST_YEAR}")
    return moment


def parse_whole(text: str | None, field: str, low: int, high: int, default: int) -> int:
    """A whole number from ``low`` to ``high``; empty means ``default``."""
    if text is None or not text.strip():
        return default
    value = text.strip()
    if not value.lstrip("-").isdigit() or len(value) > 12:
        raise InputError(field, f"'{value[:40]}' is not a whole number; give {low} to {high}")
    number = int(value)
    if not low <= number <= high:
        raise InputError(field, f"give a whole number from {low} to {high}, not {number}")
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
        raise InputError(field, f"'{value[:40]}' is not a number")
    too_high = number > high if high_inclusive else number >= high
    if number < low or too_high:
        upper = f"up to {high}" if high_inclusive else f"below {high}"
        raise InputError(field, f"give a number from {low} {upper}, not {number}")
    return number


def parse_money(text: str | None, field: str) -> Decimal | None:
    """An amount exact to the cent; empty means not given (``None``)."""
    if text is None or not text.strip():
        return None
    try:
        return to_money(text.strip())
    except ValueError as exc:
        raise InputError(field, str(exc)) from None


def unstorable_reason(value: Any) -> str | None:
    """Why ``value`` holds text no database column can keep, looking into lists and mappings
    (their keys too): a NUL character (PostgreSQL refuses it in any text), or a lone UTF-16
    surrogate (valid in JSON's escapes, not in UTF-8). ``None`` when it can be stored."""
    if isinstance(value, str):
        if "\x00" in value:
            return "holds a NUL character"
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "holds a lone UTF-16 surrogate"
        return None
    if isinstance(value, Mapping):
        value = [part for pair in value.items() for part in pair]
    if isinstance(value, list | tuple):
        return next(filter(None, map(unstorable_reason, value)), None)
    return None


def nesting_depth(value: Any) -> int:
    """How deeply ``value`` nests lists and objects (a flat object is 1), without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) \
            else None
        if children is not None:
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in children)
    return deepest


def unstorable_text(value: Any) -> bool:
    """Whether ``value`` holds text no database column can keep (see ``unstorable_reason``)."""
    return unstorable_reason(value) is not None


# The details of a change a form may carry (the change form and the change detail's edit form).
DETAIL_FIELDS = ("title", "description", "reason", "coordinator", "risk", "impact",
                 "cost_estimate", "currency", "planned_start", "planned_end", "outcome")


def change_details(form: Mapping[str, str], names: Iterable[str] = DETAIL_FIELDS, *,
                   model_fields: Iterable[str] | None = None) -> dict[str, Any]:
    """The change details a form posted, as the change services take them: the fields present
    in the form (blank ones as ``None``, the title as typed), moments read as ``parse_moment``
    reads them, the currency in capitals, and the model's own fields (``fields.<name>``) under
    ``fields`` when any is filled in. ``model_fields`` names them; ``None`` takes every
    ``fields.`` input the form has."""
    values: dict[str, Any] = {}
    for name in names:
        if name in form:
            text = form[name].strip()
            values[name] = text if name == "title" else (text or None)
    errors = []
    for name in ("planned_start", "planned_end"):
        if values.get(name):
            try:
                values[name] = parse_moment(values[name], name)
            except InputError as exc:
                errors += exc.errors
    if errors:
        raise Invalid(errors)
    if values.get("currency"):
        values["currency"] = values["currency"].upper()
    wanted = (list(model_fields) if model_fields is not None
              else [k.removeprefix("fields.") for k in form if k.startswith("fields.")])
    given = {name: form.get(f"fields.{name}", "") for name in wanted}
    if model_fields is None:
        if given:
            values["fields"] = given
    elif any(v.strip() for v in given.values()):
        values["fields"] = {k: v for k, v in given.items() if v.strip()}
    return values


__all__ = ["DETAIL_FIELDS", "InputError", "change_details", "day_end", "load_yaml", "parse_day",
           "nesting_depth", "parse_decimal", "parse_moment", "parse_money", "parse_whole",
           "unstorable_reason", "unstorable_text"]
