"""The designer's structured form for an item class, turned into a definition.

The result is only a proposal: it is saved through ``class_versions.update_draft``, which checks
it like any YAML, so a bad row is named by the same messages (class, attribute, problem).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bir.classes import AttributeType, ClassSpec
from bir.vocabulary import DepreciationMethod

# What the form's lists offer.
ATTRIBUTE_TYPES = tuple(t.value for t in AttributeType)
DEPRECIATION_METHODS = tuple(m.value for m in DepreciationMethod if m != DepreciationMethod.NONE)


@dataclass(frozen=True)
class AttributeRow:
    """One attribute row as the form sends it (text as typed)."""

    name: str = ""
    label: str = ""
    type: str = "string"
    required: bool = False
    allowed: str = ""  # comma separated
    unit: str = ""
    help: str = ""
    remove: bool = False

    @property
    def blank(self) -> bool:
        return not any((self.name.strip(), self.label.strip(), self.allowed.strip(),
                        self.unit.strip(), self.help.strip()))


@dataclass(frozen=True)
class ClassForm:
    code: str
    name: str
    key_prefix: str
    abstract: bool
    description: str
    rows: list[AttributeRow]
    depreciation_method: str = ""  # what a form offers for a new item of the class
    depreciation_months: str = ""


def class_record(form: ClassForm) -> dict[str, Any]:
    """The definition the form describes; removed and blank rows are left out."""
    record: dict[str, Any] = {"code": form.code, "name": form.name.strip(),
                              "key_prefix": form.key_prefix.strip(), "abstract": form.abstract}
    if form.description.strip():
        record["description"] = form.description.strip()
    if form.depreciation_method.strip() or form.depreciation_months.strip():
        months = form.depreciation_months.strip()
        record["depreciation"] = {"method": form.depreciation_method.strip(),
                                  "months": int(months) if months.isdigit() else months}
    record["attributes"] = [_attribute(row) for row in form.rows
                            if not row.remove and not row.blank]
    return record


def _attribute(row: AttributeRow) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": row.name.strip()}
    if row.label.strip():
        entry["label"] = row.label.strip()
    entry["type"] = row.type.strip() or "string"
    if row.required:
        entry["required"] = True
    allowed = [v.strip() for v in row.allowed.split(",") if v.strip()]
    if allowed:
        entry["allowed"] = allowed
    if row.unit.strip():
        entry["unit"] = row.unit.strip()
    if row.help.strip():
        entry["help"] = row.help.strip()
    return entry


def rows_of(spec: ClassSpec) -> list[AttributeRow]:
    """The form rows of a definition, as the editor first shows them."""
    return [AttributeRow(name=a.name, label=a.label or "", type=a.type.value,
                         required=a.required, allowed=", ".join(a.allowed or []),
                         unit=a.unit or "", help=a.help or "") for a in spec.attributes]


def form_of(code: str, values: Any, indexes: Iterable[int]) -> ClassForm:
    """A form from posted values (``values.get``): ``attr-<i>-<field>`` for each row index."""
    rows = [AttributeRow(
        name=values.get(f"attr-{i}-name", ""), label=values.get(f"attr-{i}-label", ""),
        type=values.get(f"attr-{i}-type", "string"),
        required=values.get(f"attr-{i}-required") == "on",
        allowed=values.get(f"attr-{i}-allowed", ""), unit=values.get(f"attr-{i}-unit", ""),
        help=values.get(f"attr-{i}-help", ""), remove=values.get(f"attr-{i}-remove") == "on")
        for i in indexes]
    return ClassForm(code=code, name=values.get("name", ""),
                     key_prefix=values.get("key_prefix", ""),
                     abstract=values.get("abstract") == "on",
                     description=values.get("description", ""), rows=rows,
                     depreciation_method=values.get("depreciation_method", ""),
                     depreciation_months=values.get("depreciation_months", ""))
