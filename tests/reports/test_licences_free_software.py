"""Licence noise (issue 17, point 7) at the service layer, on SQLite and PostgreSQL: installations
of products whose software product is marked free, open source or bundled are no shortfall;
installations of unmarked products nobody is entitled to stay visible as their own line; marking
a product is a change (updating its software product, or registering one); and a database
installed before the class had ``licensing`` gets it from ``install_shipped``."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select, update

from bir.class_versions import ItemClassVersion
from bir.classes import ClassCatalogue, ItemClass
from bir.errors import ValidationFailed
from tests.support.helpers import at, implement_normal_change, to_realisation
from usm.services import changes, item_classes
from usm.services.platform import Database, install_shipped
from usm.services.reports import licences
from usm.services.reports.licences import Position
from usm.services.reports.licences.position import LicenceReport

DISCOVERED = date(2026, 5, 5)  # after the discovery import, before anything was marked
MARKED = date(2026, 5, 12)  # after the changes that mark Git and Node.js


def _create(ref: str, klass: str, name: str, **fields: Any) -> dict[str, Any]:
    return {"op": "create_item", "ref": ref, "class": klass, "name": name, "status": "in_use",
            **fields}


def _install(ref: str, product: str, device: str) -> list[dict[str, Any]]:
    return [_create(ref, "software.installation", f"{product} on {device}",
                    attributes={"product": product}),
            {"op": "add_relation", "kind": "installed_on", "source": f"@{ref}",
             "target": f"@{device}"}]


def _product(ref: str, product: str, **attributes: Any) -> dict[str, Any]:
    return _create(ref, "software.product", product, attributes={"product": product,
                                                                  **attributes})


def build_discovery(db: Database) -> None:
    """2026-05-04, as an import of two machines' installed programs registers them: pc1 and pc2
    with Git, Python and Node.js each, WinZip on pc1; nobody holds an entitlement of any of them.
    The catalogue knows Git (licensing not registered) and "python " (open source, and matched
    ignoring case and spaces); Node.js and WinZip are not in it. Office has an entitlement of 1
    (10.00 EUR) and is installed on both machines: a real shortfall of 1 x 10.00."""
    ops: list[dict[str, Any]] = [
        _create("pc1", "hardware.desktop", "pc1", owner="alice"),
        _create("pc2", "hardware.desktop", "pc2", owner="bob"),
        _product("git", "Git", vendor="Software Freedom Conservancy"),
        _product("py", "python ", licensing="open_source"),
        _create("off", "licence.entitlement", "Office device", currency="EUR",
                attributes={"product": "Office", "metric": "device", "quantity": 1,
                            "unit_price": "10.00"}),
    ]
    for device in ("pc1", "pc2"):
        for product in ("Git", "Python", "Node.js", "Office"):
            ops += _install(f"{product[:3].lower()}_{device}", product, device)
    ops += _install("zip", "WinZip", "pc1")
    implement_normal_change(db, ops, at("2026-05-04"), "Discovery import of pc1 and pc2")


def implement_registered(db: Database, key: str, day: str) -> None:
    """Run a registered normal change through CHM and implement it on ``day``."""
    start = at(day)
    to_realisation(db, key, start)
    changes.move_change(db, key, "implement", "carol", now=start + timedelta(minutes=90))


def _one(report: LicenceReport, product: str) -> Position:
    found = [p for p in report.positions if p.product == product]
    assert len(found) == 1, [(p.product, p.metric, p.kind) for p in report.positions]
    return found[0]


@pytest.fixture
def discovered(db: Database) -> Database:
    build_discovery(db)
    return db


def test_unmarked_products_without_entitlement_are_their_own_unlicensed_line(
        discovered: Database) -> None:
    report = licences.licence_position(discovered, DISCOVERED)
    # Python's software product says open source: installed on 2 devices, never short; the
    # shortfalls are Office's real one and the three products nobody is entitled to.
    assert _one(report, "Python").shortfall == 0
    assert [p.product for p in report.shortfalls] == ["Git", "Node.js", "Office", "WinZip"]
    # Git, Node.js (2 devices each) and WinZip (pc1) are installed without any entitlement:
    # each counted device is short, without a price; Python's software product says open
    # source: no shortfall at all.
    assert [(p.product, p.installed, p.shortfall) for p in report.unlicensed] == [
        ("Git", 2, 2), ("Node.js", 2, 2), ("WinZip", 1, 1)]
    assert all(p.kind == "unlicensed" and p.needs_licence and p.shortfall_cost is None
               for p in report.unlicensed)
    git = _one(report, "Git")
    assert git.product_items == ("SWP-000001",) and git.licensing is None
    assert _one(report, "Node.js").product_items == ()
    # They stay in the shortfalls (a compliance risk), apart from the entitled positions.
    assert [p.product for p in report.entitled_positions] == ["Office"]
    # Only Office's shortfall is priced: 1 x 10.00.
    assert [(t.currency, t.amount) for t in report.shortfall_costs] == [("EUR", Decimal("10.00"))]

    python = _one(report, "Python")
    assert (python.kind, python.needs_licence, python.licensing) == (
        "no_licence_needed", False, "open_source")
    assert (python.entitled, python.consumed, python.installed, python.shortfall) == (0, 2, 2, 0)
    assert python.shortfall_cost is None and python.balance == 0
    assert "needs no licence (open source, SWP-000002): not a shortfall" in python.notes
    assert report.needing_no_licence == [python]


def test_marking_git_and_node_as_open_source_is_a_change_and_ends_their_shortfall(
        discovered: Database) -> None:
    # Git's software product is updated; Node.js has none, so the change registers one.
    git = licences.register_licensing_change(discovered, "carol", " git ", "open_source",
                                             now=at("2026-05-06"))
    node = licences.register_licensing_change(discovered, "carol", "Node.js", "open_source",
                                              vendor="OpenJS Foundation", now=at("2026-05-06"))
    assert git.title == "Mark git as needing no licence (open source)"
    [update] = changes.change_detail(discovered, git.key).operations
    assert (update["op"], update["item"], update["attributes"]) == (
        "update_item", "SWP-000001", {"licensing": "open_source"})
    [create] = changes.change_detail(discovered, node.key).operations
    assert (create["op"], create["class"], create["attributes"]) == (
        "create_item", "software.product",
        {"product": "Node.js", "licensing": "open_source", "vendor": "OpenJS Foundation"})
    # Registered is not implemented: the position does not move yet.
    assert len(licences.licence_position(discovered, date(2026, 5, 7)).unlicensed) == 3

    implement_registered(discovered, git.key, "2026-05-08")
    implement_registered(discovered, node.key, "2026-05-08")
    report = licences.licence_position(discovered, MARKED)
    assert [(p.product, p.licensing, p.installed, p.shortfall) for p in
            report.needing_no_licence] == [("Git", "open_source", 2, 0),
                                            ("Node.js", "open_source", 2, 0),
                                            ("Python", "open_source", 2, 0)]
    assert _one(report, "Node.js").product_items == ("SWP-000003",)
    # WinZip, not marked, is still there on its own line; Office still short.
    assert [p.product for p in report.unlicensed] == ["WinZip"]
    assert [p.product for p in report.shortfalls] == ["Office", "WinZip"]
    # The register as it stood before the changes still shows what it showed then.
    before = licences.licence_position(discovered, DISCOVERED)
    assert [p.product for p in before.unlicensed] == ["Git", "Node.js", "WinZip"]


def test_a_marked_product_is_never_short_whatever_its_entitlements(db: Database) -> None:
    # Entitled 1 (bundled with the hardware, as it happens), installed on 3 machines, marked
    # bundled: no shortfall, no cost; a product marked commercial keeps its shortfall.
    ops: list[dict[str, Any]] = [
        _product("p", "Driver Tool", licensing="bundled"),
        _product("c", "Paid Tool", licensing="commercial"),
        *(_create(f"d{i}", "hardware.desktop", f"d{i}") for i in range(3)),
        *(_create(f"e{name[0]}", "licence.entitlement", name, currency="EUR",
                  attributes={"product": name, "metric": "device", "quantity": 1,
                              "unit_price": "25.00"}) for name in ("Driver Tool", "Paid Tool")),
    ]
    for i in range(3):
        ops += _install(f"i{i}", "Driver Tool", f"d{i}") + _install(f"j{i}", "Paid Tool", f"d{i}")
    implement_normal_change(db, ops, at("2026-02-01"))
    report = licences.licence_position(db, date(2026, 2, 2))
    tool = _one(report, "Driver Tool")
    assert (tool.kind, tool.entitled, tool.consumed, tool.shortfall, tool.surplus) == (
        "no_licence_needed", 1, 3, 0, 0)
    assert tool.shortfall_cost == Decimal("0.00")
    paid = _one(report, "Paid Tool")
    assert (paid.kind, paid.licensing, paid.shortfall, paid.shortfall_cost) == (
        "entitled", "commercial", 2, Decimal("50.00"))
    assert [(t.currency, t.amount) for t in report.shortfall_costs] == [("EUR", Decimal("50.00"))]


def test_software_products_that_disagree_leave_the_product_needing_a_licence(
        db: Database) -> None:
    implement_normal_change(db, [
        _product("a", "7-Zip", licensing="free"), _product("b", "7-zip"),
        _create("pc", "hardware.desktop", "pc"), *_install("i", "7-Zip", "pc"),
    ], at("2026-02-01"))
    zip7 = _one(licences.licence_position(db, date(2026, 2, 2)), "7-Zip")
    assert (zip7.kind, zip7.licensing, zip7.shortfall) == ("unlicensed", None, 1)
    assert zip7.licensing_note == ("its software products disagree on licensing (SWP-000001 "
                                   "(free), SWP-000002 (not registered)): counted as needing a "
                                   "licence")
    # One change marks both (and so settles the disagreement).
    key = licences.register_licensing_change(db, "carol", "7-ZIP", "free",
                                             now=at("2026-02-03")).key
    assert [op["item"] for op in changes.change_detail(db, key).operations] == [
        "SWP-000001", "SWP-000002"]
    implement_registered(db, key, "2026-02-04")
    assert _one(licences.licence_position(db, date(2026, 2, 5)), "7-Zip").kind == (
        "no_licence_needed")


def test_a_licensing_change_names_what_is_wrong(db: Database) -> None:
    with pytest.raises(ValidationFailed) as refused:
        licences.register_licensing_change(db, "carol", "  ", "gratis")
    assert [(e.field, e.message) for e in refused.value.errors] == [
        ("product", "is required"),
        ("licensing", "must be one of commercial, free, open_source, bundled, not 'gratis'")]
    # The class refuses a licensing it does not know, whoever writes it.
    with pytest.raises(ValidationFailed, match="licensing"):
        implement_normal_change(db, [_product("x", "Tool", licensing="gratis")],
                                at("2026-02-01"))


def test_a_database_installed_before_licensing_existed_gets_it_on_upgrade(db: Database) -> None:
    """``usm db upgrade`` runs ``install_shipped``: a software product class still as an older
    release shipped it (no ``licensing``) is published again as the shipped class now is."""
    old = [a for a in _spec(db)["attributes"] if a["name"] != "licensing"]
    with db.transaction() as session:
        session.execute(update(ItemClassVersion).where(
            ItemClassVersion.code == "software.product").values(
            spec={**_spec(db), "attributes": old}))
        session.execute(update(ItemClass).where(ItemClass.code == "software.product")
                        .values(attributes=old))
    with db.reading() as session:
        assert "licensing" not in ClassCatalogue.load(session).specs("software.product")

    assert "software.product" in install_shipped(db).classes_updated
    with db.reading() as session:
        licensing = ClassCatalogue.load(session).specs("software.product")["licensing"]
    assert licensing.allowed == ["commercial", "free", "open_source", "bundled"]
    assert item_classes.class_version(db, "software.product", 2).status == "published"
    assert install_shipped(db).classes_updated == [], "installing again changes nothing"
    implement_normal_change(db, [_product("g", "Git", licensing="open_source")],
                            at("2026-02-01"))


def _spec(db: Database) -> dict[str, Any]:
    with db.reading() as session:
        return dict(session.scalars(select(ItemClassVersion).where(
            ItemClassVersion.code == "software.product", ItemClassVersion.version == 1)).one().spec)


def test_the_audit_export_says_what_each_position_is(discovered: Database) -> None:
    report = licences.licence_position(discovered, DISCOVERED)
    positions = licences.audit_sheets(report.positions, report.day)[0]
    assert list(positions.headers[-2:]) == ["Kind", "Licensing"]
    assert {r[1]: (r[7], r[-2], r[-1]) for r in positions.rows} == {
        "Git": (2, "installed without any entitlement", None),
        "Node.js": (2, "installed without any entitlement", None),
        "Office": (1, "entitled", None),
        "Python": (0, "needs no licence", "open_source"),
        "WinZip": (1, "installed without any entitlement", None)}
