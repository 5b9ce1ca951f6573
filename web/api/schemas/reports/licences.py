"""Schemas of the licence report (software asset management) in the API."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from web.api.schemas.common import Day, MoneyOut, Query


class LicenceQuery(Query):
    as_of: Day | None = Field(None, description="the day (YYYY-MM-DD) whose end the register "
                                                 "is read at, UTC; today when left out")


class EntitlementOut(BaseModel):
    key: str
    name: str
    status: str
    product: str
    vendor: str | None
    metric: str
    quantity: int | None
    entitled: int = Field(description="what it adds to the position on the day")
    note: str | None = Field(description="why it adds nothing (status, term), if so")
    unit_price: MoneyOut | None
    currency: str | None
    term_start: date | None
    term_end: date | None
    contract: str | None
    supplier: str | None


class DeviceOut(BaseModel):
    key: str
    name: str
    class_code: str
    status: str
    owner: str | None
    location: str | None
    hostname: str | None
    serial_number: str | None
    cores: int | None = Field(description="attribute cores, else vcpus; null when unknown")


class InstallationOut(BaseModel):
    key: str
    name: str
    status: str
    product: str
    edition: str | None
    product_version: str | None
    counted: bool = Field(description="in use or maintenance: counted in the consumption")
    licensed_by: list[str]
    devices: list[DeviceOut]
    notes: list[str]


class PositionOut(BaseModel):
    product: str
    vendor: str | None
    metric: str
    entitled: int
    consumed: int
    surplus: int
    shortfall: int
    unit_price: MoneyOut | None = Field(
        description="the highest unit price among the position's entitlements")
    currency: str | None
    shortfall_cost: MoneyOut | None = Field(
        description="shortfall x unit_price; null without a price or with several currencies")
    counted: list[str] = Field(description="what the consumption counted: devices, owners, "
                                           "hosts with their cores, sites or installations")
    notes: list[str]
    kind: Literal["entitled", "unlicensed", "no_licence_needed"] = Field(
        description="entitled: the product holds entitlements; unlicensed: installed without "
                    "any entitlement (every counted unit is a shortfall, without a price); "
                    "no_licence_needed: its software product is free, open source or bundled, "
                    "never a shortfall")
    needs_licence: bool = Field(description="false when kind is no_licence_needed")
    licensing: str | None = Field(
        description="the licensing its software product items say (commercial, free, "
                    "open_source, bundled); null when not registered or when they disagree")
    product_items: list[str] = Field(
        description="keys of the product's software product items (class software.product); "
                    "empty when the catalogue has none: marking the product registers one")
    installed: int = Field(description="counted installations (in use or maintenance)")


class PositionDetail(PositionOut):
    entitlements: list[EntitlementOut]
    installations: list[InstallationOut]


class CostTotalOut(BaseModel):
    currency: str | None
    amount: MoneyOut


class LicencePosition(BaseModel):
    as_of: date
    positions: list[PositionOut]
    shortfall_costs: list[CostTotalOut] = Field(description="the shortfall costs per currency")
    rules: dict[str, str] = Field(description="how each metric's consumption is counted")


class ProductLicences(BaseModel):
    as_of: date
    product: str
    vendor: str | None
    needs_licence: bool = Field(description="false when its software product is free, open "
                                            "source or bundled")
    licensing: str | None
    product_items: list[str]
    positions: list[PositionDetail]
