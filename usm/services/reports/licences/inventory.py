"""What the licence position is computed from, read from the register as it stood at one moment:
licence entitlements, software installations, the devices the installations are installed on,
and the software products (the catalogue, which says whether a product needs a licence at all).

Three queries whatever the size of the register (items, their relations, the devices), so the
position of a thousand installations costs what the position of ten does.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bir.base import to_money
from bir.items import ItemVersion
from bir.queries import rows_by_id, valid_at
from bir.relations import Relation

ENTITLEMENT_CLASS = "licence.entitlement"
INSTALLATION_CLASS = "software.installation"
PRODUCT_CLASS = "software.product"
# A software product's ``licensing`` (bir/classes.yaml): these need no licence.
LICENSING = ("commercial", "free", "open_source", "bundled")
NO_LICENCE_NEEDED = frozenset({"free", "open_source", "bundled"})
# Relations of an installation: the device it is installed on, the entitlement that licenses it.
INSTALLED_ON = "installed_on"
LICENSED_BY = "licensed_by"


def product_key(product: str | None) -> str:
    """How products are matched: case-insensitive, trimmed, inner spaces collapsed
    ("Adobe  acrobat PRO " is "adobe acrobat pro")."""
    return " ".join((product or "").split()).casefold()


@dataclass(frozen=True)
class Entitlement:
    key: str
    name: str
    status: str
    product: str
    vendor: str | None
    metric: str
    quantity: int | None
    unit_price: Decimal | None
    currency: str | None
    term_start: date | None
    term_end: date | None
    contract: str | None
    supplier: str | None

    @property
    def product_key(self) -> str:
        return product_key(self.product)


@dataclass(frozen=True)
class Device:
    """An item an installation is installed on (laptop, server, virtual machine, cloud
    instance, ...), with its core count: attribute ``cores``, else ``vcpus``."""

    key: str
    name: str
    class_code: str
    class_name: str
    status: str
    owner: str | None
    location: str | None
    hostname: str | None
    serial_number: str | None
    cores: int | None


@dataclass(frozen=True)
class Installation:
    key: str
    name: str
    status: str
    product: str
    vendor: str | None
    edition: str | None
    product_version: str | None
    devices: tuple[Device, ...]
    licensed_by: tuple[str, ...]  # entitlement keys

    @property
    def product_key(self) -> str:
        return product_key(self.product)


@dataclass(frozen=True)
class Product:
    """A software product of the catalogue (class software.product)."""

    key: str
    name: str
    status: str
    product: str
    vendor: str | None
    licensing: str | None  # commercial, free, open_source, bundled; None when not registered

    @property
    def product_key(self) -> str:
        return product_key(self.product)


@dataclass(frozen=True)
class LicenceRegister:
    at: datetime
    entitlements: list[Entitlement]
    installations: list[Installation]
    products: list[Product] = field(default_factory=list)


def _class_is(model: Any, code: str) -> Any:
    return or_(model.class_code == code, model.class_code.like(f"{code}.%"))


def _code_is(class_code: str, code: str) -> bool:
    return class_code == code or class_code.startswith(f"{code}.")


def read_licence_register(session: Session, at: datetime) -> LicenceRegister:
    """Entitlements, installations (with their devices and entitlement links) and software
    products as registered at ``at``."""
    versions = list(session.scalars(
        select(ItemVersion)
        .where(valid_at(ItemVersion, at),
               or_(_class_is(ItemVersion, ENTITLEMENT_CLASS),
                   _class_is(ItemVersion, INSTALLATION_CLASS),
                   _class_is(ItemVersion, PRODUCT_CLASS)))
        .order_by(ItemVersion.key)))
    installation_ids = (
        select(ItemVersion.item_id)
        .where(valid_at(ItemVersion, at), _class_is(ItemVersion, INSTALLATION_CLASS))
        .scalar_subquery())
    links = session.execute(
        select(Relation.kind, Relation.source_id, Relation.target_id)
        .where(valid_at(Relation, at), Relation.kind.in_((INSTALLED_ON, LICENSED_BY)),
               Relation.source_id.in_(installation_ids))).all()
    keys_by_id = {v.item_id: v.key for v in versions}
    device_ids: dict[int, list[int]] = defaultdict(list)
    licence_keys: dict[int, list[str]] = defaultdict(list)
    for kind, source_id, target_id in links:
        if kind == INSTALLED_ON:
            device_ids[source_id].append(target_id)
        elif target_id in keys_by_id:
            licence_keys[source_id].append(keys_by_id[target_id])
    devices = {item_id: _device(row.record, row.class_name) for item_id, row in rows_by_id(
        session, {d for ids in device_ids.values() for d in ids}, at).items()}

    entitlements, installations, products = [], [], []
    for v in versions:
        if _code_is(v.class_code, ENTITLEMENT_CLASS):
            entitlements.append(_entitlement(v))
        elif _code_is(v.class_code, PRODUCT_CLASS):
            products.append(_product(v))
        else:
            attrs = v.attributes or {}
            installations.append(Installation(
                key=v.key, name=v.name, status=v.status, product=str(attrs.get("product") or ""),
                vendor=attrs.get("vendor"), edition=attrs.get("edition"),
                product_version=attrs.get("product_version"),
                devices=tuple(sorted((devices[d] for d in device_ids[v.item_id] if d in devices),
                                     key=lambda d: d.key)),
                licensed_by=tuple(sorted(licence_keys[v.item_id]))))
    return LicenceRegister(at, entitlements, installations, products)


def _product(v: ItemVersion) -> Product:
    attrs = v.attributes or {}
    licensing = attrs.get("licensing")
    return Product(key=v.key, name=v.name, status=v.status, product=str(attrs.get("product") or ""),
                   vendor=attrs.get("vendor"),
                   licensing=licensing if licensing in LICENSING else None)


def _entitlement(v: ItemVersion) -> Entitlement:
    attrs = v.attributes or {}
    return Entitlement(
        key=v.key, name=v.name, status=v.status, product=str(attrs.get("product") or ""),
        vendor=attrs.get("vendor"), metric=str(attrs.get("metric") or "device"),
        quantity=_integer(attrs.get("quantity")), unit_price=_money(attrs.get("unit_price")),
        currency=v.currency, term_start=_day(attrs.get("term_start")),
        term_end=_day(attrs.get("term_end")), contract=v.contract, supplier=v.supplier)


def _device(record: Any, class_name: str) -> Device:
    attrs = record.attributes or {}
    cores = attrs.get("cores")
    if cores is None:
        cores = attrs.get("vcpus")
    return Device(key=record.key, name=record.name, class_code=record.class_code,
                  class_name=class_name, status=record.status, owner=record.owner,
                  location=record.location, hostname=record.hostname,
                  serial_number=record.serial_number, cores=_integer(cores))


# Attributes were validated when written; these readers only guard against a class whose
# definition changed since (a value the current type cannot read counts as not registered).

def _integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _money(value: Any) -> Decimal | None:
    try:
        return to_money(value) if value not in (None, "") else None
    except ValueError:
        return None


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value not in (None, "") else None
    except ValueError:
        return None
