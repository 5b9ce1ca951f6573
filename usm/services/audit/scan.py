"""A physical audit by scanning: at one location, a coordinator types or scans item keys or
serial numbers (a USB scanner types what it reads and presses Enter; the QR code of an asset
label reads as the item page's address, whose key is taken). What was scanned is compared with
what the register holds there as it comes: found, unexpected (registered elsewhere, or nothing
in the register) and missing (present there, not scanned yet).

Finishing writes the scan as an import file (``class,key,serial_number,location``) stored as an
upload reconciled within the location (``AuditScope``), so the coordinator gets the same
reconciliation as a file import: a scanned item registered elsewhere is location drift, an item
of the location not scanned is "not seen" (retired only when chosen), and accepting registers
the one audit-correction change.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from urllib.parse import unquote

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bir.classes import ClassCatalogue
from bir.errors import FieldError, Invalid, shown
from bir.items import Item
from usm.services.audit import scan_store
from usm.services.audit.reconcile import PRESENT
from usm.services.audit.scope import AuditScope
from usm.services.audit.uploads import (
    accepted_as,
    save_options,
    store_upload,
    upload_path,
)
from usm.services.platform import Database

MAX_SCANS = 5000
MAX_INPUT = 500  # what a scan may type (an item page's address included)
MAX_VALUE = 64  # a key or serial number (the register's serial number column)
MAX_LOCATION = 120
MAX_CLASSES = 20
LOOKUP = 1000  # values per query
MATCH_ORDER = ("key", "serial_number")
COLUMNS = ("class", "key", "serial_number", "location")
# The address of an item's page, as its label's QR code holds it: .../items/<key>
_ITEM_ADDRESS = re.compile(r"^https?://[^\s]*/items/([^/?#\s]+)/?(?:[?#]\S*)?$", re.IGNORECASE)

FOUND, UNEXPECTED, UNKNOWN, REPEATED = "found", "unexpected", "unknown", "repeated"


@dataclass(frozen=True)
class ScannedItem:
    """A registered item, as a scan found it (``value``: what was scanned) or misses it."""

    key: str
    name: str
    class_code: str
    serial_number: str | None
    location: str | None
    status: str
    value: str = ""


@dataclass(frozen=True)
class ScanOutcome:
    """What one scan turned out to be: ``kind`` is found, unexpected, unknown or repeated."""

    kind: str
    value: str
    item: ScannedItem | None = None


@dataclass
class ScanState:
    """A scan session as its page shows it, read afresh from the register."""

    token: str
    location: str
    classes: tuple[str, ...]
    started: datetime
    scans: int = 0
    found: list[ScannedItem] = field(default_factory=list)
    unexpected: list[ScannedItem] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    missing: list[ScannedItem] = field(default_factory=list)
    upload: str | None = None  # the reconciliation it was finished as, while that is kept
    change: str | None = None  # the change that reconciliation was accepted as

    @property
    def scope(self) -> AuditScope:
        return AuditScope(self.location, self.classes)


def start_scan(db: Database, owner: str, location: str, classes: Iterable[str] = ()) -> str:
    """Start scanning at ``location`` (the register's location text, exactly); ``classes``
    limits what counts as missing there (each with its subclasses). Returns the scan's token.
    ``Invalid`` naming the field; ``Refused`` when ``owner`` keeps too many scans."""
    place = (location or "").strip()
    errors = []
    if not place:
        errors.append(FieldError("location", "choose the location the scan is made at"))
    elif len(place) > MAX_LOCATION or not place.isprintable():
        errors.append(FieldError("location", f"a location is at most {MAX_LOCATION} printable "
                                             "characters"))
    codes = tuple(dict.fromkeys(c.strip().lower() for c in classes if c and c.strip()))
    if len(codes) > MAX_CLASSES:
        errors.append(FieldError("classes", f"choose at most {MAX_CLASSES} classes"))
    else:
        with db.reading() as session:
            catalogue = ClassCatalogue.load(session)
        unknown = [c for c in codes if catalogue.get(c) is None]
        if unknown:
            errors.append(FieldError("classes", f"there is no item class {shown(unknown[0])}"))
    if errors:
        raise Invalid(errors)
    return scan_store.create_session(owner, {
        "location": place, "classes": list(codes), "started": datetime.now(UTC).isoformat()})


def scanned_value(text: str) -> str:
    """What a scan typed, as the register is searched for it: trimmed, an item page's address
    reduced to its key. ``Invalid`` for nothing, or more than a key or serial number holds."""
    value = (text or "").strip()
    if len(value) > MAX_INPUT:
        raise Invalid([FieldError("value", f"a scan is at most {MAX_INPUT} characters")])
    address = _ITEM_ADDRESS.match(value)
    if address:
        value = unquote(address.group(1)).strip().upper()
    if not value:
        raise Invalid([FieldError("value", "type or scan an item key or serial number")])
    if len(value) > MAX_VALUE or not value.isprintable():
        raise Invalid([FieldError("value", f"{shown(value)} is not an item key or serial number "
                                           f"(at most {MAX_VALUE} printable characters)")])
    return value


def scan_state(db: Database, token: str, owner: str) -> ScanState:
    """``owner``'s scan ``token`` compared with the register now; ``NotFound`` when it is not
    theirs, or gone."""
    session_values = scan_store.read_session(token, owner)
    state = ScanState(token, session_values["location"], tuple(session_values["classes"]),
                      datetime.fromisoformat(session_values["started"]))
    upload = session_values.get("upload")
    if upload:
        state.change = session_values.get("change") or accepted_as(upload)
        state.upload = upload if upload_path(upload) is not None else None
        if state.change and not session_values.get("change"):
            # The upload's marker lasts a day; the scan keeps what it became for its own life.
            scan_store.update_session(token, owner, change=state.change)
    values = scan_store.scanned_values(token)
    state.scans = len(values)
    with db.reading() as session:
        matched = _matches(session, values)
        seen: set[str] = set()
        unknown: set[str] = set()
        for value in values:
            item = matched.get(value)
            if item is None:
                if value.casefold() not in unknown:
                    unknown.add(value.casefold())
                    state.unknown.append(value)
            elif item.key not in seen:
                seen.add(item.key)
                place = state.found if item.location == state.location else state.unexpected
                place.append(item)
        missing = state.scope.items_in(
            select(Item.key, Item.name, Item.class_code, Item.serial_number, Item.location,
                   Item.status).where(Item.status.in_(PRESENT)).order_by(Item.key))
        state.missing = [ScannedItem(*row) for row in session.execute(missing)
                         if row.key not in seen]
    return state


def _matches(session: Session, values: list[str]) -> dict[str, ScannedItem]:
    """Value -> the item it names: by key first (any case), else by serial number (exactly, as
    an import matches it); several items with one serial number: the first by key."""
    distinct = sorted(set(values))
    by_key: dict[str, ScannedItem] = {}
    by_serial: dict[str, ScannedItem] = {}
    columns = (Item.key, Item.name, Item.class_code, Item.serial_number, Item.location,
               Item.status)
    for start in range(0, len(distinct), LOOKUP):
        chunk = distinct[start:start + LOOKUP]
        keys = sorted({v.upper() for v in chunk})
        rows = session.execute(select(*columns).order_by(Item.key).where(
            or_(Item.key.in_(keys), Item.serial_number.in_(chunk))))
        for row in rows:
            item = ScannedItem(*row)
            by_key.setdefault(item.key, item)
            if item.serial_number is not None:
                by_serial.setdefault(item.serial_number, item)
    matched = {}
    for value in distinct:
        item = by_key.get(value.upper()) or by_serial.get(value)
        if item is not None:
            matched[value] = replace(item, value=value)
    return matched


def add_scan(db: Database, token: str, owner: str, text: str) -> tuple[ScanOutcome, ScanState]:
    """Record one scan and return what it was with the scan's new state. A value naming an item
    already scanned (by key or serial number), or an unknown value scanned before, is not
    recorded again (``repeated``). ``Invalid`` for an empty or overlong value, or a scan past
    ``MAX_SCANS``; ``Refused`` once the scan became a change."""
    value = scanned_value(text)
    state = scan_state(db, token, owner)
    _still_open(state)
    with db.reading() as session:
        item = _matches(session, [value]).get(value)
    if item is None:
        repeated = value.casefold() in {v.casefold() for v in state.unknown}
        outcome = ScanOutcome(REPEATED if repeated else UNKNOWN, value)
    elif any(i.key == item.key for i in state.found + state.unexpected):
        outcome = ScanOutcome(REPEATED, value, item)
    else:
        kind = FOUND if item.location == state.location else UNEXPECTED
        outcome = ScanOutcome(kind, value, item)
    if outcome.kind == REPEATED:
        return outcome, state
    if state.scans >= MAX_SCANS:
        raise Invalid([FieldError("value", f"a scan holds at most {MAX_SCANS} values: finish "
                                           "this one and start another")])
    scan_store.append_value(token, value)
    return outcome, scan_state(db, token, owner)


def remove_scan(db: Database, token: str, owner: str, value: str) -> ScanState:
    """Forget a scanned value (scanned by mistake), every time it was scanned."""
    state = scan_state(db, token, owner)
    _still_open(state)
    values = scan_store.scanned_values(token)
    scan_store.replace_values(token, [v for v in values if v != value])
    return scan_state(db, token, owner)


def _still_open(state: ScanState) -> None:
    if state.change:
        raise Invalid([FieldError("value", f"this scan was registered as {state.change}; "
                                           "start a new scan")])


def finish_scan(db: Database, token: str, owner: str, *, new_class: str | None = None) -> str:
    """Store the scan as an import upload of ``owner``, reconciled within its location, and
    return the upload's token (the one already made while it is kept). Unknown values are left
    out, or with ``new_class`` reported as found items of that class (by serial number), to
    register if the coordinator accepts them. ``UploadQuotaFull`` when ``owner`` keeps as many
    uploads as allowed."""
    state = scan_state(db, token, owner)
    _still_open(state)
    if state.upload:
        return state.upload
    if new_class:
        with db.reading() as session:
            klass = ClassCatalogue.load(session).get(new_class)
        if klass is None or klass.abstract:
            raise Invalid([FieldError("new_class", f"{shown(new_class)} is not an item class "
                                                   "new items can be registered in")])
    text = io.StringIO()
    rows = csv.writer(text, lineterminator="\n")
    rows.writerow(COLUMNS)
    for item in state.found + state.unexpected:
        rows.writerow((item.class_code, item.key, "", state.location))
    if new_class:
        for value in state.unknown:
            rows.writerow((new_class, "", value, state.location))
    upload = store_upload(io.BytesIO(text.getvalue().encode("utf-8")), owner)
    save_options(upload, {"format": "csv", "match": ",".join(MATCH_ORDER),
                          "name": f"scan at {state.location}"[:200],
                          **state.scope.as_options()})
    scan_store.update_session(token, owner, upload=upload)
    return upload
