"""From a raw row of an import file to a ``FoundItem``: columns mapped to fields, values checked
against the item fields and the class's attributes as a change set would check them."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from pydantic import ValidationError

from bir.classes import ClassCatalogue
from bir.errors import shown
from bir.items import MONEY_FIELDS, ItemFields
from bir.vocabulary import LifecycleStatus
from usm.config import default_currency
from usm.services.audit.found import FoundItem, ImportProblem
from usm.services.audit.mapping import ColumnMapping, display_amount, display_date
from usm.services.platform import restored

_UNKNOWN = object()  # a value the mapping does not know
STATUSES = frozenset(s.value for s in LifecycleStatus)
DATE_FIELDS = frozenset(name for name, info in ItemFields.model_fields.items()
                        if info.annotation in (date, date | None))


class RowReader:
    """Turns raw rows into found items for one file and mapping; an unknown column is reported
    once, at the first row that has it."""

    def __init__(self, file: str, mapping: ColumnMapping, catalogue: ClassCatalogue) -> None:
        self.file, self.mapping, self.catalogue = file, mapping, catalogue
        self.reported_columns: set[str] = set()
        # Columns an ignore_unknown mapping leaves out: reported once, in the answer.
        self.ignored_columns: dict[str, None] = {}
        # (target, column, value) -> [rows, first row]: values the mapping does not know,
        # reported once each with their count instead of once per row.
        self.unknown: dict[tuple[str, str, str], list[int]] = {}
        self.decimal_mark: str | None = None  # the one the file's amounts show

    def read(self, row: int, raw: dict[str, Any]) -> tuple[FoundItem | None, list[ImportProblem]]:
        problems: list[ImportProblem] = []

        def problem(column: str, message: str) -> None:
            problems.append(ImportProblem(self.file, row, column, message))

        values: dict[str, Any] = {t: v for t, v in self.mapping.defaults.items()}
        columns: dict[str, str] = {}
        held = False
        for column, value in raw.items():
            targets = self.mapping.targets(column)
            if targets is None:
                if self.mapping.ignore_unknown:
                    self.ignored_columns.setdefault(column)
                elif column not in self.reported_columns:
                    self.reported_columns.add(column)
                    problem(column, "unknown column: the register has no such field (see the "
                                    "Import section of the README for the column names)")
                continue
            if isinstance(value, str):
                # An export wrote a formula-like text with a ' before it: read it back as it was.
                value = restored(value.strip())
            if value is None or value == "":
                continue  # a blank cell reports nothing; it never clears a registered value
            for target in targets:
                converted = self._value(row, column, target, value)
                if converted is _UNKNOWN:
                    held = True
                    continue
                values[target] = converted
                columns[target] = column
        if problems or held:
            return None, problems  # an unknown value is reported once, with its count
        if self.mapping.checked_out and values.get("owner") \
                and values.get("status") in (None, "in_stock"):
            values["status"] = self.mapping.checked_out  # checked out: in use by its assignee
        found = FoundItem(self.file, row, "", columns=columns)
        self._class(found, values.pop("class", None), problem)
        key = values.pop("key", None)
        found.key = str(key).strip().upper() if key is not None else None
        installed_on = values.pop("installed_on", None)
        found.installed_on = str(installed_on) if installed_on is not None else None
        attributes = self._attributes(found, values, problem)
        self._fields(found, values, problem)
        if found.class_code and attributes is not None:
            clean, errors = self.catalogue.validate_attributes(
                found.class_code, attributes, "attributes", partial=True)
            for error in errors:
                name = error.field.removeprefix("attributes.")
                problem(found.column(f"attributes.{name}"), error.message)
            found.attributes = clean
        return (None, problems) if problems else (found, [])

    def _value(self, row: int, column: str, target: str, value: Any) -> Any:
        """A cell as the register reads it: translated by the mapping, amounts and dates as the
        tool displays them read exactly; ``_UNKNOWN`` for a class or status the mapping does
        not know (counted, not reported per row)."""
        if not isinstance(value, str):
            return value
        if target == "status":
            value, meant = self.mapping.split_status(value)
            if meant is not None:
                return meant
        if target in ("class", "status") and self.mapping.knows(target):
            found = self.mapping.lookup(target, value)
            if found is None and not self._known(target, value):
                seen = self.unknown.setdefault((target, column, value), [0, row])
                seen[0] += 1
                return _UNKNOWN
            return value if found is None else found
        value = self.mapping.translate(target, value)
        if target in MONEY_FIELDS and self.mapping.amounts == "display":
            value, mark = display_amount(value, self.decimal_mark)
            self.decimal_mark = self.decimal_mark or mark
        elif target in DATE_FIELDS and self.mapping.dates == "display":
            value = display_date(value)
        return value

    def _known(self, target: str, value: str) -> bool:
        """Whether ``value`` is itself a class code or lifecycle status (then it needs no
        translation)."""
        if target == "class":
            return self.catalogue.get(value) is not None
        return value in STATUSES

    def _class(self, found: FoundItem, code: Any, problem: Any) -> None:
        column = found.column("class")
        if code is None:
            problem(column, "no class given: every row needs the item class (e.g. "
                            "hardware.laptop)")
            return
        klass = self.catalogue.get(str(code))
        if klass is None:
            problem(column, f"unknown class {shown(code)}: use an item class code such as "
                            "hardware.laptop")
        elif klass.abstract:
            problem(column, f"class {code} is abstract; give one of its subclasses")
        else:
            found.class_code = klass.code

    def _attributes(self, found: FoundItem, values: dict[str, Any],
                    problem: Any) -> dict[str, Any] | None:
        attributes: dict[str, Any] = {}
        whole = values.pop("attributes", None)
        if whole is not None:
            try:
                parsed = json.loads(whole) if isinstance(whole, str) else whole
            except (ValueError, RecursionError) as exc:  # not JSON; nested too deeply
                parsed = exc
            if not isinstance(parsed, dict):
                problem(found.column("attributes"), "is not a JSON object of class attributes")
                return None
            attributes.update(parsed)
            for name in parsed:
                found.columns.setdefault(f"attributes.{name}", found.column("attributes"))
        for target in [t for t in values if t.startswith("attributes.")]:
            attributes[target.removeprefix("attributes.")] = values.pop(target)
        return attributes

    def _fields(self, found: FoundItem, values: dict[str, Any], problem: Any) -> None:
        if "status" in values and values["status"] not in [s.value for s in LifecycleStatus]:
            problem(found.column("status"), f"{shown(values['status'])} is not a lifecycle status "
                    f"({', '.join(s.value for s in LifecycleStatus)})")
            values.pop("status")
        try:
            parsed = ItemFields.model_validate(values)
        except ValidationError as exc:
            for err in exc.errors():
                target = str(err["loc"][0]) if err["loc"] else "-"
                problem(found.column(target), err["msg"].removeprefix("Value error, "))
            return
        found.fields = parsed.model_dump(mode="json", exclude_unset=True)
        if not found.fields.get("currency") and any(
                found.fields.get(name) is not None for name in MONEY_FIELDS):
            # An amount is never registered without a currency: one the file does not name is
            # the register's default.
            found.fields["currency"] = default_currency()
            found.assumed.add("currency")


def comparable(fields: dict[str, Any]) -> dict[str, Any]:
    """Register values in the form ``FoundItem.fields`` holds them, so the two compare."""
    return ItemFields.model_validate(
        {k: v for k, v in fields.items() if v is not None}).model_dump(mode="json",
                                                                      exclude_unset=True)
