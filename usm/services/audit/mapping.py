"""Column mappings: which column of an import file fills which field of an item.

A mapping is YAML (see the shipped ones in ``mappings/``):

    name: Snipe-IT asset export
    columns: {"Asset Tag": asset_tag, "Asset Name": [name, hostname], Category: class}
    values: {class: {Laptops: hardware.laptop}, status: {Deployed: in_use}}
    defaults: {currency: EUR}
    ignore_unknown: true        # other tools' exports carry columns the BIR has no use for
    amounts: display            # "1,399.00" and "1.399,00" (thousands separators) are read
    dates: display              # "2024-03-01 12:00:00", "Fri Mar 01, 2024", "Mar 1, 2024"
    status_suffix: {deployed: in_use, deployable: null}   # "Ready to Deploy (deployed)"
    checked_out: in_use         # a row naming an owner is in use, not in stock

A target is ``key``, ``class``, a field of the item (``serial_number``, ``purchase_cost``, ...),
``attributes.<name>`` for a class attribute, ``attributes`` for a JSON object of them, or
``installed_on`` (the device a software installation is on). The plain ``csv``/``json`` formats
use ``IDENTITY``: columns named as the targets, as ``usm export items`` writes them.

Values are looked up as the tool writes them, by name or by slug: ``Core Switch``,
``core-switch`` and ``core_switch`` are one value. Columns an ``ignore_unknown`` mapping leaves
out are still reported, once, so nothing is lost without the user knowing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from bir.items import RECORD_FIELDS
from bir.yaml_input import YamlLimitExceeded, load_yaml
from usm.services.errors import Invalid

SHIPPED = Path(__file__).resolve().parent / "mappings"
PLAIN_TARGETS = ("key", "class", *RECORD_FIELDS, "attributes", "installed_on")
AMOUNTS = ("plain", "display")
DATES = ("iso", "display")
_SLUG = re.compile(r"[^0-9a-z]+")
# "Ready to Deploy (deployed)": a label with its kind in brackets after it
_SUFFIX = re.compile(r"^(.*\S)\s*\(([^()]+)\)$")


class MappingError(Invalid):
    """A mapping file that cannot be used; the message names the entry."""


def slug(value: str) -> str:
    """A value as a lookup key: case, spaces, dashes and underscores do not count."""
    return _SLUG.sub("-", value.strip().lower()).strip("-")


@dataclass(frozen=True)
class ColumnMapping:
    name: str
    columns: dict[str, tuple[str, ...]]  # source column -> targets
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # target -> source -> value
    defaults: dict[str, Any] = field(default_factory=dict)
    ignore_unknown: bool = False
    amounts: str = "plain"  # plain: 1399.00; display: thousands separators, decimal comma
    dates: str = "iso"  # iso: YYYY-MM-DD; display: a tool's date formats too
    # A status written with its kind in brackets: kind (slug) -> status it means, or None
    status_suffix: dict[str, str | None] = field(default_factory=dict)
    checked_out: str | None = None  # the status of a row that names an owner
    # target -> slug of a source value -> value: the lookup by name or slug
    _keys: dict[str, dict[str, str]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        keys = {t: {slug(k): v for k, v in table.items()} for t, table in self.values.items()}
        object.__setattr__(self, "_keys", keys)

    def targets(self, column: str) -> tuple[str, ...] | None:
        """The targets a column fills; ``attributes.<name>`` columns map to themselves."""
        found = self.columns.get(column)
        if found is None and column.startswith("attributes.") and not self.ignore_unknown:
            return (column,)
        return found

    def knows(self, target: str) -> bool:
        """Whether the mapping translates the values of ``target`` (so an unknown one is news)."""
        return bool(self.values.get(target))

    def lookup(self, target: str, value: str) -> str | None:
        """The value ``value`` of the file stands for, or ``None`` when the mapping does not
        know it (a mapping without a table for ``target`` passes every value through)."""
        table = self.values.get(target)
        if not table:
            return value
        if value in table:
            return table[value]
        return self._keys[target].get(slug(value))

    def translate(self, target: str, value: Any) -> Any:
        if isinstance(value, str):
            found = self.lookup(target, value)
            return value if found is None else found
        return value

    def split_status(self, value: str) -> tuple[str, str | None]:
        """``Ready to Deploy (deployed)`` -> (``Ready to Deploy``, the status ``deployed``
        means, if any); a value without a known bracketed kind is returned whole."""
        match = _SUFFIX.match(value) if self.status_suffix else None
        if match is None or slug(match.group(2)) not in self.status_suffix:
            return value, None
        return match.group(1), self.status_suffix[slug(match.group(2))]

    def with_values(self, extra: dict[str, dict[str, str]]) -> ColumnMapping:
        """This mapping with more source values translated (the coordinator's choices for
        values the mapping did not know)."""
        values = {t: dict(table) for t, table in self.values.items()}
        for target, table in extra.items():
            values.setdefault(target, {}).update(table)
        return replace(self, values=values)

    def with_defaults(self, defaults: dict[str, Any]) -> ColumnMapping:
        return replace(self, defaults={**self.defaults, **defaults})

    def to_yaml(self) -> str:
        """The mapping as a file ``usm import --mapping`` reads."""
        data: dict[str, Any] = {"name": self.name, "ignore_unknown": self.ignore_unknown,
                                "columns": {c: list(t) if len(t) > 1 else t[0]
                                            for c, t in self.columns.items()}}
        for key, value, default in (("amounts", self.amounts, "plain"),
                                    ("dates", self.dates, "iso"),
                                    ("checked_out", self.checked_out, None)):
            if value != default:
                data[key] = value
        if self.status_suffix:
            data["status_suffix"] = dict(self.status_suffix)
        if self.values:
            data["values"] = {t: dict(table) for t, table in self.values.items()}
        if self.defaults:
            data["defaults"] = dict(self.defaults)
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def _valid_target(target: str) -> bool:
    return target in PLAIN_TARGETS or (target.startswith("attributes.") and len(target) > 11)


def parse_mapping(data: Any, where: str) -> ColumnMapping:
    if not isinstance(data, dict) or not isinstance(data.get("columns"), dict):
        raise MappingError(f"{where}: a mapping needs 'columns: {{source column: target}}'")
    columns: dict[str, tuple[str, ...]] = {}
    for source, target in data["columns"].items():
        targets = tuple(target) if isinstance(target, list) else (target,)
        bad = [t for t in targets if not isinstance(t, str) or not _valid_target(t)]
        if bad:
            raise MappingError(f"{where}: columns.{source}: {bad[0]!r} is not a field of an item")
        columns[str(source)] = targets
    values = data.get("values") or {}
    if not isinstance(values, dict) or not all(isinstance(v, dict) for v in values.values()):
        raise MappingError(f"{where}: 'values' maps a target to {{source value: value}}")
    amounts, dates = data.get("amounts") or "plain", data.get("dates") or "iso"
    if amounts not in AMOUNTS:
        raise MappingError(f"{where}: amounts: {amounts!r} is not one of {', '.join(AMOUNTS)}")
    if dates not in DATES:
        raise MappingError(f"{where}: dates: {dates!r} is not one of {', '.join(DATES)}")
    suffix = data.get("status_suffix") or {}
    if not isinstance(suffix, dict):
        raise MappingError(f"{where}: 'status_suffix' maps a bracketed kind to a status or null")
    checked_out = data.get("checked_out")
    return ColumnMapping(
        name=str(data.get("name") or where), columns=columns,
        values={t: {str(k): str(v) for k, v in table.items()} for t, table in values.items()},
        defaults=dict(data.get("defaults") or {}), ignore_unknown=bool(data.get("ignore_unknown")),
        amounts=amounts, dates=dates,
        status_suffix={slug(str(k)): (str(v) if v is not None else None)
                       for k, v in suffix.items()},
        checked_out=str(checked_out) if checked_out else None)


def load_mapping(path: Path) -> ColumnMapping:
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except YamlLimitExceeded as exc:
        raise MappingError(f"{path.name}: not a valid mapping file: {exc}") from exc
    except (OSError, yaml.YAMLError) as exc:
        raise MappingError(f"{path.name}: {exc}") from exc
    except ValueError as exc:  # not UTF-8, or a scalar YAML resolves but cannot build (2001-13-01)
        raise MappingError(f"{path.name}: not a valid mapping file: {exc}") from exc
    except RecursionError as exc:
        raise MappingError(f"{path.name}: not a valid mapping file: nested too deeply") from exc
    return parse_mapping(data, path.name)


def shipped_mapping(name: str) -> ColumnMapping:
    """A mapping shipped with the product: ``snipeit`` or ``netbox``."""
    return load_mapping(SHIPPED / f"{name}.yaml")


IDENTITY = ColumnMapping("BIR columns", {t: (t,) for t in PLAIN_TARGETS})


# -- values as tools write them ----------------------------------------------------------------

_GROUPING = str.maketrans("", "", " '\u00a0\u202f")
_AMOUNT_TEXT = re.compile(r"^[^\d.,-]*(-?[\d.,' \u00a0\u202f]*\d)[^\d]*$")


def display_amount(text: str, mark: str | None) -> tuple[str, str | None]:
    """An amount as a tool displays it (``"1,399.00"``, ``"€ 1.399,00"``, ``"1 399,00"``) as
    ``"1399.00"``, with the decimal mark the text shows (``None`` when it does not tell). A single
    separator before exactly three digits (``"1,399"``) is read with ``mark``, the mark the file's
    other amounts showed, else as a thousands separator. Text that is no amount is returned
    whole (the field check then names it)."""
    match = _AMOUNT_TEXT.match(text.strip())
    if match is None:
        return text, None
    number = match.group(1).translate(_GROUPING)
    dot, comma = number.rfind("."), number.rfind(",")
    if dot >= 0 and comma >= 0:
        decimal = "." if dot > comma else ","
        shown: str | None = decimal
    elif dot < 0 and comma < 0:
        return number, None
    else:
        sep = "." if dot >= 0 else ","
        whole, _, tail = number.rpartition(sep)
        if number.count(sep) > 1:
            decimal, shown = ("" if sep != mark else sep), None
        elif len(tail) != 3:
            decimal, shown = sep, sep
        else:
            decimal, shown = (sep if sep == mark else ""), None
        if number.count(sep) > 1 and decimal:
            return text, None  # 1.399.000 with a decimal point: no amount
    thousands = {".": ",", ",": "."}.get(decimal, ".,")
    for char in thousands:
        number = number.replace(char, "")
    return (number.replace(",", ".") if decimal == "," else number), shown


_DAY_FORMATS = ("%Y-%m-%d", "%a %b %d, %Y", "%b %d, %Y", "%d %b, %Y", "%d %b %Y", "%Y.%m.%d.",
                "%a, %d %b %Y", "%B %d, %Y", "%d %B %Y")
_TIME_FORMATS = ("", " %H:%M:%S", " %H:%M", "T%H:%M:%S", " %I:%M%p", " %I:%M %p",
                 " %I:%M:%S %p")


def display_date(text: str) -> str:
    """A date as a tool displays it (``2024-03-01``, ``2024-03-01 12:00:00``, ``Fri Mar 01,
    2024``, ``Mar 1, 2024``, ``01 Mar 2024``) as ``YYYY-MM-DD``. Day and month in numbers
    (``03/01/2024``) are left as they are: which is the day the text cannot tell."""
    from datetime import datetime

    value = text.strip()
    for day in _DAY_FORMATS:
        for time in _TIME_FORMATS:
            try:
                return datetime.strptime(value, day + time).date().isoformat()
            except ValueError:
                continue
    return text


@dataclass(frozen=True)
class ImportSettings:
    """What the coordinator chooses for one import on the screen, the CLI or the API, never in
    the file: the currency of its amounts (the tool's own setting is not in its export), values
    the mapping did not know, a default per class attribute the source cannot give, and whether
    rows that lack such an attribute are left out (listed) instead."""

    currency: str | None = None
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # target -> source -> value
    fill: dict[str, str] = field(default_factory=dict)  # attribute -> value for new items
    skip_gaps: bool = False

    def apply(self, mapping: ColumnMapping) -> ColumnMapping:
        if self.values:
            mapping = mapping.with_values(self.values)
        if self.currency:
            mapping = mapping.with_defaults({"currency": self.currency})
        return mapping

    def as_dict(self) -> dict[str, Any]:
        return {"currency": self.currency, "values": self.values, "fill": self.fill,
                "skip_gaps": self.skip_gaps}

    @classmethod
    def from_dict(cls, data: Any) -> ImportSettings:
        if not isinstance(data, dict):
            return cls()
        values = data.get("values") if isinstance(data.get("values"), dict) else {}
        fill = data.get("fill") if isinstance(data.get("fill"), dict) else {}
        return cls(currency=data.get("currency") or None,
                   values={str(t): {str(k): str(v) for k, v in table.items()}
                           for t, table in values.items() if isinstance(table, dict)},
                   fill={str(k): str(v) for k, v in fill.items()},
                   skip_gaps=bool(data.get("skip_gaps")))


def parse_fill(pairs: list[str] | tuple[str, ...]) -> dict[str, str]:
    """``["cores=1", "attributes.sockets=2"]`` -> ``{"cores": "1", "sockets": "2"}``;
    ``ValueError`` naming a pair without ``=``."""
    fill = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip().removeprefix("attributes.")
        if not sep or not name or not value.strip():
            raise ValueError(f"{pair!r}: give attribute=value, e.g. cores=1")
        fill[name] = value.strip()
    return fill


def parse_values(pairs: list[str] | tuple[str, ...]) -> dict[str, dict[str, str]]:
    """``["class:VOIP Phones=client.phone"]`` -> ``{"class": {"VOIP Phones": "client.phone"}}``;
    ``ValueError`` naming a malformed one."""
    values: dict[str, dict[str, str]] = {}
    for pair in pairs:
        target, colon, rest = pair.partition(":")
        source, equals, value = rest.rpartition("=")
        if not colon or not equals or target.strip() not in ("class", "status") \
                or not source.strip() or not value.strip():
            raise ValueError(f"{pair!r}: give class:SOURCE=CLASS or status:SOURCE=STATUS, e.g. "
                             "'class:VOIP Phones=client.phone'")
        values.setdefault(target.strip(), {})[source.strip()] = value.strip()
    return values
