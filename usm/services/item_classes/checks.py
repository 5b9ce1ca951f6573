"""The checks an item-class version passes before it is stored or published. Each problem names
the class and the attribute, so a designer can find it in the form or the YAML.

Two kinds: the definition on its own (names, types, allowed values, units, clashes with inherited
attributes and item fields) and the definition against the register as it is now (key prefix,
abstract, type or allowed values that current values break, a required attribute items lack).
The register is never rewritten to fit a class: a change that would need that is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import ValidationError
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from bir.classes import AttributeSpec, AttributeType, ClassCatalogue, ClassSpec, coerce_attribute
from bir.errors import Invalid
from bir.items import RECORD_FIELDS, Item
from bir.vocabulary import DepreciationMethod
from bir.yaml_input import load_yaml

CLASS_FIELDS = ("code", "name", "key_prefix", "abstract", "description", "depreciation",
                "attributes")
ATTRIBUTE_FIELDS = ("name", "label", "type", "required", "allowed", "unit", "help")
# Names an attribute may not take: every item's own fields and what identifies it.
RESERVED_NAMES = frozenset(RECORD_FIELDS) | {"key", "class", "class_code", "version", "id"}
RESERVED_PREFIXES = frozenset({"CHG"})  # keys of changes come from the same counters
NUMERIC_TYPES = (AttributeType.INTEGER, AttributeType.DECIMAL)
_CODE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_PREFIX = re.compile(r"^[A-Z]{2,6}$")


class ClassDefinitionError(Invalid):
    """A class definition was refused; ``problems`` lists every reason, each naming its place."""

    summary = "the class definition was refused"
    field = "source"

    def __init__(self, problems: list[str]):
        super().__init__(problems)


def _yaml_data(source: str, where: str) -> Any:
    try:
        return load_yaml(source)
    except yaml.YAMLError as exc:  # also a text over a limit of load_yaml
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ClassDefinitionError([f"{where}: not valid YAML{at}: "
                                    f"{getattr(exc, 'problem', None) or exc}"]) from exc
    except ValueError as exc:  # a scalar the resolver accepts but cannot build (2001-13-01)
        raise ClassDefinitionError([f"{where}: not valid YAML: {exc}"]) from exc
    except RecursionError as exc:
        raise ClassDefinitionError([f"{where}: not valid YAML: nested too deeply"]) from exc


def load_class_yaml(source: str, *, where: str = "class") -> dict[str, Any]:
    """One class definition from YAML text (a mapping, or a ``classes:`` list of one)."""
    data = _yaml_data(source, where)
    if isinstance(data, dict) and isinstance(data.get("classes"), list) and len(data) == 1:
        if len(data["classes"]) != 1:
            raise ClassDefinitionError([f"{where}: holds {len(data['classes'])} classes; "
                                        "a draft is one class (the command line imports lists)"])
        data = data["classes"][0]
    if not isinstance(data, dict):
        raise ClassDefinitionError([f"{where}: expected a mapping with code, name, key_prefix "
                                    "and attributes"])
    data.pop("version", None)  # an exported file may name its version; the store numbers them
    return data


def load_class_list(source: str, *, where: str = "file") -> list[dict[str, Any]]:
    """Every class of a file: a ``classes:`` list (as the shipped classes.yaml) or one mapping."""
    data = _yaml_data(source, where)
    if isinstance(data, dict) and isinstance(data.get("classes"), list):
        entries = data["classes"]
        if not all(isinstance(e, dict) for e in entries):
            raise ClassDefinitionError([f"{where}: every entry of 'classes' must be a mapping"])
        return [{k: v for k, v in e.items() if k != "version"} for e in entries]
    return [load_class_yaml(source, where=where)]


def check_definition_alone(raw: dict[str, Any]) -> list[str]:
    """Problems of the definition itself, without the register."""
    code = raw.get("code")
    where = f"class {code}" if isinstance(code, str) and code else "class"
    problems = [f"{where}: '{k}' is not a field of a class (known: {', '.join(CLASS_FIELDS)})"
                for k in raw if k not in CLASS_FIELDS]
    if not isinstance(code, str) or not _CODE.match(code) or len(code) > 64:
        problems.append(f"{where}: code {code!r} must be lowercase words of letters, digits and _, "
                        "a dot before each subclass level (e.g. hardware.laptop), at most 64 "
                        "characters")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 120:
        problems.append(f"{where}: name is required (text of at most 120 characters)")
    prefix = raw.get("key_prefix")
    if not isinstance(prefix, str) or not _PREFIX.match(prefix):
        problems.append(f"{where}: key prefix {prefix!r} must be 2 to 6 capital letters "
                        "(e.g. LAP)")
    elif prefix in RESERVED_PREFIXES:
        problems.append(f"{where}: key prefix {prefix} is the changes' own (CHG-000001)")
    if not isinstance(raw.get("abstract", False), bool):
        problems.append(f"{where}: abstract must be true or false")
    if raw.get("description") is not None and not isinstance(raw["description"], str):
        problems.append(f"{where}: description must be text")
    problems += _depreciation_problems(where, raw.get("depreciation"))
    attributes = raw.get("attributes") or []
    if not isinstance(attributes, list):
        return [*problems, f"{where}: attributes must be a list"]
    seen: dict[str, int] = {}
    for row, attribute in enumerate(attributes, start=1):
        problems += _attribute_problems(where, row, attribute, seen)
    return problems


def _depreciation_problems(where: str, depreciation: Any) -> list[str]:
    """``depreciation: {method: straight_line, months: 36}``: what a new item is offered."""
    if depreciation is None:
        return []
    methods = [m.value for m in DepreciationMethod if m != DepreciationMethod.NONE]
    if not isinstance(depreciation, dict) or set(depreciation) != {"method", "months"}:
        return [f"{where}: depreciation must name a method and months, e.g. "
                "{method: straight_line, months: 36}"]
    problems = []
    if depreciation["method"] not in methods:
        problems.append(f"{where}: depreciation method {depreciation['method']!r} is not one of "
                        f"{', '.join(methods)}")
    months = depreciation["months"]
    if isinstance(months, bool) or not isinstance(months, int) or not 1 <= months <= 600:
        problems.append(f"{where}: depreciation months must be a whole number from 1 to 600, "
                        f"not {months!r}")
    return problems


def _attribute_problems(where: str, row: int, attribute: Any, seen: dict[str, int]) -> list[str]:
    if not isinstance(attribute, dict):
        return [f"{where}: attribute row {row} must be a mapping with at least a name"]
    name = attribute.get("name")
    at = f"{where}, attribute '{name}'" if isinstance(name, str) and name else \
        f"{where}, attribute row {row}"
    problems = [f"{at}: '{k}' is not a property of an attribute (known: "
                f"{', '.join(ATTRIBUTE_FIELDS)})" for k in attribute if k not in ATTRIBUTE_FIELDS]
    if not isinstance(name, str) or not _NAME.match(name) or len(name) > 48:
        problems.append(f"{at}: name {name!r} must start with a lowercase letter and hold only "
                        "lowercase letters, digits and _ (at most 48)")
    elif name in seen:
        problems.append(f"{at}: defined twice (rows {seen[name]} and {row})")
    elif name in RESERVED_NAMES:
        problems.append(f"{at}: clashes with the item field '{name}' that every item has")
    if isinstance(name, str):
        seen.setdefault(name, row)
    kind = attribute.get("type", "string")
    if not isinstance(kind, str) or kind not in set(AttributeType):
        problems.append(f"{at}: unknown type {kind!r} (known: "
                        f"{', '.join(t.value for t in AttributeType)})")
        kind = None
    if not isinstance(attribute.get("required", False), bool):
        problems.append(f"{at}: required must be true or false")
    for text in ("label", "help", "unit"):
        value = attribute.get(text)
        if value is not None and (not isinstance(value, str) or len(value) > 200):
            problems.append(f"{at}: {text} must be text of at most 200 characters")
    allowed = attribute.get("allowed")
    if allowed is not None:
        if kind not in (None, AttributeType.STRING):
            problems.append(f"{at}: allowed values apply only to string attributes, not to {kind}")
        elif not isinstance(allowed, list) or not allowed:
            problems.append(f"{at}: allowed values must be a non-empty list (leave it out to "
                            "allow any value)")
        elif not all(isinstance(v, str | int) and str(v).strip() for v in allowed):
            problems.append(f"{at}: every allowed value must be non-empty text")
        elif len({str(v).strip() for v in allowed}) != len(allowed):
            problems.append(f"{at}: an allowed value is listed twice")
    unit = attribute.get("unit")
    if unit is not None and kind is not None and kind not in NUMERIC_TYPES:
        problems.append(f"{at}: a unit applies only to integer or decimal attributes, not to "
                        f"{kind}")
    elif isinstance(unit, str) and not unit.strip():
        problems.append(f"{at}: unit is blank (leave it out instead)")
    return problems


def parse_class(raw: dict[str, Any]) -> ClassSpec:
    """The definition as a ``ClassSpec``; ``ClassDefinitionError`` names every problem."""
    problems = check_definition_alone(raw)
    if problems:
        raise ClassDefinitionError(problems)
    cleaned = dict(raw)
    cleaned["attributes"] = [
        {k: ([str(v).strip() for v in val] if k == "allowed" else val)
         for k, val in a.items() if val is not None}
        for a in raw.get("attributes") or []]
    try:
        return ClassSpec.model_validate(cleaned)
    except ValidationError as exc:  # pragma: no cover - the checks above cover the schema
        raise ClassDefinitionError([f"class {raw.get('code')}: {e['msg']} at "
                                    f"{'.'.join(str(p) for p in e['loc'])}"
                                    for e in exc.errors()]) from exc


def spec_record(spec: ClassSpec) -> dict[str, Any]:
    """The stored JSON of a definition (what ``ClassSpec`` reads back), defaults left out as a
    designer writes them (no ``type: string``, ``required: false``)."""
    return spec.model_dump(mode="json", exclude_none=True, exclude_defaults=True)


@dataclass(frozen=True)
class Lineage:
    """The published classes around a definition: its ancestors' attributes (name → class) and
    the attributes its published subclasses define themselves."""

    inherited: dict[str, str]
    in_subclasses: dict[str, str]


def lineage_of(session: Session, spec: ClassSpec) -> tuple[Lineage, list[str]]:
    catalogue = ClassCatalogue.load(session)
    problems: list[str] = []
    inherited: dict[str, str] = {}
    parent = spec.parent_code
    if parent is not None:
        if catalogue.get(parent) is None:
            problems.append(f"class {spec.code}: its parent class {parent} is not published; "
                            "publish the parent first")
        for klass in catalogue.lineage(parent):
            for attribute in klass.attribute_specs():
                inherited[attribute.name] = klass.code
    in_subclasses: dict[str, str] = {}
    for code, klass in catalogue.by_code.items():
        if code.startswith(spec.code + "."):
            for attribute in klass.attribute_specs():
                in_subclasses.setdefault(attribute.name, code)
    return Lineage(inherited, in_subclasses), problems


def items_of_subtree(code: str) -> ColumnElement[bool]:
    """Items of the class and of its subclasses (dotted codes below it)."""
    return or_(Item.class_code == code, Item.class_code.startswith(f"{code}.", autoescape=True))


def check_against_register(session: Session, spec: ClassSpec) -> list[str]:
    """Problems of the definition against the published classes and the items registered now."""
    lineage, problems = lineage_of(session, spec)
    where = f"class {spec.code}"
    for attribute in spec.attributes:
        if attribute.name in lineage.inherited:
            problems.append(f"{where}, attribute '{attribute.name}': clashes with the attribute "
                            f"inherited from {lineage.inherited[attribute.name]}")
        elif attribute.name in lineage.in_subclasses:
            problems.append(f"{where}, attribute '{attribute.name}': its subclass "
                            f"{lineage.in_subclasses[attribute.name]} already defines it")
    items = session.execute(
        select(Item.key, Item.class_code, Item.attributes)
        .where(items_of_subtree(spec.code))
        .order_by(Item.key)).all()
    own = [row for row in items if row.class_code == spec.code]
    current = session.scalar(select(Item.key).where(Item.class_code == spec.code).limit(1))
    published = ClassCatalogue.load(session).get(spec.code)
    if published is not None and current is not None and published.key_prefix != spec.key_prefix:
        problems.append(f"{where}: the key prefix cannot change from {published.key_prefix} to "
                        f"{spec.key_prefix}: {_count(own)} of the class "
                        f"{_verb(own, 'carries its', 'carry their')} key (e.g. {current})")
    if spec.abstract and own:
        problems.append(f"{where}: cannot be abstract: {_count(own)} "
                        f"{_verb(own, 'is', 'are')} of this class itself "
                        f"(e.g. {own[0].key}); only a class without items of its own is abstract")
    for attribute in spec.attributes:
        problems += _values_against(where, attribute, items)
    return problems


def _values_against(where: str, attribute: AttributeSpec, items: list[Any]) -> list[str]:
    at = f"{where}, attribute '{attribute.name}'"
    unfit: list[tuple[str, Any]] = []
    lacking: list[str] = []
    for row in items:
        value = (row.attributes or {}).get(attribute.name)
        if value in (None, ""):
            lacking.append(row.key)
            continue
        try:
            coerce_attribute(attribute, value)
        except ValueError:
            unfit.append((row.key, value))
    problems = []
    if unfit:
        kind = f"one of {', '.join(attribute.allowed)}" if attribute.allowed else \
            f"{attribute.type.value}"
        problems.append(f"{at}: {_count(unfit)} {_verb(unfit, 'holds a value', 'hold values')} "
                        f"that {_verb(unfit, 'is', 'are')} not {kind} (e.g. {unfit[0][0]}: "
                        f"{unfit[0][1]!r}); change those items first")
    if attribute.required and lacking:
        problems.append(f"{at}: cannot be required: {_count(lacking)} "
                        f"{_verb(lacking, 'lacks', 'lack')} it (e.g. {lacking[0]}); register "
                        "their values through a change first")
    return problems


def _count(rows: list[Any]) -> str:
    return "1 item" if len(rows) == 1 else f"{len(rows)} items"


def _verb(rows: list[Any], one: str, many: str) -> str:
    return one if len(rows) == 1 else many
