"""What a change form asks for, and change sets entered as form rows.

``form_spec`` tells a form what a change model needs: its own fields, the operations it makes and
the item classes (with their attribute specs) it may touch. ``ChangeSetRows`` turns rows as a person
fills them in (create an item, set a field, move a status, add or remove a relation, plus optional
YAML for anything else) into change-set operations, and ``locate`` leads an error the planner names
(``operations[3].attributes.cores``) back to the row and input it came from.

Receiving several alike items should not mean typing each one: a new item's row is offered what
its class and model give (currency, status, depreciation), can be copied, and can take a list of
serial numbers that ``rows_from_form`` turns into one row per serial, so the form works the same
with or without the page's script.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from sqlalchemy import select

from bir.changeset import OP_KINDS, as_raw
from bir.classes import ClassCatalogue
from bir.errors import FieldError
from bir.items import Item, ItemFields
from bir.reference import FIELD_KINDS
from bir.vocabulary import RELATION_KINDS, LifecycleStatus
from bir.yaml_input import load_yaml
from usm.services.changes.commands import ModelField, coordinator_names, load_change, model_fields
from usm.services.errors import NotFound
from usm.services.platform import Database, default_currency
from workflows.change_model import ChangeModelSpec
from workflows.changes import latest_change_model
from workflows.engine import compiled
from workflows.models import ChangeModel
from workflows.skeleton import ChangeClass, ChangeSource

# The item fields a "create item" row offers; anything else goes in the YAML.
CREATE_FIELDS = (
    "name", "status", "owner", "location", "cost_centre", "serial_number", "asset_tag",
    "manufacturer", "model", "hostname", "purchase_cost", "currency", "acquired_on",
    "in_service_on", "depreciation_method", "depreciation_months", "supplier", "warranty_end",
)
# What a new item's row offers before anything is typed: the currency and, once its class is
# chosen, how the class usually depreciates. Offered values alone are not an item.
OFFERED = ("class", "status", "currency", "depreciation_method", "depreciation_months",
           "offered_for")
ROW_FIELDS = {
    "create": ("class", "ref", *CREATE_FIELDS),
    "update": ("item", "field", "value"),
    "status": ("item", "status"),
    "relation": ("action", "kind", "source", "target"),
}
SECTION_OPS = {
    "create": ("create_item",),
    "update": ("update_item",),
    "status": ("set_status",),
    "relation": ("add_relation", "remove_relation"),
}
PATH = re.compile(r"^operations\[(\d+)\](?:\.(.+))?$")
# What identifies one physical item: a copied row leaves these out (each copy gets its own).
UNIQUE_FIELDS = ("ref", "serial_number", "asset_tag", "hostname")
# Serial numbers pasted as a list: one a line, or separated by commas, semicolons or spaces.
SERIAL_SEPARATORS = re.compile(r"[\s,;]+")
# The status a model's new items are offered, for shipped models whose purpose fixes it (a
# receipt registers delivered equipment: in stock). Other models offer none (the register's
# default, planned).
MODEL_STATUS = {"hardware-receipt": "in_stock"}


class ModelNotFound(NotFound):
    pass


@dataclass(frozen=True)
class AttributeInput:
    name: str
    label: str
    type: str
    required: bool
    allowed: list[str] | None
    unit: str | None
    help: str | None


@dataclass(frozen=True)
class ClassChoice:
    code: str
    name: str
    attributes: list[AttributeInput]
    depreciation_method: str | None = None  # what a new item of the class is offered
    depreciation_months: int | None = None

    def offer(self, row: dict[str, str]) -> None:
        """Fill in a new item's row with what the class offers, once per class chosen (a value
        the user then changes or clears stays as they left it)."""
        if row.get("offered_for") == self.code:
            return
        row["offered_for"] = self.code
        if self.depreciation_method and not row.get("depreciation_method"):
            row["depreciation_method"] = self.depreciation_method
            row["depreciation_months"] = str(self.depreciation_months or "")


@dataclass(frozen=True)
class ModelChoice:
    code: str
    version: int
    name: str
    change_class: str
    description: str | None
    pre_authorised: bool
    operations: list[str]
    classes: list[str] | None  # None: any class


@dataclass(frozen=True)
class ChangeFormSpec:
    model: ModelChoice
    fields: list[ModelField]
    operations: list[str]
    classes: list[ClassChoice]  # the concrete classes a new item of this model may have
    update_fields: list[tuple[str, str | None]]  # (field, attribute label or None)
    statuses: list[str]
    relation_kinds: list[tuple[str, str]]
    sources: list[str]
    agreed_services: list[tuple[str, str]]  # (key, name) of the services in use
    coordinators: list[str]
    # Item fields whose value is reference data: field -> kind, for the pickers (issue 23).
    reference: dict[str, str] = field(default_factory=lambda: {
        name: kind.value for name, kind in FIELD_KINDS.items()})
    # What a blank new-item row is offered: the register's currency, the model's status and,
    # when the model allows one class only, that class.
    new_item: dict[str, str] = field(default_factory=dict)

    def sections(self) -> list[str]:
        """The row sections this model's operations need, in the order a form shows them."""
        return [s for s, ops in SECTION_OPS.items() if any(op in self.operations for op in ops)]

    def klass(self, code: str | None) -> ClassChoice | None:
        return next((c for c in self.classes if c.code == code), None)


def _choice(row: ChangeModel, d: ChangeModelSpec) -> ModelChoice:
    return ModelChoice(row.code, row.version, d.name, d.change_class.value, d.description,
                       d.change_class is ChangeClass.STANDARD, list(d.change_set.operations),
                       list(d.change_set.classes) if d.change_set.classes else None)


def list_models(db: Database) -> list[ModelChoice]:
    """The latest published version of every change model, by name."""
    with db.reading() as session:
        latest: dict[str, ChangeModel] = {}
        for row in session.scalars(select(ChangeModel)
                                   .where(ChangeModel.status == "published")
                                   .order_by(ChangeModel.version)):
            latest[row.code] = row
        choices = [_choice(row, compiled(row).definition) for row in latest.values()]
        return sorted(choices, key=lambda m: m.name.lower())


def form_spec(db: Database, model: str) -> ChangeFormSpec:
    """The new-change form of the latest published version of ``model``."""
    with db.reading() as session:
        if session.scalar(select(ChangeModel.id).where(
                ChangeModel.code == model, ChangeModel.status == "published")) is None:
            raise ModelNotFound(f"no published change model '{model}'")
        return _spec(session, latest_change_model(session, model))


def change_form_spec(db: Database, key: str) -> ChangeFormSpec:
    """The form of an existing change: its own model version, which may be older than the latest."""
    with db.reading() as session:
        return _spec(session, load_change(session, key).definition)


def _spec(session: Any, row: ChangeModel) -> ChangeFormSpec:
    d = compiled(row).definition
    catalogue = ClassCatalogue.load(session)
    allowed = d.change_set.classes
    classes = []
    for klass in sorted(catalogue.by_code.values(), key=lambda c: c.code):
        if klass.abstract or (allowed and not any(catalogue.is_a(klass.code, a) for a in allowed)):
            continue
        depreciation = catalogue.depreciation(klass.code)
        classes.append(ClassChoice(klass.code, klass.name, [
            AttributeInput(s.name, s.label or s.name, s.type.value, s.required, s.allowed, s.unit,
                           s.help)
            for s in catalogue.specs(klass.code).values()],
            depreciation.method.value if depreciation else None,
            depreciation.months if depreciation else None))
    attribute_labels: dict[str, str] = {}
    for choice in classes:
        for a in choice.attributes:
            attribute_labels.setdefault(a.name, a.label)
    update_fields: list[tuple[str, str | None]] = [
        (name, None) for name in ItemFields.model_fields
        if name != "status" or "set_status" in d.change_set.operations]
    update_fields += [(f"attributes.{name}", text) for name, text in sorted(attribute_labels.items())]
    services = session.execute(
        select(Item.key, Item.name).where(Item.class_code == "service",
                                          Item.status == LifecycleStatus.IN_USE.value)
        .order_by(Item.name)).all()
    new_item = {"currency": default_currency()}
    if row.code in MODEL_STATUS:
        new_item["status"] = MODEL_STATUS[row.code]
    if len(classes) == 1:
        new_item["class"] = classes[0].code
    return ChangeFormSpec(
        model=_choice(row, d), fields=model_fields(d), operations=list(d.change_set.operations),
        classes=classes, update_fields=update_fields,
        statuses=[s.value for s in LifecycleStatus],
        relation_kinds=[(k.code, k.label) for k in RELATION_KINDS.values()],
        sources=[s.value for s in ChangeSource],
        agreed_services=[(key, name) for key, name in services],
        coordinators=coordinator_names(session), new_item=new_item,
    )


@dataclass(frozen=True)
class Origin:
    """Where an operation came from: a section's rows (an update may merge several), or YAML."""

    section: str  # create, update, status, relation or yaml
    rows: tuple[int, ...]
    fields: dict[str, int] = field(default_factory=dict)  # update rows: field -> row


@dataclass
class ChangeSetRows:
    """A change set as form rows: each row a dict of the row's inputs (strings)."""

    create: list[dict[str, str]] = field(default_factory=list)
    update: list[dict[str, str]] = field(default_factory=list)
    status: list[dict[str, str]] = field(default_factory=list)
    relation: list[dict[str, str]] = field(default_factory=list)
    yaml_text: str = ""
    # New-item rows that copies were made of while reading the form (``create-<i>-serials``, a
    # Copy button): the form goes back to the user for review instead of being registered.
    copied: list[int] = field(default_factory=list)
    problems: list[FieldError] = field(default_factory=list)  # at ``create-<i>-serials``

    def section(self, name: str) -> list[dict[str, str]]:
        rows: list[dict[str, str]] = getattr(self, name)
        return rows

    def copy_create_row(self, index: int, serials: list[str] | None = None,
                        max_rows: int = 60) -> bool:
        """Copies of new-item row ``index`` right after it, with everything but what identifies
        one item (``UNIQUE_FIELDS``): one copy, or one per serial number (the row itself takes
        the first serial when it has none). Blank rows further down make room, so the form does
        not grow by more than it must. False, with a problem at the row's serials, when the
        list repeats a serial or does not fit."""
        row = self.create[index]
        copies: list[dict[str, str]] = []
        template = {k: v for k, v in row.items() if k not in UNIQUE_FIELDS and k != "serials"}
        if serials is None:
            copies.append(dict(template))
        else:
            repeated = sorted({s for s in serials if serials.count(s) > 1})
            if repeated:
                self.problems.append(FieldError(
                    f"create-{index}-serials",
                    f"lists {', '.join(repeated)} more than once: each serial is one item"))
                return False
            if serials and not _value(row, "serial_number"):
                row["serial_number"], serials = serials[0], serials[1:]
            copies.extend({**template, "serial_number": serial} for serial in serials)
        blank_after = [i for i in range(index + 1, len(self.create))
                       if _blank(self.create[i], ignore=OFFERED)]
        room = max_rows - len(self.create) + len(blank_after)
        if len(copies) > room:
            self.problems.append(FieldError(
                f"create-{index}-serials",
                f"makes {len(copies) + 1} rows, but at most {room + 1} fit in one form (the "
                f"form holds {max_rows} rows): register the rest in a second change"))
            return False
        row.pop("serials", None)
        for i in reversed(blank_after[:len(copies)]):
            del self.create[i]
        self.create[index + 1:index + 1] = copies
        self.copied.append(index)
        return True

    def operations(self) -> tuple[list[dict[str, Any]], list[Origin], list[FieldError]]:
        """The operations the filled-in rows make (blank rows are skipped), where each came from,
        and problems with the YAML (``change_set_yaml``)."""
        ops: list[dict[str, Any]] = []
        origins: list[Origin] = []
        for i, row in enumerate(self.create):
            if _blank(row, ignore=OFFERED):
                continue
            op: dict[str, Any] = {"op": "create_item", "class": _value(row, "class")}
            ref = _value(row, "ref")
            if ref:
                op["ref"] = ref.lstrip("@")
            op.update({f: row[f].strip() for f in CREATE_FIELDS if _value(row, f)})
            if "currency" in op:
                op["currency"] = op["currency"].upper()
            attributes = {name.removeprefix("attributes."): value.strip()
                          for name, value in row.items()
                          if name.startswith("attributes.") and value.strip()}
            if attributes:
                op["attributes"] = attributes
            ops.append(op)
            origins.append(Origin("create", (i,)))
        # Rows that set fields of the same item make one operation.
        merged: dict[str, tuple[dict[str, Any], dict[str, int]]] = {}
        for i, row in enumerate(self.update):
            if _blank(row, ignore=("field",)):
                continue
            group = (_value(row, "item") or f"#{i}").upper()
            if group not in merged:
                merged[group] = ({"op": "update_item", "item": _value(row, "item")}, {})
            op, fields = merged[group]
            name, value = _value(row, "field"), _value(row, "value")
            if name and name.startswith("attributes."):
                op.setdefault("attributes", {})[name.removeprefix("attributes.")] = value
            elif name:
                # An empty value clears the field; a name or status cannot be cleared, so the
                # planner gets the empty text and says why.
                op[name] = value if value is not None or name not in ("name", "status") else ""
            fields[name or ""] = i
        for op, fields in merged.values():
            ops.append(op)
            origins.append(Origin("update", tuple(sorted(set(fields.values()))), fields))
        for i, row in enumerate(self.status):
            if _blank(row, ignore=("status",)):
                continue
            ops.append({"op": "set_status", "item": _value(row, "item"),
                        "status": _value(row, "status")})
            origins.append(Origin("status", (i,)))
        for i, row in enumerate(self.relation):
            if _blank(row, ignore=("action", "kind")):
                continue
            kind = "remove_relation" if _value(row, "action") == "remove" else "add_relation"
            ops.append({"op": kind, "kind": _value(row, "kind"), "source": _value(row, "source"),
                        "target": _value(row, "target")})
            origins.append(Origin("relation", (i,)))
        more, problems = parse_yaml_operations(self.yaml_text)
        ops.extend(more)
        origins.extend(Origin("yaml", (n,)) for n in range(len(more)))
        return ops, origins, problems

    @classmethod
    def from_operations(cls, operations: list[dict[str, Any]]) -> ChangeSetRows:
        """Rows for a planned change set; what rows cannot hold goes into the YAML."""
        rows = cls()
        rest: list[dict[str, Any]] = []
        for op in operations:
            raw = as_raw(op)
            kind = raw["op"]
            if kind == "create_item" and set(op["fields"]) <= set(CREATE_FIELDS):
                row = {k: _text(raw.get(k)) for k in ROW_FIELDS["create"]}
                row.update({f"attributes.{k}": _text(v) for k, v in op["attributes"].items()})
                row["offered_for"] = raw.get("class") or ""  # as registered: nothing to offer
                rows.create.append(row)
            elif kind == "update_item":
                for name, value in op["fields"].items():
                    rows.update.append({"item": op["item"], "field": name, "value": _text(value)})
                for name, value in op["attributes"].items():
                    rows.update.append({"item": op["item"], "field": f"attributes.{name}",
                                        "value": _text(value)})
            elif kind == "set_status":
                rows.status.append({"item": op["item"], "status": op["status"]})
            elif kind in ("add_relation", "remove_relation") and not op.get("attributes"):
                rows.relation.append({"action": kind.split("_")[0], "kind": op["kind"],
                                      "source": op["source"], "target": op["target"]})
            else:
                rest.append(raw)
        if rest:
            rows.yaml_text = yaml.safe_dump(rest, sort_keys=False, allow_unicode=True)
        return rows


def _value(row: dict[str, str], name: str) -> str | None:
    value = (row.get(name) or "").strip()
    return value or None


def _blank(row: dict[str, str], ignore: tuple[str, ...]) -> bool:
    return not any((v or "").strip() for k, v in row.items() if k not in ignore)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def parse_yaml_operations(text: str) -> tuple[list[dict[str, Any]], list[FieldError]]:
    """Operations written as YAML: a list, or a mapping with ``operations`` (an RFC file); a text
    over the limits of ``load_yaml`` (aliases, nesting, size) is refused at ``change_set_yaml``."""
    if not text or not text.strip():
        return [], []
    try:
        data = load_yaml(text)
    except yaml.YAMLError as exc:  # also a text over a limit of load_yaml
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        return [], [FieldError("change_set_yaml", f"is not valid YAML{where}: "
                                                  f"{getattr(exc, 'problem', None) or exc}")]
    except (ValueError, RecursionError) as exc:  # e.g. a date 2001-13-01, or nesting too deep
        return [], [FieldError("change_set_yaml", "is not valid YAML: " + (
            "nested too deeply" if isinstance(exc, RecursionError) else str(exc))[:200])]
    if isinstance(data, dict) and "operations" in data:
        data = data["operations"]
    if not isinstance(data, list) or not all(isinstance(op, dict) for op in data):
        return [], [FieldError("change_set_yaml", "must be a list of operations, each a mapping "
                                                  f"with an op ({', '.join(OP_KINDS)})")]
    return data, []


ROW_INPUT = re.compile(r"^(create|update|status|relation)-(\d+)-(.+)$")
COPY_ACTION = re.compile(r"^copy-create-(\d+)$")
# A select left on its empty choice gets a plain request instead of the planner's "None is not ...".
CHOOSE = {"class": "choose the class of the new item", "kind": "choose the kind of relation",
          "status": "choose the new status", "field": "choose the field to set"}


def rows_from_form(form: Any, default_rows: dict[str, int], max_rows: int) -> ChangeSetRows:
    """Rows from form inputs named ``<section>-<row>-<field>`` (``create-0-serial_number``), with
    as many rows per section as ``<section>_rows`` asks for, and the ``change_set_yaml`` text."""
    found: dict[str, dict[int, dict[str, str]]] = {s: {} for s in SECTION_OPS}
    for name, value in form.items():
        match = ROW_INPUT.match(name)
        if match and int(match.group(2)) < max_rows:
            found[match.group(1)].setdefault(int(match.group(2)), {})[match.group(3)] = value
    sections = {}
    for section, rows in found.items():
        try:
            wanted = int(form.get(f"{section}_rows", ""))
        except ValueError:
            wanted = default_rows[section]
        count = max(0, min(max_rows, max([wanted, *(i + 1 for i in rows)])))
        sections[section] = [rows.get(i, {}) for i in range(count)]
    result = ChangeSetRows(**sections, yaml_text=form.get("change_set_yaml", ""))
    _expand(result, form.get("action", ""), max_rows)
    return result


def split_serials(text: str) -> list[str]:
    """Serial numbers as pasted: one a line, or separated by commas, semicolons or spaces."""
    return [s for s in SERIAL_SEPARATORS.split(text or "") if s]


def _expand(rows: ChangeSetRows, action: str, max_rows: int) -> None:
    """New-item rows the user asked to copy: the Copy button (``copy-create-<i>``) and each row's
    pasted serial numbers (``create-<i>-serials``), from the last row up so the indexes of the
    rows still to do stay put."""
    match = COPY_ACTION.match(action)
    pressed = int(match.group(1)) if match else None
    for index in reversed(range(len(rows.create))):
        serials = split_serials(rows.create[index].get("serials", ""))
        if serials:
            rows.copy_create_row(index, serials, max_rows)
        elif index == pressed:
            rows.copy_create_row(index, None, max_rows)


def input_errors(errors: list[FieldError], origins: list[Origin], rows: ChangeSetRows,
                 spec: ChangeFormSpec, fields: set[str]) -> dict[str, list[str]]:
    """Each error under the form input it belongs to: ``fields`` (title, fields.x, ...) by name,
    a change-set error at its row's input (``create-0-name``) or, when the row has no such input,
    at the row (``create-0``); ``operations`` for the change set as a whole, ``change_set_yaml``
    for the YAML, ``form`` for anything else."""
    found: dict[str, list[str]] = {}
    for error in errors:
        name, message = _input_for(error, origins, rows, spec, fields)
        found.setdefault(name, []).append(message)
    return found


def _input_for(error: FieldError, origins: list[Origin], rows: ChangeSetRows,
               spec: ChangeFormSpec, fields: set[str]) -> tuple[str, str]:
    if error.field in ("operations", "change_set_yaml"):  # the latter: the YAML did not load
        return error.field, error.message
    match = PATH.match(error.field)
    if not match:
        return (error.field, error.message) if error.field in fields else ("form", str(error))
    index, rest = int(match.group(1)), match.group(2)
    if index >= len(origins):
        return "operations", error.message
    origin = origins[index]
    if origin.section == "yaml":
        return "change_set_yaml", (f"operation {origin.rows[0] + 1}"
                                   f"{f' ({rest})' if rest else ''}: {error.message}")
    row_index = origin.rows[0]
    if origin.section == "update" and rest in origin.fields:
        row_index, rest = origin.fields[rest], "value"
    row = rows.section(origin.section)[row_index]
    klass = spec.klass(row.get("class")) if origin.section == "create" else None
    shown = rest in ROW_FIELDS[origin.section] or (
        klass is not None and rest is not None and rest.startswith("attributes.")
        and rest.removeprefix("attributes.") in {a.name for a in klass.attributes})
    message = error.message
    if rest in CHOOSE and not (row.get(rest) or "").strip():
        message = CHOOSE[rest]
    if rest is not None and shown:
        return f"{origin.section}-{row_index}-{rest}", message
    where = f"{rest.removeprefix('attributes.')}: " if rest else ""
    return f"{origin.section}-{row_index}", where + message


__all__ = [
    "CREATE_FIELDS", "UNIQUE_FIELDS", "AttributeInput", "ChangeFormSpec", "ChangeSetRows",
    "ClassChoice", "ModelChoice", "ModelNotFound", "Origin", "ROW_FIELDS", "change_form_spec",
    "form_spec", "input_errors", "list_models", "parse_yaml_operations", "rows_from_form",
    "split_serials",
]
