"""Reconciliation of discovered inventory with the BIR, and the audit-correction change it makes."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from bir.errors import ValidationFailed
from tests.support.helpers import at, implement_normal_change, laptop
from usm.services import changes, register
from usm.services.audit import (
    ImportFailed,
    accepted_ids,
    parse_match_order,
    reconcile_file,
    register_correction,
)
from usm.services.platform import Database

HEADER = "class,name,serial_number,asset_tag,hostname,status,owner,attributes.cores\n"


def _register_two(db: Database) -> tuple[str, str]:
    implement_normal_change(db, [
        laptop("a", "SN-A", asset_tag="AT-1", hostname="lap-a", status="in_use", owner="ann",
               attributes={"cores": 4}),
        laptop("b", "SN-B", asset_tag="AT-2", hostname="lap-b", status="in_use", owner="bob"),
    ], at("2026-01-10"))
    rows, _ = register.list_items(db)
    keys = {r.name: r.key for r in rows}
    return keys["Laptop SN-A"], keys["Laptop SN-B"]


def _write(tmp_path: Path, text: str, name: str = "found.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_each_difference_kind_and_one_change_accepting_them(db: Database, tmp_path: Path) -> None:
    a, b = _register_two(db)
    path = _write(tmp_path, HEADER
                  + "hardware.laptop,Laptop SN-A,SN-A,AT-1,lap-a,in_use,carl,8\n"  # drift x2
                  + "hardware.laptop,New one,SN-C,AT-3,lap-c,in_stock,,\n")  # unregistered
    rec = reconcile_file(db, path, "csv")
    assert rec.ok and rec.rows == 2 and rec.matched == 1
    drift = {(d.item_key, d.field, d.registered, d.found) for d in rec.of_kind("drift")}
    assert drift == {(a, "owner", "ann", "carl"), (a, "attributes.cores", 4, 8)}
    [new] = rec.of_kind("unregistered")
    assert (new.row, new.found) == (3, "New one")
    [missing] = rec.of_kind("not_seen")
    assert (missing.item_key, missing.registered) == (b, "in_use")

    summary = register_correction(db, "carol", rec, [d.id for d in rec.differences])
    detail = changes.change_detail(db, summary.key)
    assert detail.summary.model == "audit-correction" and detail.source == "rim"
    ops = [(o["op"], o.get("item")) for o in detail.operations]
    assert ops == [("create_item", None), ("update_item", a), ("set_status", b)]
    assert register.item_view(db, a).core["owner"] == "ann"  # not before implementation


def test_accepting_some_differences_leaves_the_others_out(db: Database, tmp_path: Path) -> None:
    a, _b = _register_two(db)
    path = _write(tmp_path, HEADER + "hardware.laptop,Laptop SN-A,SN-A,AT-1,lap-a,in_use,carl,8\n"
                                     "hardware.laptop,Laptop SN-B,SN-B,AT-2,lap-b,in_use,bob,\n")
    rec = reconcile_file(db, path, "csv")
    owner = next(d for d in rec.differences if d.field == "owner")
    key = register_correction(db, "carol", rec, [owner.id]).key
    ops = changes.change_detail(db, key).operations
    assert [(o["op"], o["item"], o["fields"]) for o in ops] == [("update_item", a, {"owner": "carl"})]
    with pytest.raises(ValidationFailed, match="accept at least one"):
        register_correction(db, "carol", rec, [])
    with pytest.raises(ValidationFailed, match="not a difference"):
        register_correction(db, "carol", rec, ["drift:NOPE:owner"])


def test_match_order_is_configurable(db: Database, tmp_path: Path) -> None:
    a, _b = _register_two(db)
    # The serial says laptop A, the asset tag says laptop B: the first key in the order wins.
    path = _write(tmp_path, "class,serial_number,asset_tag\nhardware.laptop,SN-A,AT-2\n")
    by_serial = reconcile_file(db, path, "csv", match_order=("serial_number", "asset_tag"))
    assert [d.item_key for d in by_serial.of_kind("drift")] == [a]
    by_tag = reconcile_file(db, path, "csv", match_order=parse_match_order("asset_tag,serial_number"))
    assert {d.item_key for d in by_tag.of_kind("drift")} != {a}
    with pytest.raises(ValueError, match="colour is not one of|'colour'"):
        parse_match_order("serial_number,colour")


def test_duplicates_in_the_input_are_named_and_block_accepting(db: Database,
                                                                tmp_path: Path) -> None:
    _register_two(db)
    path = _write(tmp_path, HEADER + "hardware.laptop,X,SN-Z,,,,,\nhardware.laptop,Y,SN-Z,,,,,\n")
    rec = reconcile_file(db, path, "csv")
    assert not rec.ok
    assert [str(p) for p in rec.duplicates] == [
        "found.csv, row 3, column serial_number: duplicate key 'SN-Z': row 2 has it too"]
    with pytest.raises(ImportFailed, match="row 3, column serial_number"):
        register_correction(db, "carol", rec, [])


def test_baseline_import_is_one_change_that_registers_everything(db: Database,
                                                                   tmp_path: Path) -> None:
    rows = [{"class": "hardware.laptop", "name": f"Laptop {n}", "serial_number": f"BL-{n}",
             "purchase_cost": "999.90", "currency": "EUR"} for n in range(5)]
    path = _write(tmp_path, json.dumps(rows), "baseline.json")
    rec = reconcile_file(db, path, "json")
    assert rec.ok and len(rec.of_kind("unregistered")) == 5 and not rec.of_kind("not_seen")
    key = register_correction(db, "carol", rec, [d.id for d in rec.differences]).key
    walk(db, key)
    found, total = register.list_items(db, register.ItemFilter(text="BL-"))
    assert total == 5 and {r.purchase_cost for r in found} == {Decimal("999.90")}
    assert reconcile_file(db, path, "json").differences == []  # the register now matches


def walk(db: Database, key: str) -> None:
    """Move an audit correction through CHM to implementation."""
    start = at("2026-03-01")
    changes.move_change(db, key, "verify", "carol")
    changes.update_change(db, key, "carol", {"risk": "low", "impact": "register only",
                                             "planned_start": start, "planned_end": at("2026-03-02")})
    changes.move_change(db, key, "submit_for_approval", "carol")
    changes.approve_change(db, key, "sam")
    changes.move_change(db, key, "start_correction", "carol")
    changes.move_change(db, key, "implement", "carol")


def test_accepting_by_kind_with_chosen_ids_and_ignored_kinds(db: Database,
                                                             tmp_path: Path) -> None:
    """What web, API and CLI send: whole kinds, plus ids ticked one by one, less ignored kinds."""
    a, b = _register_two(db)
    path = _write(tmp_path, HEADER
                  + "hardware.laptop,Laptop SN-A,SN-A,AT-1,lap-a,in_use,carl,8\n"
                  + "".join(f"hardware.laptop,New {n},SN-N{n},,,,,\n" for n in range(5)))
    rec = reconcile_file(db, path, "csv")
    assert rec.counts() == {"unregistered": 5, "not_seen": 1, "drift": 2}
    drift = [f"drift:{a}:owner", f"drift:{a}:attributes.cores"]  # the reconciliation's order
    assert accepted_ids(rec, kinds=["drift"]) == drift
    assert accepted_ids(rec, kinds=["drift"], ids=["new:4", "new:6", "new:4"]) == [
        *drift, "new:4", "new:6"]
    assert accepted_ids(rec, kinds=["unregistered", "not_seen"], ignore=["unregistered"],
                        ids=["new:3"]) == [f"missing:{b}"]
    with pytest.raises(ValidationFailed) as bad_kind:
        accepted_ids(rec, kinds=["drift", "unregisterd"])
    assert (bad_kind.value.errors[0].field, "'unregisterd'" in bad_kind.value.errors[0].message) \
        == ("kinds", True)
    with pytest.raises(ValidationFailed) as bad_id:
        accepted_ids(rec, kinds=["drift"], ids=["new:99"])
    assert bad_id.value.errors[0].field == "accept" and "new:99" in bad_id.value.errors[0].message


def test_pages_of_differences_per_kind(db: Database, tmp_path: Path) -> None:
    path = _write(tmp_path, HEADER + "".join(f"hardware.laptop,New {n},SN-P{n:03},,,,,\n"
                                             for n in range(250)))
    rec = reconcile_file(db, path, "csv")
    first, last = rec.page("unregistered", 1, 100), rec.page("unregistered", 3, 100)
    assert (first.total, first.pages, len(first.differences)) == (250, 3, 100)
    assert [d.id for d in first.differences[:2]] == ["new:2", "new:3"]
    assert (last.number, [d.id for d in last.differences][-1], len(last.differences)) == (
        3, "new:251", 50)
    assert rec.page("unregistered", 99, 100).number == 3  # past the end: the last page
    empty = rec.page("drift", 1, 100)
    assert (empty.total, empty.pages, empty.differences) == (0, 1, [])


def test_dry_run_names_a_required_attribute_a_new_item_lacks(db: Database,
                                                             tmp_path: Path) -> None:
    path = _write(tmp_path, "class,name,serial_number,attributes.cpu\n"
                            "hardware.server,Web 1,SN-S1,Xeon\n"
                            "hardware.laptop,Laptop,SN-L1,\n")
    rec = reconcile_file(db, path, "csv")
    assert not rec.ok and rec.problem_count == 1
    [problem] = rec.problems
    assert str(problem).startswith("found.csv, row 2, column attributes.cores: is required")


def test_dry_run_makes_the_checks_registration_makes(db: Database, tmp_path: Path) -> None:
    a, _ = _register_two(db)
    # A laptop in use cannot be found "ordered": only the change that registers it would say so.
    path = _write(tmp_path, HEADER + "hardware.laptop,Laptop SN-A,SN-A,AT-1,lap-a,ordered,ann,4\n")
    rec = reconcile_file(db, path, "csv")
    assert not rec.ok
    [problem] = rec.problems
    assert str(problem).startswith(f"found.csv, row 2, column status: {a} cannot move from "
                                   "in_use to ordered")
    with pytest.raises(ImportFailed):
        register_correction(db, "carol", rec, [d.id for d in rec.differences])


def test_counts_of_problems_are_true_counts(db: Database, tmp_path: Path) -> None:
    path = _write(tmp_path, "class,name,serial_number\n"
                  + "hardware.laptop,Laptop,SN-SAME\n" * 707)
    rec = reconcile_file(db, path, "csv")
    assert rec.duplicate_count == 706
    assert len(rec.duplicates) + len(rec.problems) == 200
