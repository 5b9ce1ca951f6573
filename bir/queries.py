"""Reading the register: now, as of any moment, and through its history."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, and_, false, func, literal, or_, select, union_all
from sqlalchemy.orm import Session, aliased

from bir.batches import batches
from bir.classes import ItemClass
from bir.errors import NotFound, NotYetRegistered
from bir.items import RECORD_FIELDS, Item, ItemVersion
from bir.matching import matches_text, search_words
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
        first = session.scalar(select(func.min(ItemVersion.valid_from))
                               .where(ItemVersion.key == key))
        raise NotYetRegistered(f"{key} was not registered yet at {at.isoformat()}", key=key,
                               first_registered=first)
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
    class_name: str = ""


def relations_of(session: Session, item_id: int, at: datetime | None = None) -> list[RelatedItem]:
    """The item's relations both ways, now or as of ``at`` (the other item as it was then), in
    one query."""
    other: Any = aliased(Item) if at is None else aliased(ItemVersion)
    other_id = other.id if at is None else other.item_id
    period = Relation.valid_to.is_(None) if at is None else valid_at(Relation, at)
    stmt = (
        select(Relation, other, ItemClass.name)
        .join(other, or_(
            and_(Relation.source_id == item_id, other_id == Relation.target_id),
            and_(Relation.target_id == item_id, other_id == Relation.source_id),
        ))
        .join(ItemClass, ItemClass.code == other.class_code)
        .where(period, or_(Relation.source_id == item_id, Relation.target_id == item_id))
        .order_by(Relation.kind, other.key)
    )
    if at is not None:
        stmt = stmt.where(valid_at(other, at))
    related: list[RelatedItem] = []
    for relation, item, class_name in session.execute(stmt):
        outgoing = relation.source_id == item_id
        kind = RELATION_KINDS[relation.kind]
        related.append(RelatedItem(
            relation.kind, kind.label if outgoing else kind.inverse_label, item.key, item.name,
            item.class_code, outgoing, dict(relation.attributes or {}), class_name,
        ))
    return related


@dataclass(frozen=True)
class ItemFilter:
    """What a search keeps: each given criterion must hold. ``text`` matches by the product's one
    rule (``bir.matching``): every word in one of ``TEXT_FIELDS``, ignoring case; ``class_code``
    includes subclasses; ``item_ids`` (e.g. the items supporting a service) limits the result to
    those items."""

    text: str | None = None
    class_code: str | None = None
    status: str | None = None
    owner: str | None = None
    location: str | None = None
    cost_centre: str | None = None
    item_ids: frozenset[int] | None = None


# The columns free text is matched in: what people call an item by.
TEXT_FIELDS = ("key", "name", "serial_number", "asset_tag", "hostname", "owner", "manufacturer",
               "model", "location")
# Sort name (as a caller gives it) -> column of the item record.
SORT_COLUMNS = {
    "key": "key",
    "name": "name",
    "class": "class_code",
    "status": "status",
    "owner": "owner",
    "location": "location",
    "cost_centre": "cost_centre",
    "purchase_cost": "purchase_cost",
    "acquired_on": "acquired_on",
}


def _filtered(stmt: Select[Any], model: Any, flt: ItemFilter | None) -> Select[Any]:
    if flt is None:
        return stmt
    if search_words(flt.text):
        stmt = stmt.where(matches_text([getattr(model, name) for name in TEXT_FIELDS], flt.text))
    if flt.class_code:
        stmt = stmt.where(or_(model.class_code == flt.class_code,
                              model.class_code.like(f"{flt.class_code}.%")))
    for name in ("status", "owner", "location", "cost_centre"):
        value = getattr(flt, name)
        if value:
            stmt = stmt.where(getattr(model, name) == value)
    if flt.item_ids is not None:
        id_column = model.id if model is Item else model.item_id
        stmt = stmt.where(id_column.in_(flt.item_ids) if flt.item_ids else false())
    return stmt


@dataclass(frozen=True)
class Position:
    """A place in a sorted result: the sort value and key of one row. A page starts just after
    (or, going back, ends just before) it."""

    value: Any
    key: str


@dataclass(frozen=True)
class SearchRow:
    record: Item | ItemVersion
    class_name: str


def _after(column: Any, key_column: Any, position: Position, *, descending: bool,
           nulls_after: bool) -> Any:
    """Rows that come after ``position`` when sorted by ``column`` (nulls after or before the
    values), then by key; ascending, or descending."""
    def beyond(col: Any, value: Any) -> Any:
        return col < value if descending else col > value

    if column is key_column:
        return beyond(key_column, position.key)
    if position.value is None:
        same_and_beyond = and_(column.is_(None), beyond(key_column, position.key))
        return same_and_beyond if nulls_after else or_(column.is_not(None), same_and_beyond)
    values_beyond = or_(beyond(column, position.value),
                        and_(column == position.value, beyond(key_column, position.key)))
    return or_(values_beyond, column.is_(None)) if nulls_after else values_beyond


def _order(column: Any, key_column: Any, *, descending: bool, nulls_after: bool) -> list[Any]:
    """ORDER BY ``column`` (empty values after or before the rest), then by key."""
    order = []
    if column is not key_column:
        value_order = column.desc() if descending else column.asc()
        order.append(value_order.nulls_last() if nulls_after else value_order.nulls_first())
    order.append(key_column.desc() if descending else key_column.asc())
    return order


def search_items(session: Session, flt: ItemFilter | None = None, *, sort: str = "key",
                 descending: bool = False, after: Position | None = None,
                 before: Position | None = None, limit: int = PAGE_SIZE,
                 at: datetime | None = None) -> tuple[list[SearchRow], bool]:
    """One page of the register (current, or as it stood at ``at``) sorted by ``sort`` (a name of
    ``SORT_COLUMNS``), then by key; empty values always sort last. Keyset pagination: the page
    starts after ``after`` or ends before ``before``. Returns the rows in display order and whether
    more rows lie beyond the page in the direction read (after it, or before it going back)."""
    if sort not in SORT_COLUMNS:
        raise ValueError(f"unknown sort column {sort!r}")
    model: Any = Item if at is None else ItemVersion
    column = getattr(model, SORT_COLUMNS[sort])
    backwards = before is not None
    # Reading back means reading the reverse order forwards, then turning the page round.
    read_descending = descending != backwards
    nulls_after = not backwards
    stmt = _filtered(
        select(model, ItemClass.name).join(ItemClass, ItemClass.code == model.class_code),
        model, flt)
    if at is not None:
        stmt = stmt.where(valid_at(ItemVersion, at))
    position = before if backwards else after
    if position is not None:
        stmt = stmt.where(_after(column, model.key, position, descending=read_descending,
                                 nulls_after=nulls_after))
    order = _order(column, model.key, descending=read_descending, nulls_after=nulls_after)
    size = max(1, min(limit, MAX_PAGE_SIZE))
    rows = [SearchRow(record, name)
            for record, name in session.execute(stmt.order_by(*order).limit(size + 1))]
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()
    return rows, more


SNAPSHOT_BATCH = 2000


def snapshot_rows(session: Session, flt: ItemFilter | None = None, *, sort: str = "key",
                  descending: bool = False, at: datetime | None = None) -> Iterator[Row[Any]]:
    """Every matching item (now, or as it stood at ``at``) as plain rows of ``key``,
    ``class_code``, the record fields and ``attributes``, in the order of ``search_items``.

    One streamed query rather than keyset pages of ORM objects: a whole-register read (an export,
    an as-of snapshot) then costs little more than the bare SELECT, and holds one batch in memory.
    """
    if sort not in SORT_COLUMNS:
        raise ValueError(f"unknown sort column {sort!r}")
    model: Any = Item if at is None else ItemVersion
    columns = [model.key, model.class_code, *(getattr(model, f) for f in RECORD_FIELDS),
               model.attributes]
    stmt = _filtered(select(*columns), model, flt)
    if at is not None:
        stmt = stmt.where(valid_at(ItemVersion, at))
    stmt = stmt.order_by(*_order(getattr(model, SORT_COLUMNS[sort]), model.key,
                                 descending=descending, nulls_after=True))
    # Closed however the reader stops (a download cut off), so no server-side cursor lingers.
    with session.execute(stmt.execution_options(yield_per=SNAPSHOT_BATCH)) as result:
        yield from result


def list_items(session: Session, flt: ItemFilter | None = None, *, after: str | None = None,
               limit: int = PAGE_SIZE) -> list[Item]:
    """One page of current items ordered by key, continuing after the key ``after`` (keyset)."""
    stmt = _filtered(select(Item), Item, flt).order_by(Item.key)
    if after:
        stmt = stmt.where(Item.key > after)
    return list(session.scalars(stmt.limit(max(1, min(limit, MAX_PAGE_SIZE)))))


WALK_PAGE = 5000


def walk_items(session: Session, flt: ItemFilter | None, *fields: str,
               page: int = WALK_PAGE) -> Iterator[Row[Any]]:
    """Every current item matching ``flt`` as plain rows of ``key`` and ``fields``, by key, read
    in keyset pages of ``page`` rows: a walk over the whole register (a bulk action's change set)
    holds one page at a time and keeps no cursor open between pages."""
    columns = [Item.key, *(getattr(Item, name) for name in fields)]
    after: str | None = None
    while True:
        stmt = _filtered(select(*columns), Item, flt).order_by(Item.key).limit(page)
        if after is not None:
            stmt = stmt.where(Item.key > after)
        rows = session.execute(stmt).all()
        yield from rows
        if len(rows) < page:
            return
        after = rows[-1].key


def count_items(session: Session, flt: ItemFilter | None = None, at: datetime | None = None) -> int:
    """How many items match, now or as of ``at``."""
    if at is not None:
        return count_as_of(session, at, flt)
    return session.scalar(_filtered(select(func.count(Item.id)), Item, flt)) or 0


def count_as_of(session: Session, at: datetime, flt: ItemFilter | None = None) -> int:
    stmt = _filtered(select(func.count(ItemVersion.id)), ItemVersion, flt)
    return session.scalar(stmt.where(valid_at(ItemVersion, at))) or 0


def items_by_key(session: Session, keys: list[str]) -> dict[str, Item]:
    if not keys:
        return {}
    return {i.key: i for batch in batches(keys)
            for i in session.scalars(select(Item).where(Item.key.in_(batch)))}


def rows_by_id(session: Session, item_ids: set[int], at: datetime | None = None
               ) -> dict[int, SearchRow]:
    """Items by id with their class names, as they are now or as they stood at ``at`` (an item
    that did not exist then is left out). One query."""
    if not item_ids:
        return {}
    if at is None:
        current = select(Item, ItemClass.name).join(ItemClass, ItemClass.code == Item.class_code)
        return {item.id: SearchRow(item, name)
                for item, name in session.execute(current.where(Item.id.in_(item_ids)))}
    then = (select(ItemVersion, ItemClass.name)
            .join(ItemClass, ItemClass.code == ItemVersion.class_code)
            .where(ItemVersion.item_id.in_(item_ids), valid_at(ItemVersion, at)))
    return {version.item_id: SearchRow(version, name)
            for version, name in session.execute(then)}


SERVICE_CLASS = "service"


def is_service_class(class_code: str) -> bool:
    return class_code == SERVICE_CLASS or class_code.startswith(SERVICE_CLASS + ".")


def service_condition(model: Any) -> Any:
    """Items of the service class (and any subclass a designer adds)."""
    return or_(model.class_code == SERVICE_CLASS, model.class_code.like(f"{SERVICE_CLASS}.%"))


# Fields whose distinct current values a search form offers as choices.
CHOICE_FIELDS = ("owner", "location", "cost_centre")


def search_choices(session: Session, limit: int = 1000) -> dict[str, list[tuple[str, str | None]]]:
    """What a search form offers, in one query: ``class`` (code, name) for every class,
    ``service`` (key, name) for every service item, and the distinct current values of
    ``CHOICE_FIELDS`` (value, None), each list sorted and cut at ``limit`` entries."""
    parts = [
        select(literal("class").label("field"), ItemClass.code.label("value"),
               ItemClass.name.label("label")),
        select(literal("service").label("field"), Item.key.label("value"),
               Item.name.label("label")).where(service_condition(Item)),
    ]
    for name in CHOICE_FIELDS:
        column = getattr(Item, name)
        distinct = (select(column.label("value")).where(column.is_not(None)).distinct()
                    .order_by(column).limit(limit).subquery())
        parts.append(select(literal(name).label("field"), distinct.c.value,
                            literal(None).label("label")))
    choices: dict[str, list[tuple[str, str | None]]] = {
        name: [] for name in ("class", "service", *CHOICE_FIELDS)}
    for field, value, text in session.execute(union_all(*parts)):
        choices[field].append((value, text))
    for name, values in choices.items():
        choices[name] = sorted(values)[:limit]
    return choices


__all__ = [
    "CHOICE_FIELDS", "RECORD_FIELDS", "SERVICE_CLASS", "SORT_COLUMNS", "TEXT_FIELDS", "FieldChange",
    "HistoryEntry", "ItemFilter", "Position", "RelatedItem", "SearchRow", "count_as_of",
    "count_items", "flatten", "get_item", "is_service_class", "item_as_of", "item_history",
    "items_by_key", "list_items", "relations_of", "rows_by_id",
    "search_choices", "search_items", "service_condition", "snapshot_rows", "valid_at",
    "walk_items",
]
