"""Corrections of the register's data quality, registered as the change that makes them: today,
the currency of items whose amounts were registered without one (imports and data from before
the register required it)."""

from __future__ import annotations

from sqlalchemy import or_, select

from bir.errors import FieldError, ValidationFailed
from bir.items import MONEY_FIELDS, Item
from usm.services import changes
from usm.services.changes import ChangeSummary
from usm.services.platform import Database
from usm.services.reports import GONE

MODEL = "audit-correction"


def amounts_without_currency(db: Database) -> list[str]:
    """The keys of the items in the estate that hold an amount but no currency."""
    with db.reading() as session:
        return list(session.scalars(select(Item.key).where(
            Item.status.not_in(GONE), Item.currency.is_(None),
            or_(*(getattr(Item, name).is_not(None) for name in MONEY_FIELDS)))
            .order_by(Item.key)))


def register_currency_correction(db: Database, username: str, currency: str) -> ChangeSummary:
    """One audit-correction change that gives every such item ``currency``; it goes through the
    CHM steps like any change. ``ValidationFailed`` when no item needs it."""
    keys = amounts_without_currency(db)
    if not keys:
        raise ValidationFailed([FieldError("currency", "no item holds an amount without a "
                                                       "currency")])
    return changes.register_change(
        db, username, model=MODEL, title=f"Set the currency of {len(keys)} item(s) to {currency}",
        operations=[{"op": "update_item", "item": key, "currency": currency} for key in keys],
        source="rim", reason="amounts registered without a currency cannot be totalled",
        description=f"Data quality: {len(keys)} item(s) hold amounts without a currency; they "
                    f"are in {currency}.", fields={"audit_source": "data quality"})


__all__ = ["amounts_without_currency", "register_currency_correction"]
