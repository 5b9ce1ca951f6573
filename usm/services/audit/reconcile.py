"""Reconciliation: what a file found against what the BIR holds, matched on natural keys.

The file is read in batches; each batch is matched with one query, so the statements grow with
the batches, not the rows. The result lists unregistered items found, registered items not seen,
drift per field and duplicates in the input, each difference with the change-set operation that
would make the BIR match it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from difflib import get_close_matches
from itertools import islice
from typing import Any, NamedTuple

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bir.changeset import plan_change_set
from bir.classes import ClassCatalogue
from bir.errors import ValidationFailed
from bir.items import MONEY_FIELDS, Item
from bir.relations import Relation
from usm.services.audit.convert import STATUSES, RowReader, comparable
from usm.services.audit.found import FoundItem, ImportProblem, SbomReport
from usm.services.audit.mapping import ColumnMapping, ImportSettings, slug
from usm.services.audit.readers import RawRow
from usm.services.audit.scope import AuditScope
from usm.services.reports.licences import product_key
from usm.services.user_input import unstorable_reason

MATCH_KEYS = ("key", "asset_tag", "serial_number", "hostname")
DEFAULT_MATCH_ORDER = MATCH_KEYS
BATCH = 500
MAX_PROBLEMS = 200
# A planner's field: operations[3].attributes.cores -> operation 3, column attributes.cores
_OPERATION = re.compile(r"^operations\[(\d+)\](?:\.(.+))?$")
# Statuses of components that should be found by an audit; planned, ordered and gone ones not.
PRESENT = ("in_stock", "in_use", "maintenance")
REFERENCE_FIELDS = ("owner", "location", "cost_centre")  # checked against reference data

UNREGISTERED, NOT_SEEN, DRIFT = "unregistered", "not_seen", "drift"
KINDS = (UNREGISTERED, NOT_SEEN, DRIFT)


@dataclass(frozen=True, slots=True)  # slots: a baseline import holds one per row
class Difference:
    """One thing the file and the BIR disagree on; ``id`` is stable for the same file and
    register, so a screen can post back the ones a coordinator accepts."""

    id: str
    kind: str  # unregistered, not_seen, drift
    summary: str
    item_key: str | None = None
    row: int | None = None
    field: str | None = None
    registered: Any = None
    found: Any = None
    operations: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class UnknownValue:
    """A category, status or role of the file that the mapping does not translate: one fix
    (a line of the mapping, or a choice on the screen) for all its rows."""

    target: str  # class or status
    column: str
    value: str
    rows: int
    first_row: int
    suggestion: str | None = None  # a class or status of a like name, if any

    @property
    def snippet(self) -> str:
        """The line to paste into a mapping file (a placeholder where nothing is suggested)."""
        value = self.suggestion or ("<class code>" if self.target == "class" else "<status>")
        return f"values: {{{self.target}: {{{json.dumps(self.value)}: {value}}}}}"


@dataclass
class MissingAttribute:
    """An attribute new items of a class need that the file does not give (NetBox has no core
    count): the coordinator gives a default (``fill``) or leaves the rows out (``skip_gaps``)."""

    class_code: str
    attribute: str
    rows: int = 0
    first_row: int = 0
    filled: str | None = None  # the default given
    refused: str | None = None  # why the class refuses that default
    left_out: list[int] = field(default_factory=list)  # rows left out (skip_gaps), first 200


@dataclass(frozen=True, slots=True)
class DifferencePage:
    """What a screen or an API answer holds of a reconciliation at a time."""

    kind: str | None
    number: int
    size: int
    total: int  # differences of the kind, on every page
    pages: int
    differences: list[Difference]


@dataclass
class Reconciliation:
    file: str
    match_order: tuple[str, ...]
    rows: int = 0
    matched: int = 0
    differences: list[Difference] = field(default_factory=list)
    duplicates: list[ImportProblem] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)
    more_problems: int = 0  # problems beyond MAX_PROBLEMS, counted only
    # True counts (the lists above hold the first MAX_PROBLEMS of them together)
    problem_count: int = 0
    duplicate_count: int = 0
    # Where the audit looked (a scan at a location): "not seen" is limited to it.
    scope: AuditScope | None = None
    # A CycloneDX document: its host and what it lists that is not registered (see SbomReport).
    sbom: SbomReport | None = None
    # Columns the mapping reads nothing from: listed once, so nothing is lost unknowingly.
    ignored_columns: list[str] = field(default_factory=list)
    # Values the mapping does not know, each once with its count (see ``UnknownValue``).
    unknown_values: list[UnknownValue] = field(default_factory=list)
    # Class attributes the file cannot give to new items, per class and attribute.
    missing_attributes: list[MissingAttribute] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether differences can be accepted: no bad input and no duplicates."""
        return not self.problems and not self.duplicates and not self.more_problems

    def of_kind(self, kind: str) -> list[Difference]:
        return [d for d in self.differences if d.kind == kind]

    def counts(self) -> dict[str, int]:
        """Kind -> how many differences of it (every kind, zero included)."""
        counts = dict.fromkeys(KINDS, 0)
        for difference in self.differences:
            counts[difference.kind] += 1
        return counts

    def page(self, kind: str | None, number: int, size: int) -> DifferencePage:
        """Page ``number`` (from 1) of the differences of ``kind`` (``None``: every kind), so a
        screen or an API answer holds ``size`` of a 100k-row reconciliation, not all of them."""
        chosen = self.differences if kind is None else self.of_kind(kind)
        pages = max(1, -(-len(chosen) // size))
        number = min(max(number, 1), pages)
        return DifferencePage(kind, number, size, len(chosen), pages,
                              chosen[(number - 1) * size:number * size])

    def add_problems(self, problems: Iterable[ImportProblem], *,
                     duplicates: bool = False) -> None:
        """Keep the first ``MAX_PROBLEMS`` problems and duplicates; count the rest (a file of
        100k copies of one row must not hold 100k messages)."""
        for p in problems:
            if duplicates:
                self.duplicate_count += 1
            else:
                self.problem_count += 1
            if len(self.problems) + len(self.duplicates) < MAX_PROBLEMS:
                (self.duplicates if duplicates else self.problems).append(p)
            else:
                self.more_problems += 1


def parse_match_order(text: str | None) -> tuple[str, ...]:
    """``asset_tag,serial_number`` -> the keys to match on, in order; ``ValueError`` naming a bad
    one."""
    if not text or not text.strip():
        return DEFAULT_MATCH_ORDER
    order = tuple(p.strip() for p in text.split(",") if p.strip())
    bad = [p for p in order if p not in MATCH_KEYS]
    if bad or not order:
        raise ValueError(f"match on {', '.join(MATCH_KEYS)}; {bad[0] if bad else text!r} is "
                         "not one of them")
    return order


class _Known(NamedTuple):
    """A registered item as matching and "not seen" need it, without its fields."""

    id: int
    key: str
    name: str
    status: str
    version: str | None = None  # of a software installation


class _Matcher:
    def __init__(self, session: Session, rec: Reconciliation, catalogue: ClassCatalogue,
                 settings: ImportSettings | None = None) -> None:
        self.session, self.rec, self.catalogue = session, rec, catalogue
        self.settings = settings or ImportSettings()
        self.missing: dict[tuple[str, str], MissingAttribute] = {}
        self.scope = rec.scope
        # key field -> {value (lower case) -> first row}: the key sets duplicates are found in
        self.seen_values: dict[str, dict[str, int]] = {}
        self.matched_ids: dict[int, int] = {}  # item id -> row
        self.classes: set[str] = set()
        self.devices: dict[str, Item | None] = {}
        # device id -> product -> its installations there
        self.installed: dict[int, dict[str, list[_Known]]] = {}
        self.unsettled: list[tuple[FoundItem, Item]] = []  # software rows matched at the end
        self.unknown_devices: set[str] = set()
        self.new_refs = 0

    def duplicates(self, found: FoundItem) -> bool:
        """Whether a natural key of ``found`` (or, for software, its device and product) was
        given by an earlier row; each such key is recorded as a duplicate."""
        keys = [(name, found.column(name), found.value(name)) for name in self.rec.match_order]
        if found.installed_on:
            product = found.attributes.get("product")
            version = found.attributes.get("product_version")
            keys = [("software", found.column("attributes.product"),
                     f"{product}{f' {version}' if version else ''} on {found.installed_on}")]
        dup = False
        for name, column, value in keys:
            if value in (None, ""):
                continue
            seen = self.seen_values.setdefault(name, {})
            first = seen.setdefault(str(value).lower(), found.row)
            if first != found.row:
                self.rec.add_problems([ImportProblem(
                    found.file, found.row, column, f"duplicate key {value!r}: row {first} has it "
                                                   "too")], duplicates=True)
                dup = True
        return dup

    def batch(self, batch: list[FoundItem]) -> None:
        plain = [f for f in batch if not f.installed_on]
        registered = self._lookup(plain)
        for found in plain:
            self.classes.add(found.class_code)
            item = self._match(found, registered)
            self._compare(found, item)
        software = [f for f in batch if f.installed_on]
        if software:
            self._software(software)

    def _lookup(self, batch: list[FoundItem]) -> list[Item]:
        conditions = []
        for name in self.rec.match_order:
            values = sorted({str(f.value(name)) for f in batch if f.value(name)})
            if values:
                conditions.append(getattr(Item, name).in_(values))
        if not conditions:
            return []
        return list(self.session.scalars(select(Item).where(or_(*conditions))
                                         .order_by(Item.key)))

    def _match(self, found: FoundItem, registered: list[Item]) -> Item | None:
        for name in self.rec.match_order:
            value = found.value(name)
            if not value:
                continue
            for item in registered:
                if getattr(item, name) == value:
                    return item
        return None

    def _compare(self, found: FoundItem, item: Item | None) -> None:
        if item is None:
            self._unregistered(found)
            return
        first = self.matched_ids.setdefault(item.id, found.row)
        if first != found.row:
            self.rec.add_problems([ImportProblem(
                found.file, found.row, "-", f"matches {item.key}, which row {first} matches "
                                            "too")], duplicates=True)
            return
        self.rec.matched += 1
        registered = _comparable_record(item)
        for name, value in sorted(found.fields.items()):
            if name in found.assumed and registered.get(name) is not None:
                continue  # the file did not say; the register does
            if registered.get(name) != value:
                op = {"op": "update_item", "item": item.key, name: value}
                if name in MONEY_FIELDS and not registered.get("currency"):
                    op["currency"] = found.fields.get("currency")  # never an amount without one
                self._drift(found, item, name, registered.get(name), value, op)
        attributes = item.attributes or {}
        for name, value in sorted(found.attributes.items()):
            if attributes.get(name) != value:
                self._drift(found, item, f"attributes.{name}", attributes.get(name), value,
                            {"op": "update_item", "item": item.key, "attributes": {name: value}})

    def _drift(self, found: FoundItem, item: Item, name: str, old: Any, new: Any,
               op: dict[str, Any]) -> None:
        self.rec.differences.append(Difference(
            f"drift:{item.key}:{name}", DRIFT,
            f"{item.key} {name}: registered {old if old is not None else '(empty)'}, found {new}",
            item.key, found.row, name, old, new, (op,)))

    def _unregistered(self, found: FoundItem, extra: tuple[dict[str, Any], ...] = ()) -> None:
        # A new item must carry what its class requires: named here, at its row and column, not
        # first by the change that would register it.
        _, errors = self.catalogue.validate_attributes(found.class_code, found.attributes,
                                                       "attributes", partial=False)
        if errors and self._fill_gaps(found, errors):
            return
        if errors:
            self.rec.add_problems(ImportProblem(
                found.file, found.row, found.column(e.field), f"{e.message} for a new "
                f"{found.class_code} (the register has no item this row matches)")
                for e in errors)
            return
        fields = dict(found.fields)
        product = found.attributes.get("product")
        fields.setdefault("name", f"{product} on {found.installed_on}" if found.installed_on
                          and product else fields.get("hostname") or fields.get("asset_tag")
                          or fields.get("serial_number") or f"Found in {found.file} row "
                                                            f"{found.row}")
        fields.setdefault("status", "in_use")  # found by discovery, so it exists and runs
        self.new_refs += 1
        ref = f"found{self.new_refs}"
        op = {"op": "create_item", "ref": ref, "class": found.class_code, **fields}
        if found.attributes:
            op["attributes"] = found.attributes
        ops = (op, *({**e, "source": f"@{ref}"} for e in extra))
        self.rec.differences.append(Difference(
            f"new:{found.row}", UNREGISTERED, f"row {found.row}: {fields['name']} "
                                              f"({found.class_code}) is not registered",
            None, found.row, None, None, fields["name"], ops))

    def _fill_gaps(self, found: FoundItem, errors: list[Any]) -> bool:
        """Required attributes the row lacks: given the coordinator's default, or the row left
        out when so chosen, or counted once per class and attribute. True when the row is done
        with (left out or counted); False when other errors remain to be reported per row."""
        required = [e for e in errors if e.message == "is required"]
        if len(required) != len(errors):
            return False
        gaps = [self._gap(found, e.field.removeprefix("attributes.")) for e in required]
        if all(g.filled is not None for g in gaps):
            attributes = {**found.attributes, **{g.attribute: g.filled for g in gaps}}
            clean, bad = self.catalogue.validate_attributes(found.class_code, attributes,
                                                            "attributes", partial=False)
            if bad:  # a default the class refuses: named once per attribute
                for error in bad:
                    gap = self.missing.get((found.class_code,
                                            error.field.removeprefix("attributes.")))
                    if gap is not None:
                        gap.refused = error.message
                return True
            found.attributes = clean
            for gap in gaps:
                found.columns.setdefault(f"attributes.{gap.attribute}", "default")
            self._unregistered(found)
            return True
        if self.settings.skip_gaps:
            for gap in gaps:
                if len(gap.left_out) < MAX_PROBLEMS:
                    gap.left_out.append(found.row)
        return True

    def _gap(self, found: FoundItem, attribute: str) -> MissingAttribute:
        gap = self.missing.get((found.class_code, attribute))
        if gap is None:
            gap = self.missing[(found.class_code, attribute)] = MissingAttribute(
                found.class_code, attribute, first_row=found.row,
                filled=self.settings.fill.get(attribute))
            self.rec.missing_attributes.append(gap)
        gap.rows += 1
        return gap

    def report_gaps(self) -> None:
        """One problem per class attribute that new items lack and no default was given for
        (unless those rows are left out)."""
        for gap in self.rec.missing_attributes:
            if gap.refused is not None:
                self.rec.add_problems([ImportProblem(
                    self.rec.file, gap.first_row, f"attributes.{gap.attribute}",
                    f"the default {gap.filled!r} for {gap.class_code}: {gap.refused}")])
            elif gap.filled is None and not self.settings.skip_gaps:
                self.rec.add_problems([ImportProblem(
                    self.rec.file, gap.first_row, f"attributes.{gap.attribute}",
                    f"is required for a new {gap.class_code}, and {gap.rows} row(s) do not give "
                    f"it: give a default value for {gap.attribute} (the register refuses "
                    f"{gap.class_code} items without it), or leave those rows out")])

    # -- software installations (CycloneDX): matched by device, product and version ----------

    def _device(self, name: str) -> Item | None:
        if name not in self.devices:
            self.devices[name] = self.session.scalar(
                select(Item).where(or_(Item.key == name.upper(),
                                       func.lower(Item.hostname) == name.lower()))
                .order_by(Item.key).limit(1))
        return self.devices[name]

    def _software(self, batch: list[FoundItem]) -> None:
        """Rows whose product and version an installation on the device has are matched now;
        the others wait for the end of the file (``_settle``), so an upgrade found early never
        takes the installation a later row names exactly."""
        known: list[tuple[FoundItem, Item, _Known]] = []
        for found in batch:
            device = self._device(found.installed_on or "")
            if device is None:
                if found.installed_on not in self.unknown_devices:  # once, not once per row
                    self.unknown_devices.add(found.installed_on or "")
                    self.rec.add_problems([ImportProblem(
                        found.file, found.row, found.column("installed_on"),
                        f"no device {found.installed_on!r} in the register (give its key or "
                        "host name)")])
                continue
            self.classes.add(found.class_code)
            version = found.attributes.get("product_version")
            registered = self._installations(device).get(
                product_key(found.attributes.get("product")), [])
            same = [k for k in registered if k.version == version and k.id not in self.matched_ids]
            if same:
                self.matched_ids.setdefault(same[0].id, found.row)  # claimed by this row
                known.append((found, device, same[0]))
            elif registered:  # another version of it is installed: decided at the end
                self.unsettled.append((found, device))
            else:
                self._unregistered(found, ({"op": "add_relation", "kind": "installed_on",
                                            "target": device.key},))
        self._compare_known(known)

    def _compare_known(self, known: list[tuple[FoundItem, Item, _Known]]) -> None:
        ids = sorted({k.id for _, _, k in known})
        items = {i.id: i for i in self.session.scalars(select(Item).where(Item.id.in_(ids)))} \
            if ids else {}
        for found, _device, installed in known:
            self._compare(found, items[installed.id])

    def _settle(self) -> None:
        """The rows no installation matched exactly: another version of the product on the
        device is the same installation, upgraded (its version drifts); else it is new."""
        known: list[tuple[FoundItem, Item, _Known]] = []
        for found, device in self.unsettled:
            other = [k for k in self._installations(device).get(
                product_key(found.attributes.get("product")), []) if k.id not in self.matched_ids]
            if other:
                self.matched_ids.setdefault(other[0].id, found.row)
                known.append((found, device, other[0]))
            else:
                self._unregistered(found, ({"op": "add_relation", "kind": "installed_on",
                                            "target": device.key},))
        self.unsettled = []
        for start in range(0, len(known), BATCH):
            self._compare_known(known[start:start + BATCH])

    def _installations(self, device: Item) -> dict[str, list[_Known]]:
        """Product (as the licence position matches it) -> the installations on ``device``, in
        key order; only what matching and "not seen" need (whole items are loaded a batch at a
        time, for those a row matches)."""
        if device.id not in self.installed:
            rows = self.session.execute(
                select(Item.id, Item.key, Item.name, Item.status,
                       Item.attributes["product"].as_string(),
                       Item.attributes["product_version"].as_string())
                .join(Relation, Relation.source_id == Item.id)
                .where(Relation.target_id == device.id, Relation.kind == "installed_on",
                       Relation.valid_to.is_(None)).order_by(Item.key))
            by_product: dict[str, list[_Known]] = {}
            for item_id, key, name, status, product, version in rows:
                by_product.setdefault(product_key(product), []).append(
                    _Known(item_id, key, name, status, version))
            self.installed[device.id] = by_product
        return self.installed[device.id]

    def not_seen(self) -> None:
        """Registered, present items of the classes the file covers that no row matched; for an
        SBOM, the installations on its devices that it does not list. With a scope, the present
        items of the scope instead, wherever the rows' classes are."""
        self._settle()
        if self.scope is not None:
            stmt = self.scope.items_in(select(Item.id, Item.key, Item.name, Item.status)
                                       .where(Item.status.in_(PRESENT)).order_by(Item.key))
            self._report_missing(self.session.execute(stmt.execution_options(yield_per=BATCH)))
            return
        software_devices = [d.id for d in self.devices.values() if d is not None]
        plain = self.classes - {"software.installation"} if software_devices else self.classes
        if plain:
            stmt = select(Item).where(Item.class_code.in_(sorted(plain)),
                                      Item.status.in_(PRESENT)).order_by(Item.key)
            if software_devices:
                stmt = stmt.where(Item.class_code != "software.installation")
            self._report_missing(self.session.execute(
                stmt.with_only_columns(Item.id, Item.key, Item.name, Item.status)
                .execution_options(yield_per=BATCH)))
        for device_id in software_devices:
            self._report_missing(i for same in self.installed.get(device_id, {}).values()
                                 for i in same if i.status in PRESENT)

    def _report_missing(self, items: Iterable[Any]) -> None:
        """Each of ``items`` (id, key, name, status) that no row matched is not seen."""
        for item in items:
            if item.id in self.matched_ids:
                continue
            self.rec.differences.append(Difference(
                f"missing:{item.key}", NOT_SEEN, f"{item.key} {item.name} ({item.status}) was "
                                                 "not found", item.key, None, "status",
                item.status, "retired",
                ({"op": "set_status", "item": item.key, "status": "retired"},)))


def _comparable_record(item: Item) -> dict[str, Any]:
    record = item.record()
    record.pop("class_code"), record.pop("attributes")
    return comparable(record)


def _batches(rows: Iterator[Any], size: int) -> Iterator[list[Any]]:
    while batch := list(islice(rows, size)):
        yield batch


def reconcile(session: Session, rows: Iterator[RawRow], *, file: str, mapping: ColumnMapping,
              match_order: tuple[str, ...] = DEFAULT_MATCH_ORDER,
              progress: Callable[[int], None] | None = None,
              scope: AuditScope | None = None,
              settings: ImportSettings | None = None) -> Reconciliation:
    """Read ``rows`` (raw rows of one file) and reconcile them with the current register. Reads
    only; bad input ends up in ``problems`` (an unreadable file raises ``ImportFailed``).
    ``scope``: where the audit looked (see ``AuditScope``)."""
    rec = Reconciliation(file, match_order, scope=scope)
    catalogue = ClassCatalogue.load(session)
    reader = RowReader(file, mapping, catalogue)
    matcher = _Matcher(session, rec, catalogue, settings)
    for raw_batch in _batches(rows, BATCH):
        good: list[FoundItem] = []
        for number, raw in raw_batch:
            rec.rows += 1
            unstorable = _unstorable_cells(file, number, raw)
            if unstorable:
                rec.add_problems(unstorable)
                continue
            found, problems = reader.read(number, raw)
            rec.add_problems(problems)
            if found is not None and not matcher.duplicates(found):
                good.append(found)
        if rec.ok:
            matcher.batch(good)
        session.expunge_all()  # keep one batch of register rows in memory
        if progress:
            progress(len(raw_batch))
    rec.ignored_columns = list(reader.ignored_columns)
    _report_unknown(rec, reader)
    matcher.report_gaps()
    if rec.ok:
        matcher.not_seen()
    if rec.ok:
        check_as_registered(session, rec)
    return rec


def _report_unknown(rec: Reconciliation, reader: RowReader) -> None:
    """One problem per value the mapping does not know, with its count and the mapping line
    that fixes it."""
    choices: dict[str, str] = {}  # slug of a name or code -> class code or status
    for klass in reader.catalogue.by_code.values():
        if not klass.abstract:
            choices.update({slug(klass.name): klass.code, slug(klass.code): klass.code})
    statuses = {slug(s): s for s in STATUSES}
    for (target, column, value), (rows, first) in reader.unknown.items():
        pool = choices if target == "class" else statuses
        close = get_close_matches(slug(value), list(pool), n=1, cutoff=0.75)
        unknown = UnknownValue(target, column, value, rows, first,
                               pool[close[0]] if close else None)
        rec.unknown_values.append(unknown)
        what = "class" if target == "class" else "lifecycle status"
        rec.add_problems([ImportProblem(
            rec.file, first, column, f"{value!r} ({rows} row(s)) is not a value the mapping "
            f"knows: choose the {what} it stands for on the screen, or add to the mapping "
            f"{unknown.snippet}")])


def _unstorable_cells(file: str, row: int, raw: dict[str, Any]) -> list[ImportProblem]:
    """Cells no database column could keep (a NUL character): refused here, by row and column,
    rather than when the accepted differences are registered."""
    problems = []
    for column, value in raw.items():
        reason = unstorable_reason(column) or unstorable_reason(value)
        if reason is not None:
            shown = column.encode("utf-8", "backslashreplace").decode().replace(
                "\x00", "\\0") if isinstance(column, str) else "-"
            problems.append(ImportProblem(file, row, shown, f"{reason}, which cannot be stored"))
    return problems


def check_as_registered(session: Session, rec: Reconciliation) -> None:
    """Every check the register makes when the correction is registered, made now on every
    difference (whichever are accepted): a dry run finds what the real run would refuse, each
    problem at its row (the item's key where no row gave it) and field."""
    operations: list[dict[str, Any]] = []
    origin: list[Difference] = []
    for difference in rec.differences:
        for op in difference.operations:
            operations.append(op)
            origin.append(difference)
    if not operations:
        return
    try:
        plan_change_set(session, operations)
    except ValidationFailed as exc:
        # A value the reference data does not hold (an owner, location or cost centre) is one
        # problem with its count, like a value the mapping does not know, not one per row.
        unknown: dict[tuple[str, str], list[int]] = {}
        for error in exc.errors:
            match = _OPERATION.match(error.field)
            if match and match.group(2) in REFERENCE_FIELDS and " is not a known " in error.message:
                seen = unknown.setdefault((match.group(2), error.message),
                                          [0, origin[int(match.group(1))].row or 0])
                seen[0] += 1
                continue
            if match is None:
                rec.add_problems([ImportProblem(rec.file, 0, "-", str(error))])
                continue
            difference = origin[int(match.group(1))]
            key = difference.item_key
            where = f" ({key})" if key and key not in error.message else ""
            rec.add_problems([ImportProblem(rec.file, difference.row or 0,
                                            match.group(2) or "-", error.message + where)])
        for (name, message), (rows, first) in unknown.items():
            rec.add_problems([ImportProblem(rec.file, first, name, f"{message} ({rows} row(s) "
                                            "give it; add it to the reference data first)")])
