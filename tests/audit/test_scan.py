"""The scan audit at the service layer: scans matched by key, serial number or a label's address;
found, unexpected, unknown and missing; and finishing as an import reconciled within the
location, which registers the same audit-correction change as a file import."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.audit.test_services import walk
from tests.support.helpers import at, implement_normal_change, laptop
from usm.services import audit, changes, register
from usm.services.audit import (
    FOUND,
    REPEATED,
    UNEXPECTED,
    UNKNOWN,
    reconcile_file,
    register_correction,
    scan_store,
    upload_path,
)
from usm.services.errors import Invalid, NotFound
from usm.services.platform import Database

ROOM, OFFICE = "Store room", "Office"


@pytest.fixture(autouse=True)
def _instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USM_INSTANCE_PATH", str(tmp_path / "instance"))


@pytest.fixture
def store_room(db: Database) -> None:
    """LAP-1..3 in the store room, LAP-4 and LAP-5 in the office, LAP-6 retired in the store
    room, SRV-1 in the store room."""
    implement_normal_change(db, [
        laptop("a", "SN-S-1", location=ROOM, status="in_use"),
        laptop("b", "SN-S-2", location=ROOM, status="in_stock"),
        laptop("c", "SN-S-3", location=ROOM, status="in_use"),
        laptop("d", "SN-S-4", location=OFFICE, status="in_use"),
        laptop("e", "SN-S-5", location=OFFICE, status="in_use"),
        laptop("f", "SN-S-6", location=ROOM, status="in_use"),
        {"op": "create_item", "ref": "s", "class": "hardware.server", "name": "Server 7",
         "serial_number": "SN-S-7", "location": ROOM, "status": "in_use",
         "attributes": {"cores": 8}},
    ], at("2026-01-10"))
    implement_normal_change(db, [{"op": "set_status", "item": "LAP-000006", "status": "retired"}],
                            at("2026-01-12"))


def _keys(items: list[audit.ScannedItem]) -> list[str]:
    return [i.key for i in items]


def test_scans_by_key_serial_or_label_address_sort_into_found_unexpected_unknown(
        db: Database, store_room: None) -> None:
    token = audit.start_scan(db, "carol", f" {ROOM} ")
    outcomes = [audit.add_scan(db, token, "carol", value)[0] for value in (
        "lap-000001", "SN-S-2", "https://usm.example.org/items/LAP-000004", "XYZ-9",
        "SN-S-1", "xyz-9", "  ")[:-1]]
    assert [(o.kind, o.item.key if o.item else o.value) for o in outcomes] == [
        (FOUND, "LAP-000001"), (FOUND, "LAP-000002"), (UNEXPECTED, "LAP-000004"),
        (UNKNOWN, "XYZ-9"), (REPEATED, "LAP-000001"), (REPEATED, "xyz-9")]
    with pytest.raises(Invalid, match="type or scan"):
        audit.add_scan(db, token, "carol", "  ")
    state = audit.scan_state(db, token, "carol")
    assert state.location == ROOM and state.scans == 4  # repeats are not recorded
    assert _keys(state.found) == ["LAP-000001", "LAP-000002"]
    assert _keys(state.unexpected) == ["LAP-000004"] and state.unexpected[0].location == OFFICE
    assert state.unknown == ["XYZ-9"]
    # Present items registered there, not scanned yet; the retired laptop is not expected.
    assert _keys(state.missing) == ["LAP-000003", "SRV-000001"]
    state = audit.remove_scan(db, token, "carol", "XYZ-9")
    assert state.unknown == [] and state.scans == 3


def test_classes_narrow_what_is_missing(db: Database, store_room: None) -> None:
    token = audit.start_scan(db, "carol", ROOM, ["hardware.server"])
    assert _keys(audit.scan_state(db, token, "carol").missing) == ["SRV-000001"]
    token = audit.start_scan(db, "carol", ROOM, ["hardware"])  # with its subclasses
    assert _keys(audit.scan_state(db, token, "carol").missing) == [
        "LAP-000001", "LAP-000002", "LAP-000003", "SRV-000001"]


def test_a_scan_is_its_owners_and_its_input_is_checked(db: Database, store_room: None) -> None:
    with pytest.raises(Invalid, match="location: choose the location"):
        audit.start_scan(db, "carol", " ")
    with pytest.raises(Invalid, match="classes: there is no item class 'hardware.toaster'"):
        audit.start_scan(db, "carol", ROOM, ["hardware.toaster"])
    token = audit.start_scan(db, "carol", ROOM)
    with pytest.raises(NotFound):
        audit.scan_state(db, token, "dave")
    with pytest.raises(NotFound):
        audit.scan_state(db, "0" * 32, "carol")
    with pytest.raises(Invalid, match="at most 64"):
        audit.add_scan(db, token, "carol", "X" * 65)


def test_finishing_reconciles_within_the_location_and_registers_one_correction(
        db: Database, store_room: None) -> None:
    token = audit.start_scan(db, "carol", ROOM)
    for value in ("LAP-000001", "SN-S-2", "LAP-000004", "XYZ-9"):
        audit.add_scan(db, token, "carol", value)
    upload = audit.finish_scan(db, token, "carol")
    assert audit.finish_scan(db, token, "carol") == upload  # while it waits: the same one
    assert audit.scan_state(db, token, "carol").upload == upload
    path = upload_path(upload)
    assert path is not None
    assert path.read_text(encoding="utf-8").splitlines() == [
        "class,key,serial_number,location", f"hardware.laptop,LAP-000001,,{ROOM}",
        f"hardware.laptop,LAP-000002,,{ROOM}", f"hardware.laptop,LAP-000004,,{ROOM}"]
    # Whoever reconciles the stored upload gets it within the location: LAP-000005, present
    # in the office and not scanned, is no business of a store room audit.
    rec = reconcile_file(db, path, "csv", match_order=("key", "serial_number"),
                         name=f"scan at {ROOM}")
    assert rec.ok and rec.matched == 3
    assert [d.id for d in rec.differences] == [
        "drift:LAP-000004:location", "missing:LAP-000003", "missing:SRV-000001"]
    summary = register_correction(db, "carol", rec, ["drift:LAP-000004:location",
                                                     "missing:LAP-000003"])
    detail = changes.change_detail(db, summary.key)
    assert detail.summary.model == "audit-correction"
    assert detail.fields["audit_source"] == f"scan at {ROOM}"
    assert f"items not found at {ROOM} retired" in (detail.description or "")
    walk(db, summary.key)
    detail = changes.change_detail(db, summary.key)
    assert [row.trigger for row in detail.log] == [
        "register", "verify", "submit_for_approval", "authorise", "start_correction",
        "implement"]
    assert register.item_view(db, "LAP-000004").core["location"] == ROOM
    assert register.item_view(db, "LAP-000003").core["status"] == "retired"
    assert register.item_view(db, "SRV-000001").core["status"] == "in_use"  # not chosen


def test_unknown_values_may_be_reported_as_new_items_of_a_class(db: Database,
                                                                store_room: None) -> None:
    token = audit.start_scan(db, "carol", ROOM, ["hardware.laptop"])
    audit.add_scan(db, token, "carol", "SN-NEW-1")
    with pytest.raises(Invalid, match="new_class: 'hardware' is not an item class"):
        audit.finish_scan(db, token, "carol", new_class="hardware")
    upload = audit.finish_scan(db, token, "carol", new_class="hardware.laptop")
    path = upload_path(upload)
    assert path is not None
    rec = reconcile_file(db, path, "csv", match_order=("key", "serial_number"))
    [new] = rec.of_kind("unregistered")
    assert new.found == "SN-NEW-1"
    assert new.operations[0]["location"] == ROOM and new.operations[0]["serial_number"] == "SN-NEW-1"
    assert [d.item_key for d in rec.of_kind("not_seen")] == [
        "LAP-000001", "LAP-000002", "LAP-000003"]


def test_open_scans_are_bounded_per_user_and_unused_ones_swept(
        db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scan_store, "MAX_SESSIONS_PER_USER", 2)
    first = audit.start_scan(db, "carol", ROOM)
    audit.start_scan(db, "carol", ROOM)
    audit.start_scan(db, "pat", ROOM)  # another user's count is their own
    with pytest.raises(scan_store.TooManyScans, match="2 open scans"):
        audit.start_scan(db, "carol", ROOM)
    folder = tmp_path / "instance" / "scans"
    old = time.time() - scan_store.KEEP_SECONDS - 60
    for path in (folder / f"{first}.json", folder / f"{first}.scans"):
        os.utime(path, (old, old))
    audit.start_scan(db, "carol", ROOM)  # the unused one was swept first
    with pytest.raises(NotFound):
        audit.scan_state(db, first, "carol")
