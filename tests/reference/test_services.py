"""Reference data (issue 23): administrators keep people, locations and cost centres; change sets
may set only their active codes once a kind has any; a rename never splits a report; a merge moves
the items through one change. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.support.helpers import (
    at,
    implement_normal_change,
    laptop,
    normal_change_in_realisation,
    reference_values,
)
from usm.audit_log import AuditEntry
from usm.services import changes, reference, register, reports
from usm.services.accounts import add_user
from usm.services.audit_log import Origin
from usm.services.errors import NotFound, ValidationFailed
from usm.services.platform import Database

ADA = Origin("ada")


def _centres(db: Database) -> None:
    reference_values(db, "cost_centre", ("CC-100", "Finance"), ("CC-200", "Sales"),
                     ("CC-300", "IT"))


def _messages(exc: pytest.ExceptionInfo[ValidationFailed]) -> list[str]:
    return [str(e) for e in exc.value.errors]


def _actions(db: Database) -> list[tuple[str, str | None]]:
    with db.reading() as session:
        return [(e.action, e.target) for e in session.scalars(
            select(AuditEntry).where(AuditEntry.action.like("reference.%"))
            .order_by(AuditEntry.id))]


def test_add_rename_retire_and_reactivate_are_recorded_in_the_audit_log(db: Database) -> None:
    added = reference.add_value(db, ADA, "cost_centre", " CC-100 ", "Finance")
    assert (added.code, added.name, added.label, added.active) == (
        "CC-100", "Finance", "Finance (CC-100)", True)
    renamed = reference.update_value(db, ADA, "cost_centre", "cc-100", name="Finance & Control")
    assert (renamed.code, renamed.name) == ("CC-100", "Finance & Control")
    assert not reference.update_value(db, ADA, "cost_centre", "CC-100", active=False).active
    assert reference.update_value(db, ADA, "cost_centre", "CC-100", active=True).active
    assert _actions(db) == [("reference.created", "cost_centre:CC-100"),
                            ("reference.renamed", "cost_centre:CC-100"),
                            ("reference.retired", "cost_centre:CC-100"),
                            ("reference.activated", "cost_centre:CC-100")]


def test_a_code_is_unique_per_kind_whatever_its_case(db: Database) -> None:
    reference.add_value(db, ADA, "cost_centre", "CC-100", "Finance")
    with pytest.raises(ValidationFailed) as exc:
        reference.add_value(db, ADA, "cost_centre", "cc-100", "Other")
    assert _messages(exc) == ["code: there is already a cost centre 'CC-100' (Finance)"]
    reference.add_value(db, ADA, "location", "CC-100")  # another kind: its own list
    with pytest.raises(NotFound):
        reference.add_value(db, ADA, "supplier", "X")
    with pytest.raises(ValidationFailed) as exc:
        reference.add_value(db, ADA, "person", "", None)
    assert "code: is required" in _messages(exc)


def test_links_go_to_a_user_for_a_person_and_a_building_for_a_location(db: Database) -> None:
    implement_normal_change(db, [{"op": "create_item", "ref": "hq", "class": "building",
                                  "name": "Head office"}, laptop("l", "SN-LINK-1")],
                            at("2026-03-02"))
    assert reference.add_value(db, ADA, "person", "Sam", username="sam").username == "sam"
    assert reference.add_value(db, ADA, "location", "HQ", "Head office",
                               item_key="bld-000001").item_key == "BLD-000001"
    with pytest.raises(ValidationFailed) as exc:
        reference.add_value(db, ADA, "location", "Desk", item_key="LAP-000001")
    assert _messages(exc) == ["item_key: LAP-000001 is a hardware.laptop item, not a building"]
    with pytest.raises(ValidationFailed) as exc:
        reference.add_value(db, ADA, "person", "Nobody", username="nobody")
    assert _messages(exc) == ["username: no user 'nobody'"]
    # The lookup finds a location by its building's key too.
    assert [m.code for m in reference.lookup(db, "location", "bld-0000")] == ["HQ"]


def test_an_unknown_cost_centre_is_refused_at_registration_with_the_closest_value(
        db: Database) -> None:
    _centres(db)
    with pytest.raises(ValidationFailed) as exc:
        changes.register_change(db, "carol", model="normal-change", title="Typo",
                                operations=[laptop("a", "SN-REF-1", cost_centre="FIN-100")])
    assert _messages(exc) == ["operations[0].cost_centre: 'FIN-100' is not a known cost centre; "
                              "did you mean 'CC-100' (Finance)?"]


def test_a_known_value_is_matched_in_any_case_and_stored_as_its_code(db: Database) -> None:
    _centres(db)
    key = implement_normal_change(db, [laptop("a", "SN-REF-2", cost_centre=" cc-200 ",
                                              owner="whoever")], at("2026-03-02"))
    item = register.item_view(db, "LAP-000001")
    # cost centres are closed (they have values); people have none yet, so the owner is open
    assert item.core["cost_centre"] == "CC-200" and item.core["owner"] == "whoever"
    assert changes.change_detail(db, key).operations[0]["fields"]["cost_centre"] == "CC-200"


def test_a_retired_value_stays_on_its_items_but_cannot_be_newly_set(db: Database) -> None:
    _centres(db)
    implement_normal_change(db, [laptop("a", "SN-REF-3", cost_centre="CC-300"),
                                 laptop("b", "SN-REF-4", cost_centre="CC-100")],
                            at("2026-03-02"))
    reference.update_value(db, ADA, "cost_centre", "CC-300", active=False)
    with pytest.raises(ValidationFailed) as exc:
        changes.register_change(db, "carol", model="normal-change", title="Move",
                                operations=[{"op": "update_item", "item": "LAP-000002",
                                             "cost_centre": "CC-300"}])
    assert _messages(exc)[0].startswith(
        "operations[0].cost_centre: 'CC-300' is a retired cost centre; it stays on the items "
        "that hold it but cannot be newly set")
    # The item that holds it keeps it through other edits, even one that repeats it.
    implement_normal_change(db, [{"op": "update_item", "item": "LAP-000001", "name": "Renamed",
                                  "cost_centre": "CC-300"}], at("2026-03-03"))
    assert register.item_view(db, "LAP-000001").core["cost_centre"] == "CC-300"
    # Clearing is always allowed.
    implement_normal_change(db, [{"op": "update_item", "item": "LAP-000001",
                                  "cost_centre": None}], at("2026-03-04"))
    assert register.item_view(db, "LAP-000001").core["cost_centre"] is None


def test_a_value_retired_before_implementation_is_refused_there(db: Database) -> None:
    _centres(db)
    when = at("2026-03-02")
    key = normal_change_in_realisation(db, [laptop("a", "SN-REF-5", cost_centre="CC-200")], when)
    reference.update_value(db, ADA, "cost_centre", "CC-200", active=False)
    with pytest.raises(ValidationFailed) as exc:
        changes.move_change(db, key, "implement", "carol", now=when + timedelta(hours=1))
    assert "operations[0].cost_centre: 'CC-200' is a retired cost centre" in str(exc.value)
    assert register.list_items(db)[1] == 0  # nothing registered


def test_a_rename_does_not_split_the_cost_centre_report(db: Database) -> None:
    _centres(db)
    implement_normal_change(db, [laptop("a", "SN-REF-6", cost_centre="CC-100",
                                        purchase_cost="1000.00", currency="EUR")],
                            at("2026-01-05"))
    reference.update_value(db, ADA, "cost_centre", "CC-100", name="Finance and Control")
    implement_normal_change(db, [laptop("b", "SN-REF-7", cost_centre="CC-100",
                                        purchase_cost="500.00", currency="EUR")],
                            at("2026-02-05"))
    report = reports.book_values(db, at("2026-03-01"))
    assert [(g.group, g.label, g.items) for g in report.by_cost_centre] == [
        ("CC-100", "Finance and Control (CC-100)", 2)]


def test_a_merge_registers_one_change_for_every_item_and_retires_the_value(db: Database) -> None:
    reference_values(db, "cost_centre", ("CC-100", "Finance"), ("FIN-100", "Finance (typo)"),
                     ("CC-200", "Sales"))
    implement_normal_change(db, [laptop(f"l{n}", f"SN-MERGE-{n}", cost_centre="FIN-100")
                                 for n in range(3)]
                            + [laptop("o", "SN-MERGE-X", cost_centre="CC-200")], at("2026-03-02"))
    before = len(changes.list_changes(db, open_only=False, limit=500))
    merged = reference.merge_values(db, ADA, "cost_centre", "fin-100", "CC-100")
    assert (merged.source, merged.target, merged.items) == ("FIN-100", "CC-100", 3)
    carried = merged.carried
    assert carried is not None and not carried.reached and carried.state == "registered"
    assert carried.blocked  # ada is no coordinator: the change waits for one
    assert len(changes.list_changes(db, open_only=False, limit=500)) == before + 1
    detail = changes.change_detail(db, carried.key)
    assert detail.summary.model == "standard-change"
    assert sorted(op["item"] for op in detail.operations) == [
        "LAP-000001", "LAP-000002", "LAP-000003"]
    assert all(op["fields"] == {"cost_centre": "CC-100"} for op in detail.operations)
    row = reference.get_value(db, "cost_centre", "FIN-100")
    assert not row.active and row.merged_into == "CC-100"
    assert ("reference.merged", "cost_centre:FIN-100") in _actions(db)
    # A coordinator carries it on; the register then holds the kept value only.
    for trigger in ("check", "confirm_standard", "start", "implement"):
        changes.move_change(db, carried.key, trigger, "carol")
    rows, _ = register.list_items(db)
    assert sorted(r.cost_centre for r in rows) == ["CC-100", "CC-100", "CC-100", "CC-200"]


def test_an_administrator_who_coordinates_too_merges_in_one_action(db: Database) -> None:
    add_user(db, "max", "correct-horse-battery", ["administrator", "change_coordinator"])
    reference_values(db, "person", "Ann", "Anne")
    implement_normal_change(db, [laptop("a", "SN-MERGE-A", owner="Anne")], at("2026-03-02"))
    merged = reference.merge_values(db, Origin("max"), "person", "Anne", "Ann")
    assert merged.carried is not None and merged.carried.reached
    assert merged.carried.step == "closed"
    assert register.item_view(db, "LAP-000001").core["owner"] == "Ann"


def test_a_merge_without_items_registers_no_change(db: Database) -> None:
    reference_values(db, "location", "Utrecht", "Utrecht HQ")
    merged = reference.merge_values(db, ADA, "location", "Utrecht HQ", "Utrecht")
    assert merged.carried is None and merged.items == 0
    assert reference.get_value(db, "location", "Utrecht HQ").merged_into == "Utrecht"
    with pytest.raises(ValidationFailed):
        reference.merge_values(db, ADA, "location", "Utrecht", "Utrecht")


def test_the_page_counts_the_items_using_each_value_and_pages_by_name(db: Database) -> None:
    _centres(db)
    implement_normal_change(db, [laptop("a", "SN-PAGE-1", cost_centre="CC-300"),
                                 laptop("b", "SN-PAGE-2", cost_centre="CC-300")],
                            at("2026-03-02"))
    first = reference.reference_page(db, "cost_centre", limit=2)
    assert [(r.name, r.uses) for r in first.rows] == [("Finance", 0), ("IT", 2)]
    assert first.total == 3 and first.next_cursor
    second = reference.reference_page(db, "cost_centre", limit=2, cursor=first.next_cursor)
    assert [r.name for r in second.rows] == ["Sales"] and second.next_cursor is None
    assert [r.code for r in reference.reference_page(db, "cost_centre", q="sal").rows] == [
        "CC-200"]
    assert reference.reference_page(db, "person").kind_total == 0


def test_the_lookup_gives_at_most_20_active_values(db: Database) -> None:
    reference_values(db, "person", *(f"Person {n:02d}" for n in range(30)))
    reference.update_value(db, ADA, "person", "Person 05", active=False)
    found = reference.lookup(db, "person", "person")
    assert len(found) == 20 and "Person 05" not in [m.code for m in found]
    assert [m.code for m in reference.lookup(db, "person", "PERSON 1")] == [
        f"Person {n}" for n in range(10, 20)]
