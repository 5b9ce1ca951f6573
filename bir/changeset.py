"""Change sets: the register edits a change carries, checked against the register as it is now.

A change set is a list of operations in plain data (JSON/YAML friendly):

- ``{"op": "create_item", "ref": "lap1", "class": "hardware.laptop", "name": "...", ...fields,
  "attributes": {...}}``
- ``{"op": "update_item", "item": "LAP-000042", ...fields to set, "attributes": {...}}``
- ``{"op": "set_status", "item": "LAP-000042", "status": "retired"}``
- ``{"op": "add_relation", "kind": "installed_on", "source": "@ins1", "target": "LAP-000042"}``
- ``{"op": "remove_relation", "kind": "installed_on", "source": "INS-000007", "target": "LAP-000042"}``
- ``{"op": "attach", "item": "LAP-000042", "attachment": "<sha256 of an uploaded file>",
  "filename": "invoice.pdf", "title": "Invoice 2026-114"}`` and ``{"op": "detach", "item":
  "LAP-000042", "attachment": "<sha256, or the attachment's id>"}`` (``bir.attachments``)

An item is named by its key, or by ``@ref`` for an item created earlier in the same change set.
Planning reads only; ``bir.writer`` applies a planned change set at implementation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from bir.attachments import plan_attach, plan_detach
from bir.batches import batches
from bir.classes import ClassCatalogue
from bir.errors import FieldError, ValidationFailed, shown
from bir.items import MONEY_FIELDS, Item, ItemFields
from bir.reference import ReferenceCheck
from bir.relations import Relation
from bir.vocabulary import RELATION_KINDS, STATUS_MOVES, LifecycleStatus

MAX_REF_LENGTH = 30
OP_KINDS = ("create_item", "update_item", "set_status", "add_relation", "remove_relation",
            "attach", "detach")
_OP_KEYS = {
    "create_item": {"op", "ref", "class", "attributes"},
    "update_item": {"op", "item", "attributes"},
    "set_status": {"op", "item", "status"},
    "add_relation": {"op", "kind", "source", "target", "attributes"},
    "remove_relation": {"op", "kind", "source", "target"},
    "attach": {"op", "item", "attachment", "filename", "title"},
    "detach": {"op", "item", "attachment", "filename"},
}
_ITEM_FIELD_NAMES = set(ItemFields.model_fields)


@dataclass
class _Subject:
    """What planning knows of an item: from the register, or created earlier in this change set."""

    label: str
    class_code: str
    status: str
    item_id: int | None = None
    version: int | None = None
    currency: str | None = None


@dataclass
class _Plan:
    catalogue: ClassCatalogue
    existing: dict[str, _Subject]
    refs: dict[str, _Subject] = field(default_factory=dict)
    current_edges: set[tuple[str, int, int]] = field(default_factory=set)
    added_edges: set[tuple[str, str, str]] = field(default_factory=set)
    removed_edges: set[tuple[str, str, str]] = field(default_factory=set)
    errors: list[FieldError] = field(default_factory=list)
    allowed_ops: frozenset[str] | None = None
    allowed_classes: tuple[str, ...] | None = None
    fields_checked: bool = False
    # The closed lists of people, locations and cost centres (``bir.reference``).
    references: ReferenceCheck | None = None
    known_rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    session: Session | None = None
    attachments: Any = None  # bir.attachments.AttachmentPlan, made by the first attach/detach

    def within_model(self, class_code: str, path: str, subject: str) -> bool:
        """Whether the change model may touch items of this class; records the error if not."""
        if self.allowed_classes is None or any(
            self.catalogue.is_a(class_code, allowed) for allowed in self.allowed_classes
        ):
            return True
        self.error(path, f"this change model touches only {', '.join(self.allowed_classes)}, "
                         f"not {subject} ({class_code})")
        return False

    def error(self, path: str, message: str) -> None:
        self.errors.append(FieldError(path, message))

    def subject(self, name: Any, path: str) -> _Subject | None:
        if not isinstance(name, str) or not name.strip():
            self.error(path, "names no item (give a key such as LAP-000042 or @ref)")
            return None
        name = name.strip()
        if name.startswith("@"):
            found = self.refs.get(name[1:])
            if found is None:
                self.error(path, f"{name} is not created by an earlier operation of this change")
            return found
        found = self.existing.get(name)
        if found is None:
            self.error(path, f"no item {name} in the register")
        return found


def plan_change_set(
    session: Session,
    operations: Any,
    *,
    allowed_ops: frozenset[str] | None = None,
    allowed_classes: tuple[str, ...] | None = None,
    fields_checked: bool = False,
    known_items: dict[str, dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Check a change set against the current register; return it normalised (JSON-safe values,
    ``base_version`` recorded on every operation that touches an existing item).

    ``fields_checked`` is for a change set this planner normalised before (implementation plans
    it again): the item fields' own rules do not depend on the register, so they are not parsed a
    second time; everything the register decides (items, classes, statuses, relations) is.
    ``known_items`` are current rows by key the caller has just read (and locked); they are not
    read again.

    Raises ``ValidationFailed`` naming each bad operation and field.
    """
    if not isinstance(operations, list):
        raise ValidationFailed([FieldError("operations", "must be a list of operations")])
    catalogue = ClassCatalogue.load(session)
    plan = _Plan(catalogue, _load_existing(session, operations, known_items or {}),
                 allowed_ops=allowed_ops,
                 allowed_classes=allowed_classes, fields_checked=fields_checked,
                 session=session)
    plan.current_edges = _load_current_edges(session, plan.existing, operations)
    plan.references = ReferenceCheck.load(session, operations)
    plan.known_rows = known_items or {}
    planned: list[dict[str, Any]] = []
    for index, raw in enumerate(operations):
        path = f"operations[{index}]"
        if not isinstance(raw, dict):
            plan.error(path, "must be a mapping with an 'op'")
            continue
        kind = raw.get("op")
        if kind not in OP_KINDS:
            plan.error(f"{path}.op", f"{shown(kind)} is not one of {', '.join(OP_KINDS)}")
            continue
        if allowed_ops is not None and kind not in allowed_ops:
            plan.error(
                f"{path}.op", f"this change model does not make '{kind}' operations "
                f"(it makes: {', '.join(sorted(allowed_ops)) or 'none'})"
            )
            continue
        result = _PLANNERS[kind](plan, raw, path)
        if result is not None:
            result["op"] = kind
            planned.append(result)
    if plan.errors:
        raise ValidationFailed(plan.errors)
    return planned


def _referenced_keys(operations: list[Any]) -> set[str]:
    keys: set[str] = set()
    for raw in operations:
        if isinstance(raw, dict):
            for name in ("item", "source", "target"):
                value = raw.get(name)
                if isinstance(value, str) and value.strip() and not value.startswith("@"):
                    keys.add(value.strip())
    return keys


def _load_existing(session: Session, operations: list[Any], known: dict[str, dict[str, Any]]
                   ) -> dict[str, _Subject]:
    keys = _referenced_keys(operations)
    found = {key: _Subject(key, row["class_code"], row["status"], row["id"], row["version"],
                           row.get("currency"))
             for key in keys if (row := known.get(key)) is not None}
    for batch in batches(sorted(keys - found.keys())):
        rows = session.execute(
            select(Item.key, Item.class_code, Item.status, Item.id, Item.version, Item.currency)
            .where(Item.key.in_(batch)))
        found.update((key, _Subject(key, class_code, status, item_id, version, currency))
                     for key, class_code, status, item_id, version, currency in rows)
    return found


def _load_current_edges(
    session: Session, existing: dict[str, _Subject], operations: list[Any]
) -> set[tuple[str, int, int]]:
    """The current relations from the registered items a relation operation starts from: the
    only ones ``_edge_exists`` asks about (a change moving 10,000 items reads none)."""
    sources = {raw["source"].strip() for raw in operations
               if isinstance(raw, dict) and raw.get("op") in ("add_relation", "remove_relation")
               and isinstance(raw.get("source"), str)}
    ids = sorted(subject.item_id for key, subject in existing.items()
                 if key in sources and subject.item_id is not None)
    if not ids:
        return set()
    edges: set[tuple[str, int, int]] = set()
    for batch in batches(ids):
        rows = session.execute(
            select(Relation.kind, Relation.source_id, Relation.target_id).where(
                Relation.valid_to.is_(None), Relation.source_id.in_(batch)))
        edges.update(tuple(row) for row in rows)  # type: ignore[misc]
    return edges


def _unknown_keys(plan: _Plan, raw: dict[str, Any], kind: str, path: str,
                  with_fields: bool) -> bool:
    allowed = _OP_KEYS[kind] | (_ITEM_FIELD_NAMES if with_fields else set())
    unknown = sorted(set(raw) - allowed)
    for name in unknown:
        plan.error(f"{path}.{name}", f"is not a field of a {kind} operation")
    return bool(unknown)


def _item_fields(plan: _Plan, raw: dict[str, Any], path: str) -> dict[str, Any] | None:
    values = {k: v for k, v in raw.items() if k in _ITEM_FIELD_NAMES}
    if plan.fields_checked:
        return values
    try:
        parsed = ItemFields.model_validate(values)
    except ValidationError as exc:
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"])
            plan.error(f"{path}.{where}", err["msg"].removeprefix("Value error, "))
        return None
    return parsed.model_dump(mode="json", exclude_unset=True)


def _class_attributes(
    plan: _Plan, class_code: str, raw: dict[str, Any], path: str, partial: bool
) -> dict[str, Any] | None:
    attributes = raw.get("attributes") or {}
    if not isinstance(attributes, dict):
        plan.error(f"{path}.attributes", "must be a mapping of attribute names to values")
        return None
    clean, errors = plan.catalogue.validate_attributes(
        class_code, attributes, f"{path}.attributes", partial=partial
    )
    plan.errors.extend(errors)
    return None if errors else clean


def _check_status_move(plan: _Plan, subject: _Subject, new_status: str, path: str) -> None:
    current = LifecycleStatus(subject.status)
    target = LifecycleStatus(new_status)
    if target == current:
        return
    if target not in STATUS_MOVES[current]:
        allowed = ", ".join(sorted(STATUS_MOVES[current])) or "none (final status)"
        plan.error(path, f"{subject.label} cannot move from {current} to {target} "
                         f"(allowed: {allowed})")
        return
    subject.status = target


def _plan_create(plan: _Plan, raw: dict[str, Any], path: str) -> dict[str, Any] | None:
    if _unknown_keys(plan, raw, "create_item", path, with_fields=True):
        return None
    class_code = raw.get("class")
    klass = plan.catalogue.get(class_code) if isinstance(class_code, str) else None
    if klass is None:
        plan.error(f"{path}.class", f"{shown(class_code)} is not an item class")
        return None
    if klass.abstract:
        plan.error(f"{path}.class", f"{class_code} is abstract; choose one of its subclasses")
        return None
    if not plan.within_model(class_code, f"{path}.class", "a new item"):
        return None
    fields = _item_fields(plan, raw, path)
    attributes = _class_attributes(plan, class_code, raw, path, partial=False)
    ref = raw.get("ref")
    if ref is not None and (not isinstance(ref, str) or not ref.isidentifier()
                            or len(ref) > MAX_REF_LENGTH):
        plan.error(f"{path}.ref", f"must be a name of at most {MAX_REF_LENGTH} letters, digits "
                                  "and _, not starting with a digit")
        ref = None
    if fields is None or attributes is None:
        return None
    if not fields.get("name"):
        plan.error(f"{path}.name", "is required for a new item")
        return None
    if not _references_known(plan, fields, None, path):
        return None
    if not _currency_given(plan, fields, None, path):
        return None
    fields.setdefault("status", LifecycleStatus.PLANNED.value)
    label = f"@{ref}" if ref else f"new {klass.name.lower()}"
    if ref:
        if ref in plan.refs:
            plan.error(f"{path}.ref", f"@{ref} is already used by an earlier operation")
            return None
        plan.refs[ref] = _Subject(label, class_code, fields["status"])
    return {"ref": ref, "class": class_code, "fields": fields, "attributes": attributes}


def _plan_update(plan: _Plan, raw: dict[str, Any], path: str) -> dict[str, Any] | None:
    if _unknown_keys(plan, raw, "update_item", path, with_fields=True):
        return None
    subject = plan.subject(raw.get("item"), f"{path}.item")
    fields = _item_fields(plan, raw, path)
    if subject is None or fields is None:
        return None
    if not plan.within_model(subject.class_code, f"{path}.item", subject.label):
        return None
    for required in ("name", "status"):
        if required in fields and fields[required] is None:
            plan.error(f"{path}.{required}", "cannot be cleared: every item has one")
            return None
    if "status" in fields and plan.allowed_ops is not None and "set_status" not in plan.allowed_ops:
        plan.error(f"{path}.status", "this change model does not move statuses")
        return None
    attributes = _class_attributes(plan, subject.class_code, raw, path, partial=True)
    if attributes is None:
        return None
    if not fields and not attributes:
        plan.error(path, "sets nothing: name at least one field or attribute")
        return None
    if not _currency_given(plan, fields, subject, path):
        return None
    if not _references_known(plan, fields, raw["item"].strip(), path):
        return None
    if "status" in fields:
        _check_status_move(plan, subject, fields["status"], f"{path}.status")
    return _touching(subject, raw["item"], {"fields": fields, "attributes": attributes})


def _currency_given(plan: _Plan, fields: dict[str, Any], subject: _Subject | None,
                    path: str) -> bool:
    """An amount is never registered without its currency: a new item names it beside the
    amount, an update names it or finds it on the item. Checked when a change set is registered;
    a change registered before the rule is implemented as it was planned."""
    if plan.fields_checked:
        return True
    amounts = [name for name in MONEY_FIELDS if fields.get(name) is not None]
    known = fields.get("currency") or (subject.currency if subject else None)
    if amounts and not known:
        plan.error(f"{path}.currency", f"give the currency of {', '.join(amounts)} (e.g. EUR)")
        return False
    if "currency" in fields and fields["currency"] is None and subject is not None:
        plan.error(f"{path}.currency", "cannot be cleared: the item's amounts are in it")
        return False
    return True


def _references_known(plan: _Plan, fields: dict[str, Any], key: str | None, path: str) -> bool:
    """Owner, location and cost centre name active reference values where their kind has any
    (``bir.reference``), normalised to the stored codes; checked at registration and again at
    implementation, so a value retired meanwhile is not newly set."""
    if plan.references is None:
        return True
    errors = plan.references.apply(fields, path, plan.known_rows.get(key) if key else None,
                                   key if key and not key.startswith("@") else None)
    plan.errors.extend(errors)
    return not errors


def change_set_value(session: Session, planned: list[dict[str, Any]]) -> dict[str, Decimal]:
    """What a change set is worth, per currency: the purchase costs of the items it creates and
    the purchase costs it sets on registered items (in the currency the operation or the item
    names). A cost guard weighs this beside the typed estimate."""
    updates = {op["item"] for op in planned
               if op["op"] == "update_item" and op["fields"].get("purchase_cost") is not None
               and not op["fields"].get("currency")}
    currencies: dict[str, str | None] = {}
    for batch in batches(sorted(updates)):
        currencies.update((key, currency) for key, currency in session.execute(
            select(Item.key, Item.currency).where(Item.key.in_(batch))))
    value: dict[str, Decimal] = {}
    for op in planned:
        if op["op"] not in ("create_item", "update_item"):
            continue
        fields = op["fields"]
        cost = fields.get("purchase_cost")
        currency = fields.get("currency") or currencies.get(op.get("item", ""))
        if cost is not None and currency:
            value[currency] = value.get(currency, Decimal(0)) + Decimal(str(cost))
    return value


def _plan_set_status(plan: _Plan, raw: dict[str, Any], path: str) -> dict[str, Any] | None:
    if _unknown_keys(plan, raw, "set_status", path, with_fields=False):
        return None
    subject = plan.subject(raw.get("item"), f"{path}.item")
    status = raw.get("status")
    if not isinstance(status, str) or status not in set(LifecycleStatus):
        plan.error(f"{path}.status",
                   f"{shown(status)} is not one of {', '.join(s.value for s in LifecycleStatus)}")
        return None
    if subject is None or not plan.within_model(subject.class_code, f"{path}.item", subject.label):
        return None
    _check_status_move(plan, subject, status, f"{path}.status")
    return _touching(subject, raw["item"], {"status": status})


def _touching(subject: _Subject, name: str, payload: dict[str, Any]) -> dict[str, Any]:
    payload["item"] = name.strip()
    if subject.item_id is not None:
        payload["base_version"] = subject.version
    return payload


def _edge_names(plan: _Plan, raw: dict[str, Any], path: str
                ) -> tuple[str, _Subject, _Subject, tuple[str, str, str]] | None:
    kind = raw.get("kind")
    if not isinstance(kind, str) or kind not in RELATION_KINDS:
        plan.error(f"{path}.kind", f"{shown(kind)} is not one of {', '.join(RELATION_KINDS)}")
        return None
    source = plan.subject(raw.get("source"), f"{path}.source")
    target = plan.subject(raw.get("target"), f"{path}.target")
    if source is None or target is None:
        return None
    if source is target:
        plan.error(f"{path}.target", "an item cannot relate to itself")
        return None
    edge = (kind, raw["source"].strip(), raw["target"].strip())
    return kind, source, target, edge


def _edge_exists(plan: _Plan, kind: str, source: _Subject, target: _Subject,
                 edge: tuple[str, str, str]) -> bool:
    in_register = (
        source.item_id is not None
        and target.item_id is not None
        and (kind, source.item_id, target.item_id) in plan.current_edges
    )
    return (in_register and edge not in plan.removed_edges) or edge in plan.added_edges


def _plan_add_relation(plan: _Plan, raw: dict[str, Any], path: str) -> dict[str, Any] | None:
    if _unknown_keys(plan, raw, "add_relation", path, with_fields=False):
        return None
    named = _edge_names(plan, raw, path)
    if named is None:
        return None
    kind, source, target, edge = named
    attributes = raw.get("attributes") or {}
    if not isinstance(attributes, dict):
        plan.error(f"{path}.attributes", "must be a mapping")
        return None
    if "share" in attributes:
        share = _share(plan, attributes["share"], f"{path}.attributes.share")
        if share is None:
            return None
        attributes = {**attributes, "share": share}
    if _edge_exists(plan, kind, source, target, edge):
        plan.error(path, f"{edge[1]} already {RELATION_KINDS[kind].label} {edge[2]}")
        return None
    plan.added_edges.add(edge)
    plan.removed_edges.discard(edge)
    return {"kind": kind, "source": edge[1], "target": edge[2], "attributes": attributes}


def _share(plan: _Plan, value: Any, path: str) -> str | None:
    """The part of the source's cost the target carries: a decimal fraction 0 < share <= 1, kept
    as exact text ("0.25"). Cost reports read it on ``supports`` relations."""
    try:
        share = Decimal(str(value).strip()) if isinstance(value, str | int | Decimal) else None
    except InvalidOperation:
        share = None
    if share is None or not share.is_finite() or not 0 < share <= 1:
        plan.error(path, f"{shown(value)} is not a share: give a decimal fraction above 0 and at "
                         "most 1, e.g. 0.25")
        return None
    return str(share.normalize()) if share != 1 else "1"


def _plan_remove_relation(plan: _Plan, raw: dict[str, Any], path: str) -> dict[str, Any] | None:
    if _unknown_keys(plan, raw, "remove_relation", path, with_fields=False):
        return None
    named = _edge_names(plan, raw, path)
    if named is None:
        return None
    kind, source, target, edge = named
    if not _edge_exists(plan, kind, source, target, edge):
        plan.error(path, f"{edge[1]} is not {RELATION_KINDS[kind].label} {edge[2]}")
        return None
    plan.added_edges.discard(edge)
    plan.removed_edges.add(edge)
    return {"kind": kind, "source": edge[1], "target": edge[2]}


_PLANNERS = {
    "create_item": _plan_create,
    "update_item": _plan_update,
    "set_status": _plan_set_status,
    "add_relation": _plan_add_relation,
    "remove_relation": _plan_remove_relation,
    "attach": plan_attach,
    "detach": plan_detach,
}


def touched_keys(planned: list[dict[str, Any]]) -> list[str]:
    """Keys of existing items a planned change set touches (for impact and conflict checks)."""
    keys: dict[str, None] = {}  # ordered and O(1) to test: a change set may touch 100,000 items
    for op in planned:
        for name in ("item", "source", "target"):
            value = op.get(name)
            if isinstance(value, str) and not value.startswith("@"):
                keys.setdefault(value, None)
    return list(keys)


def as_raw(op: dict[str, Any]) -> dict[str, Any]:
    """A planned operation back in the input form a person writes (fields inline, no versions):
    to plan it again against today's register, or to show it in a form."""
    raw: dict[str, Any] = {"op": op["op"]}
    for name in ("ref", "class", "item", "status", "kind", "source", "target", "attachment",
                 "filename", "title"):
        if op.get(name) is not None:
            raw[name] = op[name]
    raw.update(op.get("fields") or {})
    if op.get("attributes"):
        raw["attributes"] = op["attributes"]
    return raw
