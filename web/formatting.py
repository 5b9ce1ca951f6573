"""How values read on a page: ISO dates in UTC, money with its currency, field labels.

Everything here turns service view objects into text; nothing queries.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from usm.services.register import HistoryRow, ItemView

EMPTY = "—"
FIELD_LABELS: dict[str, str] = {
    "name": "Name",
    "status": "Status",
    "owner": "Owner",
    "location": "Location",
    "cost_centre": "Cost centre",
    "class_code": "Class",
    "serial_number": "Serial number",
    "asset_tag": "Asset tag",
    "manufacturer": "Manufacturer",
    "model": "Model",
    "hostname": "Host name",
    "purchase_cost": "Purchase cost",
    "currency": "Currency",
    "acquired_on": "Acquired on",
    "in_service_on": "In service on",
    "depreciation_method": "Depreciation method",
    "depreciation_months": "Depreciation period (months)",
    "residual_value": "Residual value",
    "supplier": "Supplier",
    "contract": "Contract",
    "invoice": "Invoice",
    "warranty_end": "Warranty end",
    "lease_end": "Lease end",
    "end_of_life": "End of life",
    "recurring_cost": "Recurring cost",
    "recurring_period": "Recurring period",
    "disposal_proceeds": "Disposal proceeds",
}
SOURCE_LABELS = {
    "customer": "Customer",
    "ctm": "CTM (a new or changed agreement)",
    "inc": "INC (an incident recovery)",
    "rim": "RIM (an improvement)",
}
MONEY_FIELDS = ("purchase_cost", "residual_value", "recurring_cost", "disposal_proceeds")
# Shown folded into the money values above rather than as rows of their own.
FOLDED_FIELDS = ("currency", "recurring_period")


def when(value: datetime | date | None) -> str:
    """A moment as ``YYYY-MM-DD HH:MM UTC``, a day as ``YYYY-MM-DD``."""
    if value is None:
        return EMPTY
    if isinstance(value, datetime):
        moment = value.astimezone(UTC) if value.tzinfo else value
        return moment.strftime("%Y-%m-%d %H:%M UTC")
    return value.isoformat()


def iso(value: datetime | date | None) -> str:
    """Machine-readable ISO 8601, for ``<time datetime=...>``."""
    if value is None:
        return ""
    if isinstance(value, datetime) and value.tzinfo:
        return value.astimezone(UTC).isoformat()
    return value.isoformat()


def moment_param(value: datetime) -> str:
    """A moment as the register's ``as_of`` parameter reads it: UTC without a zone, as short as
    exact (``2026-01-31T12:00``, seconds and fractions only when there are any)."""
    moment = value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    if moment.microsecond:
        return moment.isoformat(timespec="microseconds")
    return moment.isoformat(timespec="seconds" if moment.second else "minutes")


def moment_input(value: datetime | None) -> str:
    """A moment as the value of an ``<input type="datetime-local">`` (UTC, to the second)."""
    if value is None:
        return ""
    moment = value.astimezone(UTC).replace(tzinfo=None, microsecond=0) if value.tzinfo else value
    return moment.isoformat(timespec="seconds" if moment.second else "minutes")


def status_label(status: str | None) -> str:
    """A lifecycle status as words: ``in_use`` reads "In use"."""
    return status.replace("_", " ").capitalize() if status else EMPTY


def plural(count: int, one: str, many: str | None = None) -> str:
    """``1 item``, ``2 items``."""
    return f"{count} {one if count == 1 else (many or one + 's')}"


def money(amount: Decimal | str | None, currency: str | None) -> str:
    """Exact, grouped in thousands so large sums read at a glance: 12,500.00 EUR."""
    if amount is None:
        return EMPTY
    text = f"{Decimal(amount):,.2f}"
    return f"{text} {currency}" if currency else f"{text} (no currency)"


def display(value: Any) -> str:
    """Any register value as text."""
    if value is None or value == "":
        return EMPTY
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime | date):
        return when(value)
    if isinstance(value, list | tuple | set):
        return ", ".join(display(v) for v in value) or EMPTY
    if isinstance(value, dict):
        return ", ".join(f"{k}: {display(v)}" for k, v in value.items()) or EMPTY
    return str(value)


def label(field: str) -> str:
    return FIELD_LABELS.get(field) or field.replace("_", " ").capitalize()


# Fields whose values are codes of a closed vocabulary, shown as words ("in_use" reads "In use").
CODED_FIELDS = ("status", "depreciation_method")


def field_text(field: str, value: Any) -> str:
    """A register value as text, coded values in words."""
    if field in CODED_FIELDS and isinstance(value, str) and value:
        return status_label(value)
    return display(value)


@dataclass(frozen=True)
class FieldGroup:
    title: str
    rows: list[tuple[str, str]]  # label, text
    empty_text: str


def item_groups(item: ItemView) -> list[FieldGroup]:
    """The item's attributes as users read them: core, configuration, financial, class-specific."""
    core = [(label(name), field_text(name, value)) for name, value in item.core.items()]
    configuration = [(label(name), display(value))
                     for name, value in item.configuration.items() if value not in (None, "")]
    return [
        FieldGroup("Core", core, "No core attributes."),
        FieldGroup("Configuration", configuration, "No configuration attributes registered."),
        FieldGroup("Financial", _value_rows(item.financial),
                   "No financial attributes registered."),
        FieldGroup(f"{item.class_name} attributes", [
            (attr_label, display(value) + (f" {unit}" if unit and value is not None else ""))
            for _name, attr_label, value, unit in item.attributes
        ], "No class-specific attributes registered."),
    ]


def _value_rows(values: dict[str, Any]) -> list[tuple[str, str]]:
    """Set values as labelled text, money with its currency (currency and period folded in)."""
    currency = values.get("currency")
    rows = []
    for name, value in values.items():
        if value in (None, "") or name in FOLDED_FIELDS:
            continue
        if name in MONEY_FIELDS:
            text = money(value, currency)
            if name == "recurring_cost" and values.get("recurring_period"):
                text += f" {values['recurring_period']}"
        else:
            text = field_text(name, value)
        rows.append((label(name), text))
    if currency and not any(values.get(m) is not None for m in MONEY_FIELDS):
        rows.append((label("currency"), currency))
    return rows


@dataclass(frozen=True)
class OperationText:
    """One operation of a change set, as a line of the change page."""

    kind: str
    item_key: str | None  # an existing item the operation touches (linked), else None
    subject: str
    values: list[tuple[str, str]]


def operation_text(op: dict[str, Any]) -> OperationText:
    kind = label(str(op.get("op", "")))
    if op.get("item"):
        subject, key = op["item"], op["item"]
    elif op.get("source"):
        subject, key = f"{op['source']} → {op['target']}", None
    elif op.get("ref"):
        subject, key = f"new item @{op['ref']}", None
    else:
        subject, key = "new item", None
    values: list[tuple[str, str]] = []
    if op.get("class"):
        values.append(("Class", str(op["class"])))
    if op.get("kind"):
        values.append(("Relation", label(str(op["kind"]))))
    if op.get("status"):
        values.append(("Status", str(op["status"])))
    values += _value_rows(dict(op.get("fields") or {}))
    attributes = op.get("attributes") or {}
    values += [(label(name), display(value)) for name, value in attributes.items()]
    return OperationText(kind, key, subject, values)


@dataclass(frozen=True)
class FieldChangeText:
    label: str
    old: str
    new: str


def history_changes(row: HistoryRow, attribute_labels: Iterable[tuple[str, str]]
                    ) -> list[FieldChangeText]:
    """The fields one version changed, labelled (class-specific ones by their class label)."""
    labels = {f"attributes.{name}": text for name, text in attribute_labels}
    return [
        FieldChangeText(labels.get(c.field) or label(c.field), field_text(c.field, c.old),
                        field_text(c.field, c.new))
        for c in row.changes
    ]


def source_label(source: str) -> str:
    return SOURCE_LABELS.get(source, source)


def role_label(role: str) -> str:
    return role.replace("_", " ").capitalize()


FILTERS = {
    "operation": operation_text,
    "when": when,
    "iso": iso,
    "display": display,
    "money": money,
    "moment_param": moment_param,
    "moment_input": moment_input,
    "status_label": status_label,
    "plural": plural,
    "label": label,
    "role_label": role_label,
    "source_label": source_label,
}
