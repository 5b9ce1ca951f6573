"""Reading the register: now, as of any moment, and through its history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from bir.errors import NotFound, NotYetRegistered
from bir.items import RECORD_FIELDS, Item, ItemVersion
from bir.relations import Relation
from bir.vocabulary import RELATION_KINDS

PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


def get_item(session: Session, key: str) -> Item:
    item = session.scalar(select(Item).where(Item.key == key))
    if item is None:
        raise NotFound(f"no item {key} in the register")
    return item


def valid_at(model: type[ItemVersion] | type[Relation], at: datetime) -> Any:
    """The SQL condition 'this version was the valid one at ``at``' (intervals are half-open)."""
    return and_(model.valid_from <= at, or_(model.valid_to.is_(None), model.valid_to > at))


def item_as_of(session: Session, key: str, at: datetime) -> ItemVersion:
    """The item as it was registered at ``at``; ``NotFound`` if it did not exist yet."""
    version = session.scalar(
        select(ItemVersion).where(ItemVersion.key == key, valid_at(ItemVersion, at))
    )
    if version is None:
        if session.scalar(select(Item.id).where(Item.key == key)) is None:
            raise NotFound(f"no item {key} in the register")
        raise NotYetRegistered(f"{key} was not registered yet at {at.isoformat()}")
    return version


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class HistoryEntry:
    version: ItemVersion
    changes: list[FieldChange]


def item_history(session: Session, key: str) -> list[HistoryEntry]:
    """Every version of an item, oldest first, each with the fields it changed."""
    versions = list(
        session.scalars(
            select(ItemVersion).where(ItemVersion.key == key).order_by(ItemVersion.version)
        )
    )
    if not versions:
        raise NotFound(f"no item {key} in the register")
    entries: list[HistoryEntry] = []
    previous: dict[str, Any] = {}
    for version in versions:
        current = flatten(version.record())
        changes = [
            FieldChange(name, previous.get(name), value)
            for name, value in current.items()
            if previous.get(name) != value
        ]
        entries.append(HistoryEntry(version, changes))
        previous = current
    return entries


def flatten(record: dict[str, Any]) -> dict[str, Any]:
    """A record with class-specific attributes as ``attributes.<name>`` and empty values dropped."""
    flat = {k: v for k, v in record.items() if k != "attributes" and v is not None}
    for name, value in (record.get("attributes") or {}).items():
        if value is not None:
            flat[f"attributes.{name}"] = value
    return flat


@dataclass(frozen=True)
class RelatedItem:
    kind: str
    label: str  # read from the item's side: "runs on", or the inverse "hosts"
    key: str
    name: str
    class_code: str
    outgoing: bool
    attributes: dict[str, Any]


def relations_of(session: Session, item_id: int, at: datetime | None = None) -> list[RelatedItem]:
    """The item's relations both ways, now or as of ``at``, in one query."""
    other = aliased(Item)
    period = Relation.valid_to.is_(None) if at is None else valid_at(Relation, at)
    stmt = (
        select(Relation, other)
        .join(other, or_(
            and_(Relation.source_id == item_id, other.id == Relation.target_id),
            and_(Relation.target_id == item_id, other.id == Relation.source_id),
        ))
        .where(period, or_(Relation.source_id == item_id, Relation.target_id == item_id))
        .order_by(Relation.kind, other.key)
    )
    related: list[RelatedItem] = []
    for relation, item in session.execute(stmt):
        outgoing = relation.source_id == item_id
        kind = RELATION_KINDS[relation.kind]
        related.append(RelatedItem(
            relation.kind, kind.label if outgoing else kind.inverse_label, item.key, item.name,
            item.class_code, outgoing, dict(relation.attributes or {}),
        ))
    return related


@dataclass(frozen=True)
class ItemFilter:
    text: str | None = None
    class_code: str | None = None
    status: str | None = None
    owner: str | None = None
    location: str | None = None
    cost_centre: str | None = None


def _filtered(stmt: Select[Any], model: Any, flt: ItemFilter | None) -> Select[Any]:
    if flt is None:
        return stmt
    if flt.text:
        pattern = f"%{flt.text.strip().lower()}%"
        stmt = stmt.where(or_(*(
            func.lower(getattr(model, name)).like(pattern)
            for name in ("key", "name", "serial_number", "asset_tag", "hostname")
        )))
    if flt.class_code:
        stmt = stmt.where(or_(model.class_code == flt.class_code,
                              model.class_code.like(f"{flt.class_code}.%")))
    for name in ("status", "owner", "location", "cost_centre"):
        value = getattr(flt, name)
        if value:
            stmt = stmt.where(getattr(model, name) == value)
    return stmt


def list_items(session: Session, flt: ItemFilter | None = None, *, after: str | None = None,
               limit: int = PAGE_SIZE) -> list[Item]:
    """One page of current items ordered by key, continuing after the key ``after`` (keyset)."""
    stmt = _filtered(select(Item), Item, flt).order_by(Item.key)
    if after:
        stmt = stmt.where(Item.key > after)
    return list(session.scalars(stmt.limit(max(1, min(limit, MAX_PAGE_SIZE)))))


def count_items(session: Session, flt: ItemFilter | None = None) -> int:
    return session.scalar(_filtered(select(func.count(Item.id)), Item, flt)) or 0


def register_as_of(session: Session, at: datetime, flt: ItemFilter | None = None, *,
                   after: str | None = None, limit: int = PAGE_SIZE) -> list[ItemVersion]:
    """One page of the whole register as it stood at ``at``."""
    stmt = _filtered(select(ItemVersion), ItemVersion, flt).where(valid_at(ItemVersion, at))
    if after:
        stmt = stmt.where(ItemVersion.key > after)
    stmt = stmt.order_by(ItemVersion.key).limit(max(1, min(limit, MAX_PAGE_SIZE)))
    return list(session.scalars(stmt))


def count_as_of(session: Session, at: datetime, flt: ItemFilter | None = None) -> int:
    stmt = _filtered(select(func.count(ItemVersion.id)), ItemVersion, flt)
    return session.scalar(stmt.where(valid_at(ItemVersion, at))) or 0


def items_by_key(session: Session, keys: list[str]) -> dict[str, Item]:
    if not keys:
        return {}
    return {i.key: i for i in session.scalars(select(Item).where(Item.key.in_(keys)))}


__all__ = [
    "RECORD_FIELDS", "FieldChange", "HistoryEntry", "ItemFilter", "RelatedItem", "count_as_of",
    "count_items",
    "flatten", "get_item", "item_as_of", "item_history", "items_by_key", "list_items",
    "register_as_of", "relations_of", "valid_at",
]
