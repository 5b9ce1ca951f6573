"""Schemas of the register's side of the API: items, their history and relations, item classes,
services."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints, model_validator

from usm.services.register import SORTS, STATUSES
from web.api.schemas.common import Body, Cursor, Limit, Moment, MoneyOut, Query

Status = Literal[STATUSES]  # type: ignore[valid-type]
Filter = Annotated[str, StringConstraints(max_length=200)]


class ItemFilters(Query):
    """The filters of a register listing (also what an items export takes)."""

    q: Filter | None = Field(None, description="free text: every word must occur, ignoring "
                                               "case, in the key, name, serial number, asset "
                                               "tag, host name, owner, manufacturer, model or "
                                               "location")
    class_code: Annotated[str, StringConstraints(max_length=64)] | None = Field(
        None, alias="class", description="item class code; subclasses included "
                                         "(hardware matches hardware.laptop)")
    status: Status | None = None
    owner: Filter | None = None
    location: Filter | None = None
    cost_centre: Filter | None = None
    as_of: Moment | None = Field(None, description="read the register as it was at this "
                                                   "moment (ISO 8601 date-time with offset)")


class ItemsQuery(ItemFilters):
    sort: Literal[SORTS] = Field("key", description=(  # type: ignore[valid-type]
        "sort by this column, then by key, as the register page does; empty values last"))
    order: Literal["asc", "desc"] = "asc"
    limit: Limit = 50
    cursor: Annotated[str, StringConstraints(max_length=2000)] | None = Field(None, description=(
        "opaque: the `cursor` of the previous page's `next` link; it holds the sort, so it is "
        "refused (422) with another sort or order"))


class BulkFilter(Body):
    """Every item a register search finds now (the filters of the register page)."""

    q: Filter | None = None
    class_code: Annotated[str, StringConstraints(max_length=64)] | None = Field(None, alias="class")
    status: Status | None = None
    owner: Filter | None = None
    location: Filter | None = None
    cost_centre: Filter | None = None
    service: Annotated[str, StringConstraints(max_length=32)] | None = Field(
        None, description="key of a service: the items it depends on")


class BulkSelection(Body):
    """Either `keys` (items named one by one, at most 500) or `filter` (every item it finds,
    however many; `{}` is the whole register)."""

    keys: list[Annotated[str, StringConstraints(min_length=1, max_length=32)]] | None = Field(
        None, min_length=1, max_length=500)
    filter: BulkFilter | None = None

    @model_validator(mode="after")
    def _one(self) -> BulkSelection:
        if (self.keys is None) == (self.filter is None):
            raise ValueError("give either keys or filter")
        return self


class BulkIn(Body):
    """One change for the whole selection: `status` (value: a lifecycle status), `owner`,
    `location` (value: the new one) or `retire` (no value)."""

    selection: BulkSelection
    action: Literal["status", "owner", "location", "retire"]
    value: Annotated[str, StringConstraints(max_length=120)] | None = None


class BulkOut(BaseModel):
    key: str = Field(description="the change registered")
    model: str
    count: int = Field(description="items the change touches")
    unchanged: int = Field(description="selected items that already had the value (left out)")
    state: str
    state_label: str
    step: str
    reached: bool = Field(description="whether the change got to the end of its model (closed)")
    blocked: list[str] = Field(description="when not: what a person must do next")


class AsOfQuery(Query):
    as_of: Moment | None = Field(None, description="as it was at this moment (ISO 8601 "
                                                   "date-time with offset)")


class ServicesQuery(Query):
    status: Status | None = None
    limit: Limit = 50
    cursor: Cursor | None = None


class ItemSummary(BaseModel):
    key: str
    name: str
    class_code: str
    status: str
    owner: str | None
    location: str | None
    cost_centre: str | None


class ItemPage(BaseModel):
    items: list[ItemSummary]
    total: int = Field(description="items matching the filters, over all pages")
    as_of: datetime | None
    next: str | None = Field(description="URL of the next page; null on the last page")


class Configuration(BaseModel):
    serial_number: str | None
    asset_tag: str | None
    manufacturer: str | None
    model: str | None
    hostname: str | None


class Financial(BaseModel):
    purchase_cost: MoneyOut | None
    currency: str | None
    acquired_on: date | None
    in_service_on: date | None
    depreciation_method: str | None
    depreciation_months: int | None
    residual_value: MoneyOut | None
    supplier: str | None
    contract: str | None
    invoice: str | None
    warranty_end: date | None
    lease_end: date | None
    end_of_life: date | None
    recurring_cost: MoneyOut | None
    recurring_period: str | None
    disposal_proceeds: MoneyOut | None = None


class ServiceRef(BaseModel):
    key: str
    name: str


class PendingChange(BaseModel):
    key: str
    title: str
    step: str


class ItemDetail(BaseModel):
    key: str
    class_code: str
    class_name: str
    version: int = Field(description="the register version of the item shown")
    valid_from: datetime
    valid_to: datetime | None = Field(description="null while this version is current")
    as_of: datetime | None
    name: str
    status: str
    owner: str | None
    location: str | None
    cost_centre: str | None
    configuration: Configuration
    financial: Financial
    attributes: dict[str, Any] = Field(description="class-specific attributes")
    services: list[ServiceRef] = Field(description="services that depend on this item")
    pending_changes: list[PendingChange] = Field(
        description="open changes that will touch this item")


class FieldChangeOut(BaseModel):
    field: str
    old: Any
    new: Any


class HistoryEntry(BaseModel):
    version: int
    valid_from: datetime
    valid_to: datetime | None
    change_key: str = Field(description="the change whose implementation made this version")
    change_title: str
    changes: list[FieldChangeOut]


class ItemHistory(BaseModel):
    key: str
    versions: list[HistoryEntry]


class RelationOut(BaseModel):
    kind: str
    label: str = Field(description="read from this item's side, e.g. 'runs on' or 'hosts'")
    direction: Literal["outgoing", "incoming"]
    key: str
    name: str
    class_code: str
    attributes: dict[str, Any]


class ItemRelations(BaseModel):
    key: str
    as_of: datetime | None
    relations: list[RelationOut]


class ServicePage(BaseModel):
    services: list[ItemSummary]
    total: int
    next: str | None


class SupportingItem(BaseModel):
    key: str
    name: str
    class_code: str
    status: str


class ServiceDetail(BaseModel):
    key: str
    name: str
    status: str
    owner: str | None
    cost_centre: str | None
    supporting: list[SupportingItem] = Field(
        description="items the service depends on, through the relation graph")
