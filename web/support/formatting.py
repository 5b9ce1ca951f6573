"""How values read on a page: dates in UTC, money with its currency, field labels, each in the
request's language (``web.support.i18n``).

English pages keep ISO dates (``2026-01-31``); Dutch pages read ``31-01-2026``. Money and numbers
are grouped as the language does: ``€1,234.56`` and ``€ 1.234,56``. Input fields and downloads
stay ISO and language-neutral. Everything here turns service view objects into text; nothing
queries.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from babel.core import Locale
from babel.dates import format_date, format_time, get_day_names
from babel.numbers import format_currency, format_decimal
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from usm.services import register
from usm.services.register import HistoryRow, ItemView
from web.support.vocabulary import ROLE_LABELS, STATUS_LABELS, STEP_LABELS, period_label, ui, ui_reason

EMPTY = "—"
FIELD_LABELS: dict[str, Any] = {
    "name": _l("Name"),
    "status": _l("Status"),
    "owner": _l("Owner"),
    "location": _l("Location"),
    "cost_centre": _l("Cost centre"),
    "class_code": _l("Class"),
    "serial_number": _l("Serial number"),
    "asset_tag": _l("Asset tag"),
    "manufacturer": _l("Manufacturer"),
    "model": _l("Model"),
    "hostname": _l("Host name"),
    "purchase_cost": _l("Purchase cost"),
    "currency": _l("Currency"),
    "acquired_on": _l("Acquired on"),
    "in_service_on": _l("In service on"),
    "depreciation_method": _l("Depreciation method"),
    "depreciation_months": _l("Depreciation period (months)"),
    "residual_value": _l("Residual value"),
    "supplier": _l("Supplier"),
    "contract": _l("Contract"),
    "invoice": _l("Invoice"),
    "warranty_end": _l("Warranty end"),
    "lease_end": _l("Lease end"),
    "end_of_life": _l("End of life"),
    "recurring_cost": _l("Recurring cost"),
    "recurring_period": _l("Recurring period"),
    "disposal_proceeds": _l("Disposal proceeds"),
    "attachment": _l("Attachment"),
    "attach": _l("Attach file"),
    "detach": _l("Remove file"),
    # Change-set operations and relation kinds, shown through ``label`` too.
    "create_item": _l("Create item"),
    "update_item": _l("Update item"),
    "set_status": _l("Set status"),
    "add_relation": _l("Add relation"),
    "remove_relation": _l("Remove relation"),
    "retire_item": _l("Retire item"),
    "runs_on": _l("Runs on"),
    "installed_on": _l("Installed on"),
    "depends_on": _l("Depends on"),
    "connected_to": _l("Connected to"),
    "part_of": _l("Part of"),
    "licensed_by": _l("Licensed by"),
    "supports": _l("Supports"),
    "located_in": _l("Located in"),
}
SOURCE_LABELS = {
    "customer": _l("Customer"),
    "ctm": _l("CTM (a new or changed agreement)"),
    "inc": _l("INC (an incident recovery)"),
    "rim": _l("RIM (an improvement)"),
}


def locale() -> Locale:
    """The request's locale (English outside a request)."""
    return get_locale() or Locale("en")


def _dutch_style() -> bool:
    return locale().language != "en"
MONEY_FIELDS = register.MONEY_FIELDS
# Shown folded into the money values above rather than as rows of their own.
FOLDED_FIELDS = ("currency", "recurring_period")


def when(value: datetime | date | str | None) -> str:
    """A moment as ``YYYY-MM-DD HH:MM UTC``, a day as ``YYYY-MM-DD`` (Dutch: ``DD-MM-YYYY``)."""
    if value is None:
        return EMPTY
    if isinstance(value, str):  # an ISO day a template already holds as text
        try:
            value = date.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        moment = value.astimezone(UTC) if value.tzinfo else value
        if _dutch_style():
            return (f"{format_date(moment.date(), 'short', locale=locale())} "
                    f"{format_time(moment.time(), 'HH:mm', locale=locale())} UTC")
        return moment.strftime("%Y-%m-%d %H:%M UTC")
    if _dutch_style():
        return format_date(value, "short", locale=locale())
    return value.isoformat()


def month(value: date) -> str:
    """A month as its name and year: November 2026 / november 2026."""
    return format_date(value, "LLLL y", locale=locale())


def weekday_names() -> list[str]:
    """Monday to Sunday, abbreviated: Mon ... Sun / ma ... zo."""
    names = get_day_names("abbreviated", locale=locale())
    return [names[day] for day in range(7)]


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
    """A coded value as words: ``in_use`` reads "In use" ("In gebruik")."""
    if not status:
        return EMPTY
    known = STATUS_LABELS.get(status)
    return str(known) if known is not None else status.replace("_", " ").capitalize()


def plural(count: int, one: str, many: str | None = None) -> str:
    """``1 item``, ``2 items``: ``one`` and ``many`` are already translated words."""
    return f"{number(count)} {one if count == 1 else (many or one + 's')}"


def number(value: int | Decimal | float | None) -> str:
    """A count or amount grouped as the language does: 1,234 / 1.234."""
    if value is None:
        return EMPTY
    return format_decimal(value, locale=locale())


def money(amount: Decimal | str | None, currency: str | None) -> str:
    """Exact to the cent, grouped so large sums read at a glance: €12,500.00 / € 12.500,00."""
    if amount is None:
        return EMPTY
    value = Decimal(amount)
    if not currency:
        text = format_decimal(value, format="#,##0.00", locale=locale())
        return _("%(amount)s (no currency)", amount=text)
    return format_currency(value, currency, locale=locale(), currency_digits=False,
                           format_type="standard")


def display(value: Any) -> str:
    """Any register value as text."""
    if value is None or value == "":
        return EMPTY
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, datetime | date):
        return when(value)
    if isinstance(value, list | tuple | set):
        return ", ".join(display(v) for v in value) or EMPTY
    if isinstance(value, dict):
        return ", ".join(f"{k}: {display(v)}" for k, v in value.items()) or EMPTY
    return str(value)


def label(field: str) -> str:
    known = FIELD_LABELS.get(field) or STEP_LABELS.get(field)
    return str(known) if known is not None else field.replace("_", " ").capitalize()


# Fields whose values are codes of a closed vocabulary, shown as words ("in_use" reads "In use").
CODED_FIELDS = ("status", "depreciation_method")


def field_text(field: str, value: Any) -> str:
    """A register value as text, coded values in words."""
    if field in CODED_FIELDS and isinstance(value, str) and value:
        return status_label(value)
    return display(value)


@dataclass(frozen=True)
class FieldGroup:
    code: str  # core, configuration, financial or attributes, whatever the language
    title: str
    rows: list[tuple[str, str]]  # label, text
    empty_text: str


def item_groups(item: ItemView) -> list[FieldGroup]:
    """The item's attributes as users read them: core, configuration, financial, class-specific."""
    core = [(label(name), item.reference_labels.get(name) or field_text(name, value))
            for name, value in item.core.items()]
    configuration = [(label(name), display(value))
                     for name, value in item.configuration.items() if value not in (None, "")]
    return [
        FieldGroup("core", _("Core"), core, _("No core attributes.")),
        FieldGroup("configuration", _("Configuration"), configuration,
                   _("No configuration attributes registered.")),
        FieldGroup("financial", _("Financial"), _value_rows(item.financial),
                   _("No financial attributes registered.")),
        FieldGroup("attributes", _("%(class_name)s attributes", class_name=item.class_name), [
            (attr_label, display(value) + (f" {unit}" if unit and value is not None else ""))
            for _name, attr_label, value, unit in item.attributes
        ], _("No class-specific attributes registered.")),
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
                text += f" {period_label(values['recurring_period'])}"
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
        subject, key = _("new item @%(ref)s", ref=op["ref"]), None
    else:
        subject, key = _("new item"), None
    values: list[tuple[str, str]] = []
    if op.get("class"):
        values.append((_("Class"), str(op["class"])))
    if op.get("kind"):
        values.append((_("Relation"), label(str(op["kind"]))))
    if op.get("status"):
        values.append((_("Status"), str(op["status"])))
    values += _value_rows(dict(op.get("fields") or {}))
    attributes = op.get("attributes") or {}
    values += [(label(name), display(value)) for name, value in attributes.items()]
    return OperationText(kind, key, subject, values)


@dataclass(frozen=True)
class FieldChangeText:
    label: str
    old: str
    new: str
    event: str = ""  # "attached" or "removed": a file, not a field (``new`` names it)


def history_changes(row: HistoryRow, attribute_labels: Iterable[tuple[str, str]]
                    ) -> list[FieldChangeText]:
    """The fields one version changed, labelled (class-specific ones by their class label)."""
    labels = {f"attributes.{name}": text for name, text in attribute_labels}

    def text(name: str, value: Any, currency: str | None) -> str:
        # Amounts read as on the rest of the page: grouped, with the currency of that version.
        if name in MONEY_FIELDS and value not in (None, ""):
            return money(value, currency)
        return field_text(name, value)

    return [
        FieldChangeText(label(c.field), "", str(c.new or c.old),
                        str(_("attached") if c.new else _("removed")))
        if c.field == "attachment" else
        FieldChangeText(labels.get(c.field) or label(c.field),
                        text(c.field, c.old, row.previous_currency),
                        text(c.field, c.new, row.currency))
        for c in row.changes
    ]


def source_label(source: str) -> str:
    known = SOURCE_LABELS.get(source)
    return str(known) if known is not None else source


def role_label(role: str) -> str:
    known = ROLE_LABELS.get(role)
    return str(known) if known is not None else role.replace("_", " ").capitalize()


FILTERS = {
    "operation": operation_text,
    "when": when,
    "iso": iso,
    "month": month,
    "display": display,
    "money": money,
    "moment_param": moment_param,
    "moment_input": moment_input,
    "status_label": status_label,
    "plural": plural,
    "number": number,
    "ui": ui,
    "ui_reason": ui_reason,
    "label": label,
    "role_label": role_label,
    "source_label": source_label,
}
