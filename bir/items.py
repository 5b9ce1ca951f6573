"""Items of the register (BIR): one record per managed component, financial and configuration
attributes together, with every version kept in ``bir_item_version``."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator
from sqlalchemy import ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from bir.base import Base, JSONType, Money, UTCDateTime, to_money
from bir.vocabulary import DepreciationMethod, LifecycleStatus, RecurringPeriod

CORE_FIELDS = ("name", "status", "owner", "location", "cost_centre")
CONFIGURATION_FIELDS = ("serial_number", "asset_tag", "manufacturer", "model", "hostname")
FINANCIAL_FIELDS = (
    "purchase_cost",
    "currency",
    "acquired_on",
    "in_service_on",
    "depreciation_method",
    "depreciation_months",
    "residual_value",
    "supplier",
    "contract",
    "invoice",
    "warranty_end",
    "lease_end",
    "end_of_life",
    "recurring_cost",
    "recurring_period",
    "disposal_proceeds",
)
# Amounts: each is in the item's currency, so none is registered without one.
MONEY_FIELDS = ("purchase_cost", "residual_value", "recurring_cost", "disposal_proceeds")
RECORD_FIELDS = CORE_FIELDS + CONFIGURATION_FIELDS + FINANCIAL_FIELDS
# Fields a search or an audit matches on; indexed on the current table.
NATURAL_KEYS = ("asset_tag", "serial_number", "hostname")

Text120 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Text64 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class ItemFields(BaseModel):
    """The managed columns of an item, as a change set may set them. Every field is optional here;
    ``name`` is required only when an item is created (checked by the change set)."""

    model_config = ConfigDict(extra="forbid", use_enum_values=True)

    name: Text120 | None = None
    status: LifecycleStatus | None = None
    owner: Text64 | None = None
    location: Text120 | None = None
    cost_centre: Text64 | None = None
    serial_number: Text64 | None = None
    asset_tag: Text64 | None = None
    manufacturer: Text64 | None = None
    model: Text120 | None = None
    hostname: Text120 | None = None
    purchase_cost: Decimal | None = None
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] | None = None
    acquired_on: date | None = None
    in_service_on: date | None = None
    depreciation_method: DepreciationMethod | None = None
    depreciation_months: Annotated[int, Field(ge=1, le=600)] | None = None
    residual_value: Decimal | None = None
    supplier: Text120 | None = None
    contract: Text64 | None = None
    invoice: Text64 | None = None
    warranty_end: date | None = None
    lease_end: date | None = None
    end_of_life: date | None = None
    recurring_cost: Decimal | None = None
    recurring_period: RecurringPeriod | None = None
    # What a disposal brought in (resale); the gain or loss is this minus the book value then.
    disposal_proceeds: Decimal | None = None

    @field_validator("purchase_cost", "residual_value", "recurring_cost", "disposal_proceeds",
                     mode="before")
    @classmethod
    def _exact_money(cls, value: Any) -> Any:
        if value is None or value == "":
            return None
        amount = to_money(value)
        if amount < 0:
            raise ValueError("must not be negative")
        return amount


class ItemRecord:
    """The managed columns, shared by the current item and each of its versions."""

    class_code: Mapped[str] = mapped_column(ForeignKey("bir_item_class.code"))
    name: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(16))
    owner: Mapped[str | None] = mapped_column(String(64))
    location: Mapped[str | None] = mapped_column(String(120))
    cost_centre: Mapped[str | None] = mapped_column(String(64))
    serial_number: Mapped[str | None] = mapped_column(String(64))
    asset_tag: Mapped[str | None] = mapped_column(String(64))
    manufacturer: Mapped[str | None] = mapped_column(String(64))
    model: Mapped[str | None] = mapped_column(String(120))
    hostname: Mapped[str | None] = mapped_column(String(120))
    purchase_cost: Mapped[Decimal | None] = mapped_column(Money)
    currency: Mapped[str | None] = mapped_column(String(3))
    acquired_on: Mapped[date | None]
    in_service_on: Mapped[date | None]
    depreciation_method: Mapped[str | None] = mapped_column(String(24))
    depreciation_months: Mapped[int | None] = mapped_column(Integer)
    residual_value: Mapped[Decimal | None] = mapped_column(Money)
    supplier: Mapped[str | None] = mapped_column(String(120))
    contract: Mapped[str | None] = mapped_column(String(64))
    invoice: Mapped[str | None] = mapped_column(String(64))
    warranty_end: Mapped[date | None]
    lease_end: Mapped[date | None]
    end_of_life: Mapped[date | None]
    recurring_cost: Mapped[Decimal | None] = mapped_column(Money)
    recurring_period: Mapped[str | None] = mapped_column(String(16))
    disposal_proceeds: Mapped[Decimal | None] = mapped_column(Money)
    # Class-specific attributes, validated against the item class on every write.
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)

    def record(self) -> dict[str, Any]:
        """The managed values as a plain dict (class-specific attributes under ``attributes``)."""
        values = {f: getattr(self, f) for f in RECORD_FIELDS}
        values["class_code"] = self.class_code
        values["attributes"] = dict(self.attributes or {})
        return values


class Item(ItemRecord, Base):
    """The current version of a component. Written only by ``bir.writer``."""

    __tablename__ = "bir_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(32), unique=True)
    version: Mapped[int] = mapped_column(Integer)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    created_change_id: Mapped[int] = mapped_column(ForeignKey("chm_change.id"))
    last_change_id: Mapped[int] = mapped_column(ForeignKey("chm_change.id"))

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:
        return (
            Index("ix_bir_item_class_code", "class_code", "id"),
            Index("ix_bir_item_status", "status", "id"),
            Index("ix_bir_item_owner", "owner"),
            Index("ix_bir_item_location", "location"),
            Index("ix_bir_item_cost_centre", "cost_centre"),
            Index("ix_bir_item_serial_number", "serial_number"),
            Index("ix_bir_item_asset_tag", "asset_tag"),
            Index("ix_bir_item_hostname", "hostname"),
            Index("ix_bir_item_name", "name", "id"),
        )


class ItemVersion(ItemRecord, Base):
    """One version of an item, valid from ``valid_from`` until ``valid_to`` (open while current)."""

    __tablename__ = "bir_item_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("bir_item.id"))
    key: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_to: Mapped[datetime | None] = mapped_column(UTCDateTime)
    change_id: Mapped[int] = mapped_column(ForeignKey("chm_change.id"), index=True)

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:
        return (
            Index("uq_bir_item_version_item_version", "item_id", "version", unique=True),
            Index("ix_bir_item_version_item_time", "item_id", "valid_from"),
            # An item's history and as-of reads by key, and the as-of register in key order.
            Index("ix_bir_item_version_key", "key", "valid_from"),
            Index("ix_bir_item_version_period", "valid_from", "valid_to"),
            Index(
                "ix_bir_item_version_current",
                "item_id",
                unique=True,
                sqlite_where=text("valid_to IS NULL"),
                postgresql_where=text("valid_to IS NULL"),
            ),
        )
