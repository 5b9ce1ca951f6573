"""A change set read against the register: per operation, what the register holds next to what the
change will set.

Before implementation the comparison is with the register as it is now, and an operation whose item
was changed by another change since it was planned says so. After implementation it is with the
item as it was just before this change, and new items carry the keys they were given.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bir.changeset import touched_keys
from bir.classes import AttributeSpec, ClassCatalogue
from bir.items import ItemVersion
from bir.queries import items_by_key
from bir.vocabulary import RELATION_KINDS
from workflows.models import Change

OPERATION_TITLES = {
    "create_item": "Create item",
    "update_item": "Update item",
    "set_status": "Move status",
    "add_relation": "Add relation",
    "remove_relation": "Remove relation",
    "attach": "Attach file",
    "detach": "Remove file",
}


@dataclass(frozen=True)
class ValueDiff:
    field: str  # an item field (``owner``) or ``attributes.<name>``
    label: str | None  # a class attribute's own label; item fields are labelled by the page
    old: Any
    new: Any

    @property
    def changed(self) -> bool:
        return self.old != self.new


@dataclass(frozen=True)
class ItemRef:
    """An item an operation names: in the register (``key``) and/or new in this change (``ref``)."""

    key: str | None
    name: str | None
    class_code: str | None
    ref: str | None = None

    @property
    def text(self) -> str:
        handle = self.key or (f"@{self.ref}" if self.ref else "new item")
        return f"{handle} {self.name}" if self.name else handle


@dataclass(frozen=True)
class OperationDiff:
    position: int  # 1-based, as the change set lists it
    op: str
    title: str
    item: ItemRef | None  # the item created, updated or moved
    values: list[ValueDiff]
    relation: str | None = None  # "runs on", for relation operations
    source: ItemRef | None = None
    target: ItemRef | None = None
    note: str | None = None  # e.g. the item changed since this operation was planned


def change_set_diff(session: Session, change: Change, *, start: int = 0,
                    limit: int | None = None) -> list[OperationDiff]:
    """The operations ``start`` to ``start + limit`` (all without a limit) read against the
    register. Only the items those operations name are read, so a page of a 100,000-operation
    change costs what a page of a small one does."""
    ops = change.change_set()
    if not ops:
        return []
    end = len(ops) if limit is None else min(len(ops), start + limit)
    shown = range(start, end)
    catalogue = ClassCatalogue.load(session)
    items = items_by_key(session, touched_keys([ops[i] for i in shown]))
    before: dict[str, dict[str, Any]] = {}
    created: dict[int, str] = {}
    if change.implemented_at is not None:
        before, created = _as_implemented(session, change, ops, catalogue, shown)
    refs = {op["ref"]: (i, op) for i, op in enumerate(ops)
            if op["op"] == "create_item" and op.get("ref")}

    def named(name: str) -> ItemRef:
        if name.startswith("@") and name[1:] in refs:
            index, op = refs[name[1:]]
            return ItemRef(created.get(index), op["fields"].get("name"), op["class"], name[1:])
        item = items.get(name)
        return ItemRef(name, item.name if item else None, item.class_code if item else None)

    def labelled(class_code: str | None, attributes: dict[str, Any]) -> dict[str, str | None]:
        specs = catalogue.specs(class_code) if class_code else {}
        return {name: _attribute_label(specs[name]) if name in specs else None
                for name in attributes}

    result = []
    for index in shown:
        op = ops[index]
        kind, position = op["op"], index + 1
        title = OPERATION_TITLES.get(kind, kind)
        if kind == "create_item":
            attributes = op.get("attributes") or {}
            labels = labelled(op["class"], attributes)
            values = [ValueDiff(name, None, None, value)
                      for name, value in op["fields"].items() if value is not None]
            values += [ValueDiff(f"attributes.{name}", labels[name], None, value)
                       for name, value in attributes.items() if value is not None]
            ref = ItemRef(created.get(index), op["fields"].get("name"), op["class"], op.get("ref"))
            result.append(OperationDiff(position, kind, title, ref, values))
        elif kind in ("update_item", "set_status"):
            subject = named(op["item"])
            item = items.get(op["item"])
            old = before.get(op["item"]) or (item.record() if item else {})
            planned = {"status": op["status"]} if kind == "set_status" else op["fields"]
            values = [ValueDiff(name, None, old.get(name), value) for name, value in planned.items()]
            attributes = op.get("attributes") or {}
            labels = labelled(subject.class_code, attributes)
            old_attributes = old.get("attributes") or {}
            values += [ValueDiff(f"attributes.{name}", labels[name], old_attributes.get(name), value)
                       for name, value in attributes.items()]
            note = None
            if change.implemented_at is None and item is not None \
                    and op.get("base_version") not in (None, item.version):
                note = (f"{item.key} was changed by another change since this operation was "
                        f"planned (version {op['base_version']}, now {item.version}): implementation "
                        "will be refused until the change set is reworked")
            result.append(OperationDiff(position, kind, title, subject, values, note=note))
        elif kind in ("attach", "detach"):  # a file added or removed (bir.attachments)
            old_name, new_name = (None, op["filename"]) if kind == "attach" else (op["filename"],
                                                                                   None)
            result.append(OperationDiff(position, kind, title, named(op["item"]), [
                ValueDiff("attachment", None, old_name, new_name)]))
        else:
            relation = RELATION_KINDS.get(op.get("kind", ""))
            values = [ValueDiff(f"attributes.{name}", name, None, value)
                      for name, value in (op.get("attributes") or {}).items()]
            result.append(OperationDiff(
                position, kind, title, None, values,
                relation=relation.label if relation else op.get("kind"),
                source=named(op["source"]), target=named(op["target"])))
    return result


def _attribute_label(spec: AttributeSpec) -> str:
    label = spec.label or spec.name
    return f"{label} ({spec.unit})" if spec.unit else label


def _as_implemented(session: Session, change: Change, ops: list[dict[str, Any]],
                    catalogue: ClassCatalogue, shown: range
                    ) -> tuple[dict[str, dict[str, Any]], dict[int, str]]:
    """Each item the ``shown`` operations update as it was before this change, and the key each
    of their creates was given."""
    updated = sorted({op["item"] for op in (ops[i] for i in shown)
                      if op.get("item") and not str(op["item"]).startswith("@")})
    before: dict[str, dict[str, Any]] = {}
    for chunk in range(0, len(updated), 500):
        for version in session.scalars(select(ItemVersion).where(
                ItemVersion.key.in_(updated[chunk:chunk + 500]),
                ItemVersion.valid_to == change.implemented_at)):
            before[version.key] = version.record()
    # The writer draws new keys per key prefix in the order of the operations: the n-th create
    # of a prefix got the n-th of this change's new keys of that prefix.
    prefixes: dict[int, str] = {}
    for index, op in enumerate(ops[:shown.stop]):
        klass = catalogue.get(op.get("class", "")) if op["op"] == "create_item" else None
        if klass is not None:
            prefixes[index] = klass.key_prefix
    created: dict[int, str] = {}
    for prefix in set(prefixes.values()):
        mine = [i for i, p in prefixes.items() if p == prefix]
        skipped = sum(1 for i in mine if i < shown.start)
        wanted = [i for i in mine if i >= shown.start]
        keys = session.scalars(
            select(ItemVersion.key).where(ItemVersion.change_id == change.id,
                                          ItemVersion.version == 1,
                                          ItemVersion.key.like(f"{prefix}-%"))
            .order_by(ItemVersion.key).offset(skipped).limit(len(wanted))).all()
        created.update(zip(wanted, keys, strict=False))
    return before, created


__all__ = ["OPERATION_TITLES", "ItemRef", "OperationDiff", "ValueDiff", "change_set_diff"]
