"""The one place that writes the register: applying a planned change set at implementation.

Only the CHM engine calls ``apply_change_set``, inside the transaction that moves the change into its
implementation step, so the register edits and the step move commit together or not at all.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, Update, bindparam, insert, select, update
from sqlalchemy.orm import Session

from bir.attachments import Blob, ItemAttachment
from bir.base import Money
from bir.batches import batches
from bir.bulk import insert_rows
from bir.changeset import as_raw, plan_change_set
from bir.classes import ClassCatalogue
from bir.errors import FieldError, StaleChangeSet, ValidationFailed
from bir.guard import RegisterWriteRefused, register_writes
from bir.items import RECORD_FIELDS, Item, ItemVersion
from bir.keys import reserve_ids, reserve_keys
from bir.relations import Relation

__all__ = ["AppliedChangeSet", "RegisterWriteRefused", "apply_change_set"]


@dataclass
class AppliedChangeSet:
    """What an implementation did, for the step log and the user."""

    created: dict[str, str] = field(default_factory=dict)  # ref or position -> new key
    updated: list[str] = field(default_factory=list)
    relations_added: int = 0
    relations_removed: int = 0
    attachments_added: int = 0
    attachments_removed: int = 0

    def summary(self) -> str:
        parts = []
        if self.created:
            parts.append(f"created {_listed(list(self.created.values()), 'items')}")
        if self.updated:
            parts.append(f"updated {_listed(self.updated, 'items')}")
        if self.relations_added:
            parts.append(f"{self.relations_added} relation(s) added")
        if self.relations_removed:
            parts.append(f"{self.relations_removed} relation(s) removed")
        if self.attachments_added:
            parts.append(f"{self.attachments_added} attachment(s) added")
        if self.attachments_removed:
            parts.append(f"{self.attachments_removed} attachment(s) removed")
        return "; ".join(parts) or "no register edits"


def _listed(keys: list[str], noun: str, shown: int = 10) -> str:
    """Every key of a small change; the first and last of a baseline import of 100,000 items."""
    if len(keys) <= shown:
        return ", ".join(keys)
    return f"{len(keys):,} {noun} ({', '.join(keys[:3])} … {keys[-1]})"


def apply_change_set(
    session: Session, operations: list[dict[str, Any]], *, change_id: int, at: datetime
) -> AppliedChangeSet:
    """Apply planned operations as of ``at``; raise ``StaleChangeSet`` when an item an operation
    touches has moved past the operation's ``base_version``, and ``ValidationFailed`` when the
    register no longer allows the operations (either writes nothing the caller keeps, as the
    caller rolls back)."""
    with register_writes():
        return _apply(session, operations, change_id=change_id, at=at)


_ITEM = Item.__table__
_VERSION = ItemVersion.__table__
_RELATION = Relation.__table__
_ATTACHMENT = ItemAttachment.__table__
# Set on every updated item besides the columns its operations name.
_MOVED_ON = ("version", "valid_from", "last_change_id")


def _set_current(columns: frozenset[str]) -> Update:
    """UPDATE of the current rows setting ``columns``, bound as ``v_<column>`` (SQLAlchemy
    reserves the plain column names for the SET clause)."""
    return (update(_ITEM).where(_ITEM.c.id == bindparam("v_id"))
            .values({name: bindparam(f"v_{name}") for name in sorted(columns)}))


def _apply(
    session: Session, operations: list[dict[str, Any]], *, change_id: int, at: datetime
) -> AppliedChangeSet:
    """Work on plain rows and write them with one executemany per table: a baseline import of
    100,000 items is a handful of batched statements, not 300,000 ORM objects (issue 8)."""
    current = _lock_touched_items(session, operations)
    # What the register no longer allows at all is named first; then what it would overwrite.
    planned = plan_change_set(session, [as_raw(op) for op in operations], fields_checked=True,
                              known_items=current)
    _refuse_stale(operations, {key: row["version"] for key, row in current.items()})
    result = AppliedChangeSet()

    new_rows = _new_rows(session, planned, ClassCatalogue.load(session), change_id, at, result)
    rows: dict[str, dict[str, Any]] = {**current, **{f"@{ref}": row for ref, row in new_rows
                                                     if ref}}
    updated: dict[str, dict[str, Any]] = {}
    changed: dict[str, set[str]] = defaultdict(set)  # per updated item, the columns to set
    for op in planned:
        if op["op"] not in ("update_item", "set_status"):
            continue
        name = op["item"]
        if name in current:
            row = updated.get(name)
            if row is None:
                row = updated[name] = rows[name] = dict(current[name])
        else:
            row = rows[name]
        if op["op"] == "update_item":
            _set_fields(row, op["fields"], op["attributes"])
            changed[name].update(op["fields"])
            if op["attributes"]:
                changed[name].add("attributes")
        else:
            row["status"] = op["status"]
            changed[name].add("status")

    _insert_items(session, [row for _, row in new_rows])
    _update_items(session, updated, changed, change_id, at)
    result.updated = list(updated)
    versions_made = [_version_of(row, change_id)
                     for row in [row for _, row in new_rows] + list(updated.values())]
    insert_rows(session, _VERSION, versions_made)
    _apply_relations(session, planned, rows, change_id, at, result)
    _apply_attachments(session, planned, rows, change_id, at, result)
    _forget_register_objects(session)
    return result


def _lock_touched_items(session: Session, operations: list[dict[str, Any]]
                        ) -> dict[str, dict[str, Any]]:
    """Lock and read the current rows of the existing items the operations name, by key.

    The lock (PostgreSQL; SQLite has one writer at a time anyway) makes a concurrent
    implementation touching the same item wait for this one and then see its new version.
    Rows are locked in key order, so two implementations cannot wait on each other.
    """
    keys = sorted({op[name] for op in operations for name in ("item", "source", "target")
                   if isinstance(op.get(name), str) and not op[name].startswith("@")})
    rows: dict[str, dict[str, Any]] = {}
    for batch in batches(keys):
        for row in session.execute(select(_ITEM).where(_ITEM.c.key.in_(batch))
                                   .order_by(_ITEM.c.key).with_for_update()):
            rows[row.key] = row._asdict()
    return rows


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


def _new_rows(session: Session, planned: list[dict[str, Any]], catalogue: ClassCatalogue,
              change_id: int, at: datetime, result: AppliedChangeSet
              ) -> list[tuple[str | None, dict[str, Any]]]:
    """The rows of the items the change creates, keyed and filled, not yet inserted."""
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
    built: list[tuple[str | None, dict[str, Any]]] = []
    for position, op in enumerate(creates):
        row: dict[str, Any] = dict.fromkeys(RECORD_FIELDS)
        row.update(key=keys[id(op)], class_code=op["class"], version=1, valid_from=at,
                   created_change_id=change_id, last_change_id=change_id, attributes={})
        _set_fields(row, op["fields"], op["attributes"])
        built.append((op.get("ref"), row))
        result.created[f"@{op['ref']}" if op.get("ref") else f"#{position + 1}"] = row["key"]
    return built


def _insert_items(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert new items in one go, each with an id drawn beforehand."""
    if not rows:
        return
    for row, item_id in zip(rows, reserve_ids(session, _ITEM, len(rows)), strict=True):
        row["id"] = item_id
    insert_rows(session, _ITEM, rows)


def _update_items(session: Session, rows: dict[str, dict[str, Any]],
                  changed: dict[str, set[str]], change_id: int, at: datetime) -> None:
    """Close the open versions of the updated items and move their current rows on: one
    executemany per set of changed columns (10,000 items moved to a site are one statement)."""
    if not rows:
        return
    by_columns: dict[frozenset[str], list[dict[str, Any]]] = defaultdict(list)
    for name, row in rows.items():
        if at <= row["valid_from"]:
            raise ValidationFailed([FieldError(
                row["key"], f"the register holds a version from {row['valid_from'].isoformat()}; "
                            f"a change cannot be implemented before it ({at.isoformat()})")])
        row.update(version=row["version"] + 1, valid_from=at, last_change_id=change_id)
        by_columns[frozenset((*changed[name], *_MOVED_ON))].append(row)
    for batch in batches([row["id"] for row in rows.values()]):
        session.execute(update(_VERSION)
                        .where(_VERSION.c.item_id.in_(batch), _VERSION.c.valid_to.is_(None))
                        .values(valid_to=at))
    for columns, group in by_columns.items():
        session.execute(_set_current(columns), [
            {"v_id": row["id"], **{f"v_{name}": row[name] for name in columns}} for row in group
        ])


# Planned values are JSON (checked by the planner); dates and amounts get their Python types back.
_FROM_JSON: dict[str, Callable[[Any], Any]] = {
    name: date.fromisoformat if isinstance(_ITEM.c[name].type, Date) else Decimal
    for name in RECORD_FIELDS if isinstance(_ITEM.c[name].type, Date | Money)
}


def _set_fields(row: dict[str, Any], fields: dict[str, Any], attributes: dict[str, Any]) -> None:
    for name, value in fields.items():
        convert = _FROM_JSON.get(name)
        row[name] = convert(value) if convert is not None and value is not None else value
    if attributes:
        merged = dict(row["attributes"] or {})
        for name, value in attributes.items():
            if value is None:
                merged.pop(name, None)
            else:
                merged[name] = value
        row["attributes"] = merged


def _version_of(row: dict[str, Any], change_id: int) -> dict[str, Any]:
    values = {name: row[name] for name in RECORD_FIELDS}
    return {**values, "class_code": row["class_code"], "attributes": dict(row["attributes"] or {}),
            "item_id": row["id"], "key": row["key"], "version": row["version"],
            "valid_from": row["valid_from"], "valid_to": None, "change_id": change_id}


def _apply_relations(session: Session, planned: list[dict[str, Any]],
                     rows: dict[str, dict[str, Any]], change_id: int, at: datetime,
                     result: AppliedChangeSet) -> None:
    added = [{"kind": op["kind"], "source_id": rows[op["source"]]["id"],
              "target_id": rows[op["target"]]["id"], "attributes": op.get("attributes") or {},
              "valid_from": at, "valid_to": None, "change_id": change_id,
              "ended_change_id": None}
             for op in planned if op["op"] == "add_relation"]
    for op in planned:
        if op["op"] == "remove_relation":
            ended = session.execute(
                update(_RELATION)
                .where(_RELATION.c.kind == op["kind"],
                       _RELATION.c.source_id == rows[op["source"]]["id"],
                       _RELATION.c.target_id == rows[op["target"]]["id"],
                       _RELATION.c.valid_to.is_(None))
                .values(valid_to=at, ended_change_id=change_id)
            )
            result.relations_removed += ended.rowcount
    insert_rows(session, _RELATION, added)
    result.relations_added = len(added)


def _apply_attachments(session: Session, planned: list[dict[str, Any]],
                       rows: dict[str, dict[str, Any]], change_id: int, at: datetime,
                       result: AppliedChangeSet) -> None:
    """Attach and remove files (``bir.attachments``): a removed attachment's row is closed, never
    deleted, so the item as of an earlier moment still lists it."""
    ops = [op for op in planned if op["op"] in ("attach", "detach")]
    if not ops:
        return
    blobs = dict(session.execute(select(Blob.sha256, Blob.id).where(
        Blob.sha256.in_({op["attachment"] for op in ops}))).all())
    for op in ops:
        item_id, blob_id = rows[op["item"]]["id"], blobs[op["attachment"]]
        if op["op"] == "attach":
            session.execute(insert(_ATTACHMENT).values(
                item_id=item_id, blob_id=blob_id, filename=op["filename"], title=op.get("title"),
                valid_from=at, valid_to=None, change_id=change_id, ended_change_id=None))
            result.attachments_added += 1
        else:
            ended = session.execute(
                update(_ATTACHMENT)
                .where(_ATTACHMENT.c.item_id == item_id, _ATTACHMENT.c.blob_id == blob_id,
                       _ATTACHMENT.c.valid_to.is_(None))
                .values(valid_to=at, ended_change_id=change_id))
            result.attachments_removed += ended.rowcount


def _forget_register_objects(session: Session) -> None:
    """Expire register objects this session loaded before: the rows changed under them."""
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Item | ItemVersion | Relation | ItemAttachment):
            session.expire(obj)
