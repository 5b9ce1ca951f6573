"""Import files: every format read with its mapping, every kind of bad input named by file, row
and column with nothing registered, and statements that grow with batches, not rows."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from sqlalchemy import event

from tests.support.helpers import at, implement_normal_change, laptop
from usm.services import changes
from usm.services.audit import ImportFailed, reconcile_file, register_correction
from usm.services.audit.readers import MAX_ROW_CHARS, MAX_ROW_DEPTH, json_rows
from usm.services.audit.reconcile import BATCH, MAX_PROBLEMS
from usm.services.platform import Database

GOOD = "class,name,serial_number,purchase_cost\nhardware.laptop,A,SN-1,10.00\n"

# (name, file body, expected problem: "file, row R, column C: message start")
MALFORMED = [
    ("unknown column", "class,name,colour\nhardware.laptop,A,red\n",
     "bad.csv, row 2, column colour: unknown column"),
    ("wrong type", "class,name,purchase_cost\nhardware.laptop,A,12.00\nhardware.laptop,B,cheap\n",
     "bad.csv, row 3, column purchase_cost:"),
    ("wrong date", "class,name,acquired_on\nhardware.laptop,A,31/12/2025\n",
     "bad.csv, row 2, column acquired_on:"),
    ("unknown class", "class,name\nhardware.toaster,A\n",
     "bad.csv, row 2, column class: unknown class 'hardware.toaster'"),
    ("abstract class", "class,name\nhardware,A\n",
     "bad.csv, row 2, column class: class hardware is abstract"),
    ("unknown status", "class,name,status\nhardware.laptop,A,lost\n",
     "bad.csv, row 2, column status: 'lost' is not a lifecycle status"),
    ("bad attribute", "class,name,attributes.cores\nhardware.laptop,A,many\n",
     "bad.csv, row 2, column attributes.cores:"),
    ("unknown attribute", "class,name,attributes.colour\nhardware.laptop,A,red\n",
     "bad.csv, row 2, column attributes.colour: class hardware.laptop has no attribute"),
    ("duplicate key", "class,name,serial_number\nhardware.laptop,A,SN-1\nhardware.laptop,B,SN-1\n",
     "bad.csv, row 3, column serial_number: duplicate key 'SN-1': row 2 has it too"),
    ("ragged row", "class,name\nhardware.laptop,A,extra\n",
     "bad.csv, row 2, column -: the row has 3 fields where the header has 2"),
    ("empty file", "", "bad.csv, row 1, column -: the file is empty"),
    # json.loads of the attributes column recursed until RecursionError: a crash.
    ("attributes nested too deeply", 'class,name,attributes\nhardware.laptop,A,"'
     + "[" * 60_000 + "]" * 60_000 + '"\n',
     "bad.csv, row 2, column attributes: is not a JSON object of class attributes"),
]


@pytest.mark.parametrize("body,expected", [(b, e) for _, b, e in MALFORMED],
                         ids=[n for n, _, _ in MALFORMED])
def test_malformed_file_is_named_and_nothing_registered(db: Database, tmp_path: Path, body: str,
                                                        expected: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ImportFailed) as failed:
        rec = reconcile_file(db, path, "csv")
        register_correction(db, "carol", rec, [d.id for d in rec.differences])
    assert any(str(p).startswith(expected) for p in failed.value.problems), \
        [str(p) for p in failed.value.problems]
    assert changes.list_changes(db, open_only=False) == []


@pytest.mark.parametrize("body,expected", [
    ('[{"class": "hardware.laptop", "name": "A"}, {"class": "hardware.laptop", "nme": "B"}]',
     "bad.json, row 2, column nme: unknown column"),
    ('[{"class": "hardware.laptop", "name": "A"}, {"class": "hardware.laptop", "name": "B",',
     "bad.json, row 2, column -: not valid JSON"),
    ('{"class": "hardware.laptop", "name": "A"}\n{"class": "hardware.laptop", "purchase_cost": "x"}',
     "bad.json, row 2, column purchase_cost:"),
    ('[1]', "bad.json, row 1, column -: is not a JSON object"),
], ids=["unknown key", "truncated array", "json lines wrong type", "not an object"])
def test_malformed_json_is_named(db: Database, tmp_path: Path, body: str, expected: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ImportFailed) as failed:
        rec = reconcile_file(db, path, "json")
        register_correction(db, "carol", rec, [d.id for d in rec.differences])
    assert any(str(p).startswith(expected) for p in failed.value.problems), \
        [str(p) for p in failed.value.problems]


ROW = '{"class": "hardware.laptop", "name": "A", "attributes": {"cores": 4}}'
TOWER = "[" * 20_000 + "]" * 20_000  # ijson builds a deep value in quadratic time


@pytest.mark.parametrize("body,expected", [
    (f'[{ROW}, {{"class": "hardware.laptop", "name": "B", "attributes": {{"cores": {TOWER}}}}}]',
     f"deep.json, row 2, column attributes.cores: nested too deeply: more than {MAX_ROW_DEPTH} "
     "levels (a row is one object, its attributes an object in it)"),
    ('[{"class": "hardware.laptop", "name": "A", "attributes": {"cores": [[{"a": 1}]]}}]',
     "deep.json, row 1, column attributes.cores: nested too deeply"),
    (f'{ROW}\n{{"class": "hardware.laptop", "name": "B", "attributes": {{"cores": [[[4]]]}}}}\n',
     f"deep.json, row 2, column -: nested too deeply: more than {MAX_ROW_DEPTH} levels"),
    (f'[{ROW}, {{"class": "hardware.laptop", "name": "{"B" * MAX_ROW_CHARS}"}}]',
     f"deep.json, row 2, column name: the row is larger than {MAX_ROW_CHARS} characters"),
    (f'{ROW}\n{{"class": "hardware.laptop", "name": "{"B" * MAX_ROW_CHARS}"}}\n',
     f"deep.json, row 2, column -: the row is larger than {MAX_ROW_CHARS} characters"),
], ids=["array, deep", "array, one level too deep", "json lines, deep", "array, large row",
        "json lines, large row"])
def test_a_json_row_past_the_limits_is_refused_naming_file_and_row(
        db: Database, tmp_path: Path, body: str, expected: str) -> None:
    path = tmp_path / "deep.json"
    path.write_text(body, encoding="utf-8")

    with pytest.raises(ImportFailed) as failed:
        reconcile_file(db, path, "json")

    [problem] = failed.value.problems
    assert str(problem).startswith(expected), str(problem)
    assert changes.list_changes(db, open_only=False) == []


def test_a_json_row_up_to_the_limits_is_read() -> None:
    row = {"class": "hardware.laptop", "name": "B" * 1000, "attributes": {"ports": [{"a": 1}]}}
    text = json.dumps([json.loads(ROW), row]).encode()

    assert [r for _, r in json_rows(io.BytesIO(text), "flat.json")] == [json.loads(ROW), row]


def test_snipeit_export_is_read_with_its_mapping(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "snipeit.csv"
    path.write_text(
        "ID,Company,Asset Name,Asset Tag,Model,Category,Manufacturer,Serial,Purchase Date,"
        "Purchase Cost,Order Number,Supplier,Location,Status,Checked Out To,Notes\n"
        "7,Acme,Jane's laptop,AT-0007,Latitude 7440,Laptops,Dell,5CD7,2025-03-01,1249.00,"
        "PO-1,Dell NL,Utrecht,Deployed,jane,\n", encoding="utf-8")
    [new] = reconcile_file(db, path, "snipeit").differences
    [create] = new.operations
    assert create == {"op": "create_item", "ref": "found1", "class": "hardware.laptop",
                      "name": "Jane's laptop", "asset_tag": "AT-0007", "model": "Latitude 7440",
                      "manufacturer": "Dell", "serial_number": "5CD7",
                      "acquired_on": "2025-03-01", "purchase_cost": "1249.00", "currency": "EUR",
                      "invoice": "PO-1", "supplier": "Dell NL", "location": "Utrecht",
                      "status": "in_use", "owner": "jane"}


def test_netbox_export_is_read_with_its_mapping(db: Database, tmp_path: Path) -> None:
    implement_normal_change(db, [{"op": "create_item", "ref": "s", "class": "hardware.server",
                                  "name": "db01", "hostname": "db01", "serial_number": "SRV-9",
                                  "status": "in_use", "attributes": {"cores": 16}}],
                            at("2026-01-10"))
    path = tmp_path / "netbox.csv"
    path.write_text("name,status,role,manufacturer,device_type,serial,asset_tag,site,tenant,"
                    "platform\ndb01,active,server,HPE,DL380,SRV-9,,Amsterdam DC,,linux\n"
                    "sw01,active,access-switch,Cisco,C9300,FOC1,,Amsterdam DC,,ios\n",
                    encoding="utf-8")
    rec = reconcile_file(db, path, "netbox", match_order=("hostname", "serial_number"))
    assert rec.matched == 1
    assert {(d.kind, d.field, d.found) for d in rec.differences} == {
        ("drift", "location", "Amsterdam DC"), ("drift", "manufacturer", "HPE"),
        ("drift", "model", "DL380"), ("unregistered", None, "sw01")}
    [new] = rec.of_kind("unregistered")
    assert new.operations[0]["class"] == "network.switch"


def test_cyclonedx_components_become_installations_on_the_device(db: Database,
                                                                  tmp_path: Path) -> None:
    implement_normal_change(db, [
        laptop("l", "SN-SBOM", hostname="lap-sbom", status="in_use"),
        {"op": "create_item", "ref": "old", "class": "software.installation", "status": "in_use",
         "name": "7-Zip", "attributes": {"product": "7-Zip", "product_version": "22.01"}},
        {"op": "create_item", "ref": "gone", "class": "software.installation",
         "status": "in_use", "name": "WinRAR", "attributes": {"product": "WinRAR"}},
        {"op": "add_relation", "kind": "installed_on", "source": "@old", "target": "@l"},
        {"op": "add_relation", "kind": "installed_on", "source": "@gone", "target": "@l"},
    ], at("2026-01-10"))
    sbom = {"bomFormat": "CycloneDX", "specVersion": "1.5",
            "metadata": {"component": {"type": "device", "name": "lap-sbom"}},
            "components": [
                {"type": "application", "name": "7-Zip", "version": "23.01",
                 "publisher": "Igor Pavlov"},
                {"type": "application", "name": "Firefox", "version": "128.0",
                 "supplier": {"name": "Mozilla"}}]}
    path = tmp_path / "lap-sbom.cdx.json"
    path.write_text(json.dumps(sbom), encoding="utf-8")
    rec = reconcile_file(db, path, "cyclonedx")
    assert rec.ok, rec.problems
    summary = {(d.kind, d.field, d.registered, d.found) for d in rec.differences}
    assert summary == {
        ("drift", "attributes.product_version", "22.01", "23.01"),
        ("drift", "attributes.vendor", None, "Igor Pavlov"),
        ("unregistered", None, None, "Firefox on lap-sbom"),
        ("not_seen", "status", "in_use", "retired")}
    key = register_correction(db, "carol", rec, [d.id for d in rec.differences]).key
    ops = changes.change_detail(db, key).operations
    assert [o["op"] for o in ops] == ["create_item", "update_item", "add_relation", "set_status"]
    assert (ops[2]["kind"], ops[2]["source"], ops[2]["target"]) == (
        "installed_on", "@found1", "LAP-000001")

    sbom["metadata"]["component"]["name"] = "no-such-host"
    path.write_text(json.dumps(sbom), encoding="utf-8")
    rec = reconcile_file(db, path, "cyclonedx")
    assert str(rec.problems[0]) == ("lap-sbom.cdx.json, row 1, column installed_on: no device "
                                    "'no-such-host' in the register (give its key or host name)")


def test_ten_thousand_rows_take_statements_per_batch_not_per_row(db: Database,
                                                                 tmp_path: Path) -> None:
    """Reading, matching and registering the change grow with the batches, not the rows, on both
    databases (implementing it is guarded in tests/test_write_statement_counts.py)."""

    def import_rows(count: int) -> tuple[int, int]:
        path = tmp_path / f"rows{count}.csv"
        with path.open("w", encoding="utf-8") as out:
            out.write("class,name,serial_number,asset_tag,hostname\n")
            for n in range(count):
                out.write(f"hardware.laptop,Laptop {n},S{count}-{n},A{count}-{n},h{count}-{n}\n")
        statements: list[str] = []

        def count_statement(*args: object) -> None:
            statements.append(str(args[2]))

        event.listen(db.engine, "before_cursor_execute", count_statement)
        try:
            rec = reconcile_file(db, path, "csv")
            reading = len(statements)
            register_correction(db, "carol", rec, [d.id for d in rec.differences])
        finally:
            event.remove(db.engine, "before_cursor_execute", count_statement)
        assert len(rec.of_kind("unregistered")) == count
        return reading, len(statements)

    (small_read, small), (large_read, large) = import_rows(BATCH), import_rows(20 * BATCH)
    assert large_read - small_read <= 19 * 2, (small_read, large_read)  # one lookup per batch
    assert large_read < 60
    assert large - small <= 19 * 4 + 20, (small, large)
    assert large < 200  # 10,000 rows: far fewer statements than rows


def test_cyclonedx_metadata_may_follow_the_components(db: Database, tmp_path: Path) -> None:
    """The SBOM is streamed; the device named after the components is still the one used."""
    implement_normal_change(db, [laptop("l", "SN-LATE", hostname="lap-late", status="in_use")],
                            at("2026-01-10"))
    path = tmp_path / "late.cdx.json"
    path.write_text('{"bomFormat": "CycloneDX", "components": ['
                    '{"name": "Firefox", "version": "128.0", "supplier": {"name": "Mozilla"}},'
                    '{"name": "7-Zip", "version": "23.01"}],'
                    '"metadata": {"component": {"type": "device", "name": "lap-late"}}}',
                    encoding="utf-8")
    rec = reconcile_file(db, path, "cyclonedx")
    assert rec.ok, rec.problems
    assert [d.summary for d in rec.of_kind("unregistered")] == [
        "row 1: Firefox on lap-late (software.installation) is not registered",
        "row 2: 7-Zip on lap-late (software.installation) is not registered"]
    [firefox, _] = rec.of_kind("unregistered")
    assert firefox.operations[0]["attributes"] == {"product": "Firefox",
                                                   "product_version": "128.0",
                                                   "vendor": "Mozilla"}
    assert firefox.operations[1] == {"op": "add_relation", "kind": "installed_on",
                                     "target": "LAP-000001", "source": "@found1"}

    path.write_bytes(path.read_bytes()[:-1] + b"\xc3")  # cut short in a UTF-8 sequence
    with pytest.raises(ImportFailed, match="late.cdx.json, row 0, column -: not valid JSON"):
        reconcile_file(db, path, "cyclonedx")


def test_a_file_of_repeated_rows_keeps_a_bounded_list_of_duplicates(db: Database,
                                                                     tmp_path: Path) -> None:
    path = tmp_path / "copies.csv"
    path.write_text("class,name,serial_number\n" + "hardware.laptop,A,SN-SAME\n" * 300,
                    encoding="utf-8")
    rec = reconcile_file(db, path, "csv")
    assert not rec.ok and rec.rows == 300
    assert len(rec.duplicates) == MAX_PROBLEMS and rec.more_problems == 299 - MAX_PROBLEMS
    assert str(rec.duplicates[-1]) == (f"copies.csv, row {MAX_PROBLEMS + 2}, column "
                                       "serial_number: duplicate key 'SN-SAME': row 2 has it too")
