"""The licence position at the service layer, on SQLite and PostgreSQL: each metric's consumption
rule, entitlements that count or not, the cost of a shortfall, and the position as of days
before and after a change that adds and retires installations. Every figure is worked by hand in
the comments."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event

from bir.errors import NotFound
from tests.support.helpers import at, implement_normal_change
from usm.services.platform import Database
from usm.services.reports import licences
from usm.services.reports.licences import Position
from usm.services.reports.licences.position import LicenceReport
from usm.services.user_input import InputError, parse_day

BEFORE = date(2026, 1, 9)  # the day before anything was registered
FIRST = date(2026, 3, 1)  # after the first change, before the second
SECOND = date(2026, 4, 1)  # after the second change
AFTER_TERM = date(2026, 7, 1)  # the Photoshop subscription's term ended on 2026-06-30


def _create(ref: str, klass: str, name: str, **fields: Any) -> dict[str, Any]:
    return {"op": "create_item", "ref": ref, "class": klass, "name": name, **fields}


def _relate(kind: str, source: str, target: str) -> dict[str, Any]:
    return {"op": "add_relation", "kind": kind, "source": source, "target": target}


def _entitlement(ref: str, product: str, metric: str, quantity: int, price: str,
                 **attributes: Any) -> dict[str, Any]:
    return _create(ref, "licence.entitlement", f"{product} {metric} {ref}", status="in_use",
                   currency="EUR", contract=f"C-{ref}", supplier="Reseller",
                   attributes={"product": product, "vendor": "Vendor", "metric": metric,
                               "quantity": quantity, "unit_price": price, **attributes})


def _install(ref: str, product: str, device: str, licence: str | None = None
             ) -> list[dict[str, Any]]:
    ops = [_create(ref, "software.installation", f"{product.strip()} on {device}",
                   status="in_use", attributes={"product": product}),
           _relate("installed_on", f"@{ref}", f"@{device}")]
    if licence:
        ops.append(_relate("licensed_by", f"@{ref}", f"@{licence}"))
    return ops


def build_licences(db: Database) -> None:
    """The worked example, built through two changes.

    2026-01-10, devices (key: owner, location, cores):
      LAP-000001 lap1: alice, Utrecht, 8     LAP-000002 lap2: alice, Utrecht, 8
      LAP-000003 lap3: bob, Amsterdam, 4     LAP-000004 lap4: no owner, no location, no cores
      SRV-000001 srv1: DC1, 16 cores         VM-000001 vm1: 4 vCPUs   VM-000002 vm2: no vCPUs
    entitlements (EUR): Adobe Acrobat device 2 x 200.00; Office user 2 x 120.50; SQL Server core
    16 x 1000.00 and 4 x 1250.00; Photoshop subscription 1 x 300.00 (2026-01-01..2026-06-30);
    CAD Suite site 1 x 5000.00; Project concurrent 1 x 80.00; installations:
      Acrobat on lap1, lap2, lap3 (licensed) and "  adobe ACROBAT " on lap3 (not linked);
      Office on lap1..lap4; SQL Server on srv1, vm1, vm2, lap1; Photoshop on lap1, lap2;
      CAD Suite on lap1, lap3, lap4; Project on lap1, lap2, lap3; Visio on lap2 (no entitlement).
    2026-03-10: both Acrobat installations on lap3 retired; a laptop lap5 (carol) with Office.
    """
    devices = [
        _create("lap1", "hardware.laptop", "lap1", status="in_use", owner="alice",
                location="Utrecht", attributes={"cores": 8}),
        _create("lap2", "hardware.laptop", "lap2", status="in_use", owner="alice",
                location="Utrecht", attributes={"cores": 8}),
        _create("lap3", "hardware.laptop", "lap3", status="in_use", owner="bob",
                location="Amsterdam", attributes={"cores": 4}),
        _create("lap4", "hardware.laptop", "lap4", status="in_use"),
        _create("srv1", "hardware.server", "srv1", status="in_use", location="DC1",
                attributes={"cores": 16}),
        _create("vm1", "virtual_machine", "vm1", status="in_use", attributes={"vcpus": 4}),
        _create("vm2", "virtual_machine", "vm2", status="in_use"),
    ]
    entitlements = [
        _entitlement("acro", "Adobe Acrobat", "device", 2, "200.00"),
        _entitlement("office", "Office", "user", 2, "120.50"),
        _entitlement("sql", "SQL Server", "core", 16, "1000.00"),
        _entitlement("sql2", "SQL Server", "core", 4, "1250.00"),
        _entitlement("ps", "Photoshop", "subscription", 1, "300.00", term_start="2026-01-01",
                     term_end="2026-06-30"),
        _entitlement("cad", "CAD Suite", "site", 1, "5000.00"),
        _entitlement("proj", "Project", "concurrent", 1, "80.00"),
    ]
    installs: list[dict[str, Any]] = []
    for i, device in enumerate(("lap1", "lap2", "lap3")):
        installs += _install(f"iacro{i}", "Adobe Acrobat", device, "acro")
    installs += _install("acro9", "  adobe ACROBAT ", "lap3")
    for i, device in enumerate(("lap1", "lap2", "lap3", "lap4")):
        installs += _install(f"off{i}", "Office", device, "office")
    for i, device in enumerate(("srv1", "vm1", "vm2", "lap1")):
        installs += _install(f"isql{i}", "SQL Server", device, "sql")
    for i, device in enumerate(("lap1", "lap2")):
        installs += _install(f"ips{i}", "Photoshop", device, "ps")
    for i, device in enumerate(("lap1", "lap3", "lap4")):
        installs += _install(f"icad{i}", "CAD Suite", device, "cad")
    for i, device in enumerate(("lap1", "lap2", "lap3")):
        installs += _install(f"iproj{i}", "Project", device, "proj")
    installs += _install("visio", "Visio", "lap2")
    implement_normal_change(db, devices + entitlements + installs, at("2026-01-10"),
                            "Devices, entitlements and installations")
    report = licences.licence_position(db, FIRST)
    acrobat = _one(report, "Adobe Acrobat", "device")
    on_lap3 = [line.installation.key for line in acrobat.installations
               if [d.key for d in line.installation.devices] == ["LAP-000003"]]
    implement_normal_change(db, [
        *({"op": "set_status", "item": key, "status": "retired"} for key in on_lap3),
        _create("lap5", "hardware.laptop", "lap5", status="in_use", owner="carol",
                location="Utrecht", attributes={"cores": 8}),
        *_install("off9", "Office", "lap5", None),
    ], at("2026-03-10"), "Retire Acrobat on lap3; Office on a new laptop")


def _one(report: LicenceReport, product: str, metric: str) -> Position:
    found = [p for p in report.positions if p.product == product and p.metric == metric]
    assert len(found) == 1, [(p.product, p.metric) for p in report.positions]
    return found[0]


@pytest.fixture
def built(db: Database) -> Database:
    build_licences(db)
    return db


def test_per_device_counts_distinct_devices_and_matches_products_ignoring_case(
        built: Database) -> None:
    first = _one(licences.licence_position(built, FIRST), "Adobe Acrobat", "device")
    # Devices lap1, lap2, lap3; the unlinked "  adobe ACROBAT " on lap3 is the same product and
    # the same device: 3 devices against 2 entitled, short 1 x 200.00 = 200.00 EUR.
    assert (first.entitled, first.consumed, first.shortfall) == (2, 3, 1)
    assert first.counted_units == ("LAP-000001", "LAP-000002", "LAP-000003")
    assert first.shortfall_cost == Decimal("200.00") and first.currency == "EUR"
    unlinked = [line for line in first.installations if not line.installation.licensed_by]
    assert len(unlinked) == 1 and "matched by product" in unlinked[0].notes[0]

    # After both installations on lap3 were retired: lap1, lap2 = 2 = entitled, no shortfall;
    # the retired ones are still listed for the auditor, not counted.
    second = _one(licences.licence_position(built, SECOND), "Adobe Acrobat", "device")
    assert (second.entitled, second.consumed, second.shortfall, second.surplus) == (2, 2, 0, 0)
    assert second.shortfall_cost == Decimal("0.00")
    assert sorted(line.counted for line in second.installations) == [False, False, True, True]


def test_per_user_counts_distinct_owners_and_each_ownerless_device(built: Database) -> None:
    first = _one(licences.licence_position(built, FIRST), "Office", "user")
    # Owners alice (lap1, lap2) and bob (lap3), lap4 has none: 1 + 1 + 1 = 3 users against 2,
    # short 1 x 120.50 = 120.50 EUR.
    assert (first.entitled, first.consumed, first.shortfall) == (2, 3, 1)
    assert first.counted_units == ("alice", "bob", "LAP-000004 (no owner)")
    assert first.shortfall_cost == Decimal("120.50")
    flagged = [line for line in first.installations if line.notes]
    assert [n for line in flagged for n in line.notes] == [
        "device LAP-000004 has no owner: counted as one user"]

    # The new laptop lap5 (carol) with Office, not linked but Office has one metric: 4 users,
    # short 2 x 120.50 = 241.00 EUR.
    second = _one(licences.licence_position(built, SECOND), "Office", "user")
    assert (second.consumed, second.shortfall, second.shortfall_cost) == (4, 2, Decimal("241.00"))


def test_per_core_sums_host_cores_flags_unknown_and_prices_at_the_dearest(
        built: Database) -> None:
    position = _one(licences.licence_position(built, FIRST), "SQL Server", "core")
    # srv1 16 cores + vm1 4 vCPUs + lap1 8 cores = 28; vm2 has no count (flagged, not guessed).
    # Entitled 16 + 4 = 20: short 8, priced at the dearest entitlement 1250.00 (not 1000.00):
    # 8 x 1250.00 = 10000.00 EUR.
    assert (position.entitled, position.consumed, position.shortfall) == (20, 28, 8)
    assert position.unit_price == Decimal("1250.00")
    assert position.shortfall_cost == Decimal("10000.00")
    assert position.counted_units == ("LAP-000001: 8 cores", "SRV-000001: 16 cores",
                                      "VM-000001: 4 cores")
    notes = [n for line in position.installations for n in line.notes]
    assert notes == ["device VM-000002 has no core count: not counted"]


def test_subscription_entitles_only_within_its_term(built: Database) -> None:
    inside = _one(licences.licence_position(built, FIRST), "Photoshop", "subscription")
    # Within 2026-01-01..2026-06-30: 1 entitled, lap1 and lap2 consume 2: short 1 x 300.00.
    assert (inside.entitled, inside.consumed, inside.shortfall_cost) == (1, 2, Decimal("300.00"))
    last_day = _one(licences.licence_position(built, date(2026, 6, 30)), "Photoshop",
                    "subscription")
    assert last_day.entitled == 1
    # From 2026-07-01 the term has ended: nothing entitled, short 2 x 300.00 = 600.00.
    ended = _one(licences.licence_position(built, AFTER_TERM), "Photoshop", "subscription")
    assert (ended.entitled, ended.shortfall, ended.shortfall_cost) == (0, 2, Decimal("600.00"))
    assert ended.entitlements[0].note == "term ended 2026-06-30"


def test_site_counts_distinct_locations_and_concurrent_is_an_upper_bound(
        built: Database) -> None:
    report = licences.licence_position(built, FIRST)
    cad = _one(report, "CAD Suite", "site")
    # Utrecht (lap1) and Amsterdam (lap3); lap4 has no location (flagged, not counted):
    # 2 sites against 1, short 1 x 5000.00.
    assert (cad.entitled, cad.consumed, cad.shortfall_cost) == (1, 2, Decimal("5000.00"))
    assert cad.counted_units == ("Amsterdam", "Utrecht")
    assert "device LAP-000004 has no location: not counted" in [
        n for line in cad.installations for n in line.notes]
    project = _one(report, "Project", "concurrent")
    # Three installations are the upper bound of concurrent use: short 2 x 80.00 = 160.00.
    assert (project.entitled, project.consumed, project.shortfall_cost) == (
        1, 3, Decimal("160.00"))
    assert any("cannot observe concurrent use" in n for n in project.notes)


def test_installation_without_entitlement_is_a_shortfall_without_price(built: Database) -> None:
    visio = _one(licences.licence_position(built, FIRST), "Visio", "device")
    assert (visio.entitled, visio.consumed, visio.shortfall) == (0, 1, 1)
    assert visio.shortfall_cost is None and visio.unit_price is None
    assert "no entitlement for this product and metric" in visio.notes
    assert "no unit price registered: shortfall cost unknown" in visio.notes


def test_total_shortfall_cost_before_and_after_the_change(built: Database) -> None:
    # Before anything was registered there is nothing to report.
    empty = licences.licence_position(built, BEFORE)
    assert empty.positions == [] and empty.shortfall_costs == []
    # 2026-03-01: 200.00 + 120.50 + 10000.00 + 300.00 + 5000.00 + 160.00 = 15780.50 EUR
    # (Visio has no price and adds nothing).
    first = licences.licence_position(built, FIRST)
    assert [(t.currency, t.amount) for t in first.shortfall_costs] == [
        ("EUR", Decimal("15780.50"))]
    assert len(first.shortfalls) == 7
    # 2026-04-01: Acrobat 0, Office 241.00: 0 + 241.00 + 10000.00 + 300.00 + 5000.00 + 160.00
    # = 15701.00 EUR.
    second = licences.licence_position(built, SECOND)
    assert [(t.currency, t.amount) for t in second.shortfall_costs] == [
        ("EUR", Decimal("15701.00"))]


def test_retired_entitlement_entitles_nothing(db: Database) -> None:
    implement_normal_change(db, [
        _entitlement("a", "Tool", "device", 5, "10.00"),
        _entitlement("b", "Tool", "device", 3, "12.00"),
        _create("pc", "hardware.desktop", "pc", status="in_use"),
        *_install("i", "Tool", "pc", "a"),
    ], at("2026-02-01"))
    before = _one(licences.licence_position(db, date(2026, 2, 2)), "Tool", "device")
    assert (before.entitled, before.consumed) == (8, 1)  # 5 + 3
    implement_normal_change(db, [{"op": "set_status", "item": "ENT-000002",
                                  "status": "retired"}], at("2026-02-10"))
    after = _one(licences.licence_position(db, date(2026, 2, 11)), "Tool", "device")
    assert after.entitled == 5
    assert [line.note for line in after.entitlements] == [
        None, "status retired: entitles nothing"]


def test_product_position_and_bad_input(built: Database) -> None:
    detail = licences.product_position(built, " sql SERVER ", FIRST)
    assert detail.product == "SQL Server" and [p.metric for p in detail.positions] == ["core"]
    with pytest.raises(NotFound, match="Nothing"):
        licences.product_position(built, "Nothing", FIRST)
    with pytest.raises(InputError, match="as_of: '2026-02-30' is not a date"):
        parse_day("2026-02-30")
    with pytest.raises(InputError, match="as_of: '1700000000' is not a date"):
        parse_day("1700000000")
    assert parse_day(" 2026-02-28 ") == date(2026, 2, 28)
    assert parse_day("", default=FIRST) == FIRST


def test_position_is_read_in_three_queries(built: Database) -> None:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(built.engine, "before_cursor_execute", count)
    try:
        licences.licence_position(built, FIRST)
    finally:
        event.remove(built.engine, "before_cursor_execute", count)
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 3


def test_audit_export_lists_every_installation_and_entitlement(built: Database) -> None:
    report = licences.licence_position(built, SECOND)
    positions, entitlements, installations = licences.audit_sheets(report.positions,
                                                                        report.day)
    rows = {(r[1], r[3]): r for r in positions.rows}
    # Entitled, consumed, surplus, shortfall, unit price, currency, shortfall cost.
    assert rows[("SQL Server", "core")][4:11] == [20, 28, 0, 8, Decimal("1250.00"), "EUR",
                                                   Decimal("10000.00")]
    assert len(list(entitlements.rows)) == 7
    # 4 Acrobat + 5 Office + 4 SQL + 2 Photoshop + 3 CAD + 3 Project + 1 Visio = 22 lines, one
    # device each.
    lines = list(installations.rows)
    assert len(lines) == 22
    vm2 = next(r for r in lines if r[11] == "VM-000002")
    assert vm2[17] is None and "no core count" in vm2[-1]
    retired = [r for r in lines if r[2] == "device" and r[8] == "retired"]
    assert len(retired) == 2 and all(r[9] is False for r in retired)
    data, media, name = licences.audit_export(built, "csv", SECOND, table="installations")
    assert media.startswith("text/csv") and name == "licence-installations-2026-04-01.csv"
    assert data.decode("utf-8-sig").count("\r\n") == 23  # header + 22 lines
    with pytest.raises(licences.BadExport, match="table"):
        licences.audit_export(built, "csv", SECOND, table="nothing")
