"""The one place that writes the register: applying a planned change set at implementation.

Only the CHM engine calls ``apply_change_set``, inside the transaction that moves the change into its
implementation step, so the register edits and the step move commit together or not at all.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.orm import ORMExecuteState, Session

from bir.changeset import as_raw, plan_change_set
from bir.classes import ClassCatalogue
from bir.errors import FieldError, StaleChangeSet, ValidationFailed
from bir.items import RECORD_FIELDS, Item, ItemFields, ItemVersion
from bir.keys import reserve_keys
from bir.relations import Relation

_REGISTER_TABLES = frozenset({"bir_item", "bir_item_version", "bir_relation"})
_applying: ContextVar[bool] = ContextVar("applying_change_set", default=False)


class RegisterWriteRefused(RuntimeError):
    """Something tried to write the register outside the implementation of a change."""


@contextmanager
def _register_writes() -> Iterator[None]:
    token = _applying.set(True)
    try:
        yield
    finally:
        _applying.reset(token)


@event.listens_for(Session, "before_flush")
def _refuse_unapplied_flush(session: Session, flush_context: Any, instances: Any) -> None:
    if _applying.get():
        return
    for obj in (*session.new, *session.dirty, *session.deleted):
        table = getattr(obj, "__tablename__", None)
        if table in _REGISTER_TABLES and (obj not in session.dirty or session.is_modified(obj)):
            raise RegisterWriteRefused(
                f"{table} is written only by implementing a change (CHM); use the change engine")


@event.listens_for(Session, "do_orm_execute")
def _refuse_unapplied_statement(state: ORMExecuteState) -> None:
    if _applying.get() or state.is_select:
        return
    table = getattr(getattr(state.statement, "table", None), "name", None)
    if table in _REGISTER_TABLES:
        raise RegisterWriteRefused(
            f"{table} is written only by implementing a change (CHM); use the change engine")


@dataclass
class AppliedChangeSet:
    """What an implementation did, for the step log and the user."""

    created: dict[str, str] = field(default_factory=dict)  # ref or position -> new key
    updated: list[str] = field(default_factory=list)
    relations_added: int = 0
    relations_removed: int = 0

    def summary(self) -> str:
        parts = []
        if self.created:
            parts.append(f"created {', '.join(self.created.values())}")
        if self.updated:
            parts.append(f"updated {', '.join(self.updated)}")
        if self.relations_added:
            parts.append(f"{self.relations_added} relation(s) added")
        if self.relations_removed:
            parts.append(f"{self.relations_removed} relation(s) removed")
        return "; ".join(parts) or "no register edits"


def apply_change_set(
    session: Session, operations: list[dict[str, Any]], *, change_id: int, at: datetime
) -> AppliedChangeSet:
    """Apply planned operations as of ``at``; raise ``StaleChangeSet`` when an item an operation
    touches has moved past the operation's ``base_version``, and ``ValidationFailed`` when the
    register no longer allows the operations (either writes nothing the caller keeps, as the
    caller rolls back)."""
    with _register_writes():
        return _apply(session, operations, change_id=change_id, at=at)


def _apply(
    session: Session, operations: list[dict[str, Any]], *, change_id: int, at: datetime
) -> AppliedChangeSet:
    versions = _lock_touched_items(session, operations)
    # What the register no longer allows at all is named first; then what it would overwrite.
    planned = plan_change_set(session, [as_raw(op) for op in operations])
    _refuse_stale(operations, versions)
    catalogue = ClassCatalogue.load(session)
    result = AppliedChangeSet()

    existing_keys = {op["item"] for op in planned if op.get("item") and op["item"][0] != "@"}
    existing_keys |= {
        op[end] for op in planned for end in ("source", "target")
        if op.get(end) and op[end][0] != "@"
    }
    items = {
        item.key: item
        # populate_existing: an item loaded earlier in this session must show the locked row.
        for item in session.scalars(select(Item).where(Item.key.in_(sorted(existing_keys)))
                                    .execution_options(populate_existing=True))
    } if existing_keys else {}
    new_items = _build_new_items(session, planned, catalogue, change_id, at, result)
    by_name: dict[str, Item] = dict(items)
    by_name.update({f"@{ref}": item for ref, item in new_items if ref})
    touched: dict[str, Item] = {}
    for op in planned:
        if op["op"] == "update_item":
            item = by_name[op["item"]]
            _set_fields(item, op["fields"], op["attributes"])
            touched[item.key] = item
        elif op["op"] == "set_status":
            item = by_name[op["item"]]
            item.status = op["status"]
            touched[item.key] = item

    updated = [item for key, item in touched.items() if key in items]
    for item in updated:
        if at <= item.valid_from:
            raise ValidationFailed([FieldError(
                item.key, f"the register holds a version from {item.valid_from.isoformat()}; "
                          f"a change cannot be implemented before it ({at.isoformat()})")])
    if updated:
        session.execute(
            update(ItemVersion)
            .where(ItemVersion.item_id.in_([i.id for i in updated]), ItemVersion.valid_to.is_(None))
            .values(valid_to=at)
        )
        for item in updated:
            item.version += 1
            item.valid_from = at
            item.last_change_id = change_id
        result.updated = [i.key for i in updated]
    session.flush()
    session.add_all(
        _version_of(item, change_id)
        for item in [item for _, item in new_items] + updated
    )
    _apply_relations(session, planned, by_name, change_id, at, result)
    session.flush()
    return result


def _lock_touched_items(session: Session, operations: list[dict[str, Any]]) -> dict[str, int]:
    """Lock the rows of the existing items the operations name and return their versions.

    The lock (PostgreSQL; SQLite has one writer at a time anyway) makes a concurrent
    implementation touching the same item wait for this one and then see its new version.
    Rows are locked in key order, so two implementations cannot wait on each other.
    """
    keys = sorted({op[name] for op in operations for name in ("item", "source", "target")
                   if isinstance(op.get(name), str) and not op[name].startswith("@")})
    if not keys:
        return {}
    rows = session.execute(
        select(Item.key, Item.version).where(Item.key.in_(keys)).order_by(Item.key)
        .with_for_update()
    )
    return {key: version for key, version in rows}


def _refuse_stale(operations: list[dict[str, Any]], versions: dict[str, int]) -> None:
    problems = []
    for position, op in enumerate(operations, start=1):
        base, key = op.get("base_version"), op.get("item")
        if base is None or key not in versions or versions[key] == base:
            continue
        problems.append(f"operation {position} ({op['op']} {key}): {key} changed since this "
                        f"change was planned (version {base}, now {versions[key]}): rework the "
                        "change set")
    if problems:
        raise StaleChangeSet(problems)


def _build_new_items(session: Session, planned: list[dict[str, Any]], catalogue: ClassCatalogue,
                     change_id: int, at: datetime, result: AppliedChangeSet
                     ) -> list[tuple[str | None, Item]]:
    creates = [op for op in planned if op["op"] == "create_item"]
    if not creates:
        return []
    by_prefix: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for op in creates:
        by_prefix[catalogue.by_code[op["class"]].key_prefix].append(op)
    keys: dict[int, str] = {}
    for prefix, ops in by_prefix.items():
        for op, key in zip(ops, reserve_keys(session, prefix, len(ops)), strict=True):
            keys[id(op)] = key
    built: list[tuple[str | None, Item]] = []
    for position, op in enumerate(creates):
        item = Item(key=keys[id(op)], class_code=op["class"], version=1, valid_from=at,
                    created_change_id=change_id, last_change_id=change_id, attributes={})
        for name in RECORD_FIELDS:
            setattr(item, name, None)
        _set_fields(item, op["fields"], op["attributes"])
        built.append((op.get("ref"), item))
        result.created[f"@{op['ref']}" if op.get("ref") else f"#{position + 1}"] = item.key
    session.add_all(item for _, item in built)
    session.flush()
    return built


def _set_fields(item: Item, fields: dict[str, Any], attributes: dict[str, Any]) -> None:
    # Planned values are JSON; parse them once more so dates and amounts get their Python types.
    parsed = ItemFields.model_validate(fields)
    for name in fields:
        setattr(item, name, getattr(parsed, name))
    if attributes:
        merged = dict(item.attributes or {})
        for name, value in attributes.items():
            if value is None:
                merged.pop(name, None)
            else:
                merged[name] = value
        item.attributes = merged


def _version_of(item: Item, change_id: int) -> ItemVersion:
    values = item.record()
    return ItemVersion(item_id=item.id, key=item.key, version=item.version,
                       valid_from=item.valid_from, valid_to=None, change_id=change_id, **values)


def _apply_relations(session: Session, planned: list[dict[str, Any]], by_name: dict[str, Item],
                     change_id: int, at: datetime, result: AppliedChangeSet) -> None:
    for op in planned:
        if op["op"] == "add_relation":
            session.add(Relation(kind=op["kind"], source_id=by_name[op["source"]].id,
                                 target_id=by_name[op["target"]].id,
                                 attributes=op.get("attributes") or {}, valid_from=at,
                                 change_id=change_id))
            result.relations_added += 1
        elif op["op"] == "remove_relation":
            ended = session.execute(
                update(Relation)
                .where(Relation.kind == op["kind"], Relation.source_id == by_name[op["source"]].id,
                       Relation.target_id == by_name[op["target"]].id,
                       Relation.valid_to.is_(None))
                .values(valid_to=at, ended_change_id=change_id)
            )
            result.relations_removed += ended.rowcount
