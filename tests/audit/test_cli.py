"""``usm export`` and ``usm import`` as an operator runs them: the round trip finds nothing to
correct, a dry run registers nothing, an import registers one audit-correction change."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from openpyxl import load_workbook

from tests.support.helpers import at, implement_normal_change, laptop
from usm.cli import main
from usm.services import changes
from usm.services.platform import Database


@pytest.fixture
def run(db_url: str, tmp_path: Path):
    runner = CliRunner()
    env = {"USM_DATABASE_URL": db_url, "USM_INSTANCE_PATH": str(tmp_path / "instance")}

    def invoke(*args: str) -> Result:
        return runner.invoke(main, list(args), env={**env, "USM_USER": ""},
                             catch_exceptions=False)

    return invoke


@pytest.fixture
def register(db_url: str) -> Database:
    db = Database.connect(db_url)
    implement_normal_change(db, [
        laptop("a", "SN-RT-1", asset_tag="AT-RT-1", owner="alice", purchase_cost="800.10",
               currency="EUR", acquired_on="2026-01-02", status="in_use",
               attributes={"cores": 8, "keyboard_layout": "nl"}),
        laptop("b", "SN-RT-2", hostname="lap-rt-2", status="in_stock", location="Ämsterdam"),
        {"op": "create_item", "ref": "s", "class": "service", "name": "Mail",
         "attributes": {"service_level": "gold"}},
    ], at("2026-01-10"), title="Receive")
    implement_normal_change(db, [{"op": "update_item", "item": "LAP-000001", "owner": "bob"}],
                            at("2026-02-10"), title="Hand over")
    yield db
    db.dispose()


def _csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))


def test_round_trip_export_then_import_finds_no_differences(run, register: Database,
                                                            tmp_path: Path) -> None:
    out = tmp_path / "register.csv"
    result = run("export", "items", "--format", "csv", "-o", str(out))
    assert result.exit_code == 0, result.output
    rows = _csv(out)
    assert [r["key"][:4] for r in rows] == ["LAP-", "LAP-", "SVC-"]
    assert rows[0]["owner"] == "bob" and rows[0]["purchase_cost"] == "800.10"
    result = run("import", str(out), "--format", "csv", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "3 rows, 3 matched" in result.output
    assert "0 unregistered items found" in result.output
    assert "0 drifted fields" in result.output and "0 registered items not seen" in result.output


def test_export_as_of_a_moment_and_history_and_changes(run, register: Database,
                                                       tmp_path: Path) -> None:
    then = tmp_path / "then.xlsx"
    assert run("export", "items", "--class", "hardware.laptop", "--as-of", "2026-02-01",
               "--format", "xlsx", "-o", str(then)).exit_code == 0
    sheet = load_workbook(then).worksheets[0]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    owner = values[0].index("owner")
    assert [v[0] for v in values[1:]] == ["LAP-000001", "LAP-000002"]
    assert values[1][owner] == "alice"  # before the hand-over
    history = tmp_path / "history.csv"
    assert run("export", "history", "lap-000001", "-o", str(history)).exit_code == 0
    owner_rows = [(r["version"], r["old_value"], r["new_value"], r["change_title"])
                  for r in _csv(history) if r["field"] == "owner"]
    assert owner_rows == [("1", "", "alice", "Receive"), ("2", "alice", "bob", "Hand over")]
    listing = tmp_path / "changes.csv"
    assert run("export", "changes", "--all", "-o", str(listing)).exit_code == 0
    assert [r["title"] for r in _csv(listing)] == ["Hand over", "Receive"]
    bad = run("export", "items", "--class", "no.such", "-o", str(tmp_path / "x.csv"))
    assert bad.exit_code == 1 and "There is no item class 'no.such'" in bad.output
    assert not (tmp_path / "x.csv").exists()


def test_import_registers_one_audit_correction_change(run, register: Database,
                                                      tmp_path: Path) -> None:
    found = tmp_path / "found.csv"
    found.write_text("class,name,serial_number,owner\nhardware.laptop,Laptop,SN-RT-1,carol\n"
                     "hardware.laptop,Spare,SN-NEW-9,\n", encoding="utf-8")
    dry = run("import", str(found), "--format", "csv", "--dry-run")
    assert dry.exit_code == 0 and "dry run: nothing registered" in dry.output
    assert "LAP-000001 owner: registered bob, found carol" in dry.output
    assert changes.list_changes(register, model="audit-correction") == []
    result = run("import", str(found), "--format", "csv", "--as", "carol")
    assert result.exit_code == 0, result.output
    [change] = changes.list_changes(register, model="audit-correction")
    assert change.model == "audit-correction" and change.key in result.output
    ops = [o["op"] for o in changes.change_detail(register, change.key).operations]
    # LAP-000002 was not seen: a file that leaves an item out does not retire it by default
    assert ops == ["create_item", "update_item"]
    assert "1 registered items not seen are not retired" in result.output
    assert "--accept not_seen" in result.output


def test_import_retires_items_not_seen_only_when_asked(run, register: Database,
                                                       tmp_path: Path) -> None:
    found = tmp_path / "found.csv"
    found.write_text("class,name,serial_number\nhardware.laptop,Laptop,SN-RT-1\n",
                     encoding="utf-8")
    result = run("import", str(found), "--format", "csv", "--accept", "not_seen", "--as", "carol")
    assert result.exit_code == 0, result.output
    [change] = changes.list_changes(register, model="audit-correction")
    ops = [o["op"] for o in changes.change_detail(register, change.key).operations]
    assert ops == ["set_status"]  # LAP-000002, and nothing else
    assert "not retired" not in result.output


def test_bad_file_is_named_and_nothing_registered(run, register: Database,
                                                  tmp_path: Path) -> None:
    found = tmp_path / "bad.csv"
    found.write_text("class,name,colour\nhardware.laptop,X,red\n", encoding="utf-8")
    result = run("import", str(found), "--format", "csv", "--as", "carol")
    assert result.exit_code == 1
    assert "bad.csv, row 2, column colour: unknown column" in result.output
    assert changes.list_changes(register, model="audit-correction") == []


def test_import_accepts_chosen_kinds_only(run, register: Database, tmp_path: Path) -> None:
    found = tmp_path / "found.csv"
    found.write_text("class,name,serial_number,owner\nhardware.laptop,Laptop,SN-RT-1,carol\n"
                     "hardware.laptop,Spare,SN-NEW-9,\n", encoding="utf-8")
    bad = run("import", str(found), "--format", "csv", "--accept", "unregisterd", "--as", "carol")
    assert bad.exit_code == 2 and "unregisterd" in bad.output
    result = run("import", str(found), "--format", "csv", "--accept", "unregistered",
                 "--accept", "drift", "--as", "carol")
    assert result.exit_code == 0, result.output
    assert "with 3 accepted differences" in result.output
    [change] = changes.list_changes(register, model="audit-correction")
    ops = [o["op"] for o in changes.change_detail(register, change.key).operations]
    assert ops == ["create_item", "update_item"]  # LAP-000002, not seen, is left alone
