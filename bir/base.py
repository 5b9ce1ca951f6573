"""The declarative base and column types shared by every table of the product.

It lives at the bottom of the dependency graph (``bir``) so that ``workflows`` and ``usm`` can build
their tables on the same metadata without ``bir`` importing them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from sqlalchemy import JSON, BigInteger, DateTime, MetaData
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

from bir.errors import shown

# Alembic needs deterministic constraint names to alter them later, on SQLite included.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


JSONType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored as naive UTC and returned timezone-aware.

    SQLite keeps no time zone, so both databases store the same naive UTC value; comparisons in SQL
    (as-of reads) then behave identically on both.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):  # type: ignore[override]
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass a timezone-aware value")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect):  # type: ignore[override]
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


MONEY_QUANTUM = Decimal("0.01")


def to_money(value: object) -> Decimal:
    """Parse an amount exactly; more than two decimals is an error, never a silent rounding."""
    if isinstance(value, float):
        value = repr(value)
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(f"{shown(value)} is not an amount") from exc
    if not amount.is_finite():
        raise ValueError(f"{shown(value)} is not an amount")
    # Check the size first: quantizing an amount with a huge exponent overflows the context.
    if amount != 0 and amount.adjusted() >= 15:
        raise ValueError(f"{shown(value)} is too large")
    if amount.as_tuple().exponent < -2 and amount != amount.quantize(MONEY_QUANTUM,
                                                                     rounding=ROUND_HALF_EVEN):
        raise ValueError(f"{shown(value)} has more than two decimals")
    return amount.quantize(MONEY_QUANTUM)


class Money(TypeDecorator[Decimal]):
    """An exact amount stored as an integer number of cents: no float ever touches money."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect):  # type: ignore[override]
        if value is None:
            return None
        return int(to_money(value) * 100)

    def process_result_value(self, value: int | None, dialect):  # type: ignore[override]
        if value is None:
            return None
        return (Decimal(int(value)) / 100).quantize(MONEY_QUANTUM)
