"""The change services behind the coordinator's screens: the queue and its filters, the calendar,
comments, the change set read against the register, editing a change set, and the form spec and
rows of the new-change form. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.support.helpers import at, implement_normal_change, laptop
from tests.support.hostile_yaml import alias_bomb
from usm.services import changes
from usm.services.changes import ChangeFilter, ChangeSetRows
from usm.services.platform import Database
from usm.services.register import list_items


def register(db: Database, operations: list[dict[str, Any]], *, model: str = "normal-change",
             title: str = "Test change", when: str = "2026-03-02", **details: Any) -> str:
    return changes.register_change(db, "carol", model=model, title=title, operations=operations,
                                   now=at(when), **details).key


def count_changes(db: Database) -> int:
    return len(changes.list_changes(db, open_only=False, limit=500))


# The queue


def test_queue_filters_by_step_model_class_coordinator_and_mine(db: Database) -> None:
    normal = register(db, [laptop("a", "SN-1")], coordinator="carol")
    receipt = register(db, [laptop("a", "SN-2")], model="hardware-receipt",
                       fields={"purchase_order": "PO-1"})
    changes.move_change(db, normal, "assess", "carol", now=at("2026-03-02", 10))

    def keys(**kwargs: Any) -> list[str]:
        return [r.key for r in changes.change_queue(db, ChangeFilter(**kwargs),
                                                    now=at("2026-03-02", 11)).rows]

    assert keys() == [receipt, normal]  # newest first
    assert keys(step="assessment") == [normal]
    assert keys(model="hardware-receipt") == [receipt]
    assert keys(change_class="standard") == [receipt]
    assert keys(change_class="normal") == [normal]
    assert keys(coordinator="carol") == [normal]
    assert keys(involving="carol") == [receipt, normal]  # carol requested both
    assert keys(involving="sam") == []

    queue = changes.change_queue(db, ChangeFilter(step="assessment"), now=at("2026-03-02", 11))
    counts = {step: n for step, _label, n in queue.by_step}
    assert counts["assessment"] == 1 and counts["registration"] == 1  # counts ignore the step
    assert queue.total == 1
    assert ("hardware-receipt", "Hardware receipt") in queue.models
    assert queue.coordinators == ["carol"]


def test_queue_overdue_is_against_the_state_time_target(db: Database) -> None:
    normal = register(db, [laptop("a", "SN-1")])  # registered: target 24 hours
    receipt = register(db, [laptop("a", "SN-2")], model="hardware-receipt")  # received: 8 hours

    ten_hours = at("2026-03-02", 19)
    overdue = changes.change_queue(db, ChangeFilter(overdue_only=True), now=ten_hours)
    assert [r.key for r in overdue.rows] == [receipt]
    assert overdue.rows[0].overdue and overdue.rows[0].due_at == at("2026-03-02", 17)

    two_days = at("2026-03-04", 12)
    assert {r.key for r in changes.change_queue(
        db, ChangeFilter(overdue_only=True), now=two_days).rows} == {receipt, normal}


def test_queue_pages_by_key_and_hides_closed_unless_asked(db: Database) -> None:
    keys = [register(db, [laptop(f"a{i}", f"SN-{i}")]) for i in range(5)]
    changes.move_change(db, keys[0], "withdraw", "carol", now=at("2026-03-02", 10))

    first = changes.change_queue(db, limit=2)
    second = changes.change_queue(db, after=first.next_after, limit=2)
    assert [r.key for r in first.rows] == [keys[4], keys[3]] and first.next_after == keys[3]
    assert [r.key for r in second.rows] == [keys[2], keys[1]] and second.next_after is None
    assert first.total == 4
    assert changes.change_queue(db, ChangeFilter(open_only=False)).total == 5


# The calendar


def test_planned_windows_overlap_the_range_and_leave_out_ended_changes(db: Database) -> None:
    inside = register(db, [laptop("a", "SN-1")], planned_start=at("2026-04-10", 18),
                      planned_end=at("2026-04-10", 22))
    across = register(db, [laptop("a", "SN-2")], planned_start=at("2026-03-31", 20),
                      planned_end=at("2026-04-01", 2))
    register(db, [laptop("a", "SN-3")], planned_start=at("2026-05-01", 18),
             planned_end=at("2026-05-01", 20))
    withdrawn = register(db, [laptop("a", "SN-4")], planned_start=at("2026-04-12", 18),
                         planned_end=at("2026-04-12", 20))
    changes.move_change(db, withdrawn, "withdraw", "carol", now=at("2026-03-03"))

    entries = changes.planned_windows(db, at("2026-04-01", 0), at("2026-05-01", 0))

    assert [e.summary.key for e in entries] == [across, inside]
    assert entries[1].start == at("2026-04-10", 18) and entries[1].end == at("2026-04-10", 22)


# Comments


def test_comments_are_kept_in_order_and_do_not_version_the_change(db: Database) -> None:
    key = register(db, [laptop("a", "SN-1")])
    version = changes.change_summary(db, key).version

    changes.add_comment(db, key, "sam", "  Which floor?  ", expected_version=version,
                        now=at("2026-03-02", 10))
    changes.add_comment(db, key, "carol", "Second floor.", now=at("2026-03-02", 11))

    detail = changes.change_detail(db, key)
    assert [(c.author, c.body) for c in detail.comments] == [
        ("sam", "Which floor?"), ("carol", "Second floor.")]
    assert detail.summary.version == version


def test_empty_comment_and_stale_comment_are_refused_and_write_nothing(db: Database) -> None:
    key = register(db, [laptop("a", "SN-1")])
    version = changes.change_summary(db, key).version
    changes.move_change(db, key, "assess", "carol", now=at("2026-03-02", 10))

    with pytest.raises(changes.ValidationFailed) as failed:
        changes.add_comment(db, key, "carol", "   ")
    assert failed.value.errors[0].field == "body"
    with pytest.raises(changes.ChangeConflict, match="changed by someone else"):
        changes.add_comment(db, key, "carol", "Go ahead", expected_version=version)
    assert changes.change_detail(db, key).comments == []


def test_stale_approval_is_a_conflict(db: Database) -> None:
    key = register(db, [laptop("a", "SN-1")])
    changes.move_change(db, key, "assess", "carol", now=at("2026-03-02", 10))
    changes.update_change(db, key, "carol", {"risk": "low", "impact": "none"})
    moved = changes.move_change(db, key, "submit_for_approval", "carol", now=at("2026-03-02", 11))
    changes.add_comment(db, key, "carol", "please look")  # a comment does not make a form stale

    changes.update_change(db, key, "carol", {"impact": "one user"})
    with pytest.raises(changes.ChangeConflict):
        changes.approve_change(db, key, "sam", expected_version=moved.version)
    assert changes.change_detail(db, key).approvals == []


# Details


def test_register_names_every_problem_at_once_and_writes_nothing(db: Database) -> None:
    with pytest.raises(changes.ValidationFailed) as failed:
        register(db, [laptop("a", "SN-1", purchase_cost="12.345"), {"op": "set_status",
                                                                     "item": "LAP-999999",
                                                                     "status": "in_use"}],
                 title="x", coordinator="mallory", planned_start=at("2026-04-10", 20),
                 planned_end=at("2026-04-10", 18), cost_estimate="10", currency=None)

    fields = {e.field for e in failed.value.errors}
    assert {"title", "coordinator", "planned_end", "operations[0].purchase_cost",
            "operations[1].item"} <= fields
    assert count_changes(db) == 0


def test_register_with_no_operations_and_bad_details_names_both(db: Database) -> None:
    with pytest.raises(changes.ValidationFailed) as failed:
        register(db, [], title="x")
    assert {e.field for e in failed.value.errors} == {"title", "operations"}
    with pytest.raises(changes.NotAChange):
        register(db, [])


def test_cost_without_currency_is_refused(db: Database) -> None:
    key = register(db, [laptop("a", "SN-1")])
    with pytest.raises(changes.ValidationFailed) as failed:
        changes.update_change(db, key, "carol", {"cost_estimate": "100.00", "currency": None})
    assert [e.field for e in failed.value.errors] == ["currency"]


# The change set against the register


def test_diff_before_implementation_compares_with_the_register_now(db: Database) -> None:
    implement_normal_change(db, [laptop("a", "SN-1", owner="alice", attributes={"cores": 8}),
                                 {"op": "create_item", "ref": "b", "class": "building",
                                  "name": "HQ"}], at("2026-01-10"))
    key = register(db, [
        {"op": "update_item", "item": "LAP-000001", "owner": "bob", "attributes": {"cores": 16}},
        {"op": "create_item", "ref": "m", "class": "hardware.monitor", "name": "Monitor 1"},
        {"op": "add_relation", "kind": "located_in", "source": "@m", "target": "BLD-000001"},
        {"op": "set_status", "item": "LAP-000001", "status": "in_stock"},
    ])

    update, create, relation, status = changes.change_detail(db, key).diff

    assert update.title == "Update item" and update.item.key == "LAP-000001"
    assert [(v.field, v.label, v.old, v.new) for v in update.values] == [
        ("owner", None, "alice", "bob"), ("attributes.cores", "CPU cores", 8, 16)]
    assert create.item.ref == "m" and create.item.key is None
    assert ("name", None, "Monitor 1") in [(v.field, v.old, v.new) for v in create.values]
    assert relation.relation == "located in"
    assert relation.source.text == "@m Monitor 1" and relation.target.text == "BLD-000001 HQ"
    assert [(v.old, v.new) for v in status.values] == [("planned", "in_stock")]
    assert update.note is None


def test_diff_warns_when_the_item_changed_since_planning(db: Database) -> None:
    implement_normal_change(db, [laptop("a", "SN-1", owner="alice")], at("2026-01-10"))
    pending = register(db, [{"op": "update_item", "item": "LAP-000001", "location": "Room 1"}],
                       when="2026-01-11")
    implement_normal_change(db, [{"op": "update_item", "item": "LAP-000001", "owner": "bob"}],
                            at("2026-01-20"))

    (update,) = changes.change_detail(db, pending).diff
    assert update.note is not None and "version 1, now 2" in update.note


def test_diff_after_implementation_shows_the_item_before_and_the_new_keys(db: Database) -> None:
    implement_normal_change(db, [laptop("a", "SN-1", owner="alice")], at("2026-01-10"))
    key = implement_normal_change(db, [
        {"op": "update_item", "item": "LAP-000001", "owner": "bob"},
        laptop("n", "SN-2"), laptop("o", "SN-3"),
        {"op": "add_relation", "kind": "part_of", "source": "@o", "target": "LAP-000001"},
    ], at("2026-02-10"))
    implement_normal_change(db, [{"op": "update_item", "item": "LAP-000001", "owner": "carl"}],
                            at("2026-03-10"))

    update, first, second, relation = changes.change_detail(db, key).diff

    assert [(v.old, v.new) for v in update.values] == [("alice", "bob")]  # not today's carl
    assert (first.item.key, second.item.key) == ("LAP-000002", "LAP-000003")
    assert relation.source.key == "LAP-000003" and relation.source.ref == "o"


# Editing the change set


def test_replace_change_set_replans_and_keeps_base_versions_of_kept_operations(
        db: Database) -> None:
    implement_normal_change(db, [laptop("a", "SN-1"), laptop("b", "SN-2")], at("2026-01-10"))
    key = register(db, [{"op": "update_item", "item": "LAP-000001", "owner": "bob"}],
                   when="2026-01-11")
    implement_normal_change(db, [{"op": "update_item", "item": "LAP-000001", "location": "HQ"}],
                            at("2026-01-20"))
    version = changes.change_summary(db, key).version

    changes.replace_change_set(db, key, "carol", [
        {"op": "update_item", "item": "LAP-000001", "owner": "bob"},
        {"op": "update_item", "item": "LAP-000002", "owner": "dana"},
    ], expected_version=version, now=at("2026-01-21"))

    detail = changes.change_detail(db, key)
    assert [op["base_version"] for op in detail.operations] == [1, 1]
    assert detail.diff[0].note is not None  # LAP-000001 moved to version 2 meanwhile
    assert detail.log[-1].trigger == "edit_change_set"
    assert "2 operation(s), was 1" in (detail.log[-1].comment or "")


def test_replace_change_set_validates_and_writes_nothing_when_wrong(db: Database) -> None:
    key = register(db, [laptop("a", "SN-1")], model="hardware-receipt")
    before = changes.change_detail(db, key).operations

    with pytest.raises(changes.ValidationFailed) as failed:
        changes.replace_change_set(db, key, "carol", [
            laptop("a", "SN-1"),
            {"op": "create_item", "class": "software.installation", "name": "Office",
             "attributes": {"product": "Office"}},
        ])
    assert [e.field for e in failed.value.errors] == ["operations[1].class"]
    with pytest.raises(changes.NotAChange):
        changes.replace_change_set(db, key, "carol", [])
    assert changes.change_detail(db, key).operations == before


def test_replace_change_set_only_before_authorisation_and_not_when_stale(db: Database) -> None:
    key = register(db, [laptop("a", "SN-1")])
    version = changes.change_summary(db, key).version
    changes.move_change(db, key, "assess", "carol", now=at("2026-03-02", 10))

    with pytest.raises(changes.ChangeConflict):
        changes.replace_change_set(db, key, "carol", [laptop("a", "SN-9")],
                                   expected_version=version)
    changes.update_change(db, key, "carol", {"risk": "low", "impact": "none"})
    changes.move_change(db, key, "submit_for_approval", "carol", now=at("2026-03-02", 11))
    with pytest.raises(changes.ChangeError, match="only in registration or assessment"):
        changes.replace_change_set(db, key, "carol", [laptop("a", "SN-9")])
    assert changes.change_detail(db, key).operations[0]["fields"]["serial_number"] == "SN-1"


def test_implementing_an_edited_change_set_registers_the_edit(db: Database) -> None:
    key = register(db, [laptop("a", "SN-1")], when="2026-03-01")
    changes.replace_change_set(db, key, "carol", [laptop("a", "SN-EDITED", owner="erin")],
                               now=at("2026-03-01", 10))
    for trigger, hour in (("assess", 11), ("submit_for_approval", 13)):
        if trigger == "submit_for_approval":
            changes.update_change(db, key, "carol", {
                "risk": "low", "impact": "none", "planned_start": at("2026-03-02", 8),
                "planned_end": at("2026-03-02", 10)})
        changes.move_change(db, key, trigger, "carol", now=at("2026-03-01", hour))
    changes.approve_change(db, key, "sam", now=at("2026-03-01", 14))
    for trigger, when in (("start_build", at("2026-03-01", 16)), ("implement", at("2026-03-02", 9))):
        changes.move_change(db, key, trigger, "carol", now=when)

    items, total = list_items(db)
    assert total == 1 and (items[0].owner, items[0].key) == ("erin", "LAP-000001")


# The form spec and rows of the new-change form


def test_form_spec_limits_classes_and_offers_their_attributes(db: Database) -> None:
    spec = changes.form_spec(db, "hardware-receipt")

    codes = [c.code for c in spec.classes]
    assert "hardware.laptop" in codes and "network.switch" in codes
    assert "hardware" not in codes and "software.installation" not in codes  # abstract, outside
    server = spec.klass("hardware.server")
    assert server is not None
    cores = next(a for a in server.attributes if a.name == "cores")
    assert cores.required and cores.type == "integer"
    assert {a.name for a in server.attributes} >= {"memory_gb", "cpu"}  # inherited too
    assert [f.name for f in spec.fields] == ["purchase_order", "delivery_note", "ordered_on",
                                             "delivered_on"]
    assert spec.sections() == ["create", "status", "relation"]
    assert ("attributes.cores", "CPU cores") in spec.update_fields
    with pytest.raises(changes.ModelNotFound):
        changes.form_spec(db, "no-such-model")


def test_list_models_offers_the_latest_published_version(db: Database) -> None:
    models = {m.code: m for m in changes.list_models(db)}
    assert models["hardware-receipt"].pre_authorised
    assert not models["normal-change"].pre_authorised
    assert models["software-installation"].classes == ["software", "licence"]


def test_rows_make_operations_merge_updates_and_skip_blank_rows() -> None:
    rows = ChangeSetRows(
        create=[{"class": "hardware.laptop", "ref": "@l1", "name": "L1", "serial_number": "S1",
                 "attributes.cores": "8", "attributes.cpu": ""}, {"class": "hardware.laptop"}],
        update=[{"item": "lap-000001", "field": "owner", "value": "bob"},
                {"item": "LAP-000001", "field": "attributes.cores", "value": "16"},
                {"item": "LAP-000002", "field": "location", "value": ""}, {}],
        status=[{"item": "@l1", "status": "in_stock"}, {"status": ""}],
        relation=[{"action": "remove", "kind": "located_in", "source": "LAP-000001",
                   "target": "BLD-000001"}],
        yaml_text="- {op: set_status, item: LAP-000003, status: retired}",
    )

    operations, origins, problems = rows.operations()

    assert problems == []
    assert operations == [
        {"op": "create_item", "class": "hardware.laptop", "ref": "l1", "name": "L1",
         "serial_number": "S1", "attributes": {"cores": "8"}},
        {"op": "update_item", "item": "lap-000001", "owner": "bob",
         "attributes": {"cores": "16"}},
        {"op": "update_item", "item": "LAP-000002", "location": None},
        {"op": "set_status", "item": "@l1", "status": "in_stock"},
        {"op": "remove_relation", "kind": "located_in", "source": "LAP-000001",
         "target": "BLD-000001"},
        {"op": "set_status", "item": "LAP-000003", "status": "retired"},
    ]
    assert [o.section for o in origins] == ["create", "update", "update", "status", "relation",
                                            "yaml"]
    assert origins[1].fields == {"owner": 0, "attributes.cores": 1}


def test_bad_yaml_is_named_with_its_line() -> None:
    _ops, _origins, problems = ChangeSetRows(yaml_text="- {op: create_item\n- x").operations()
    assert problems[0].field == "change_set_yaml" and "line" in problems[0].message
    _ops, _origins, problems = ChangeSetRows(yaml_text="just text").operations()
    assert "list of operations" in problems[0].message


def test_an_alias_bomb_in_the_yaml_is_refused_before_it_is_expanded() -> None:
    operations, _origins, problems = ChangeSetRows(yaml_text=alias_bomb(9)).operations()

    assert operations == []
    assert [(p.field, p.message) for p in problems] == [(
        "change_set_yaml", "is not valid YAML at line 9, column 39: more than 50000 values (an "
                           "alias counts as the values it repeats)")]


def test_planner_errors_lead_back_to_the_row_input(db: Database) -> None:
    spec = changes.form_spec(db, "hardware-receipt")
    rows = ChangeSetRows(
        create=[{"class": "hardware.server", "name": "esx-9", "purchase_cost": "1.234"},
                {"name": "no class"}],
        status=[{"item": "LAP-999999", "status": "in_use"}],
        yaml_text="- {op: set_status, item: LAP-999998, status: in_use}",
    )
    operations, origins, problems = rows.operations()
    assert problems == []
    with pytest.raises(changes.ValidationFailed) as failed:
        register(db, operations, model="hardware-receipt")

    errors = changes.input_errors(failed.value.errors, origins, rows, spec, {"title"})

    assert errors["create-0-purchase_cost"] == ["'1.234' has more than two decimals"]
    assert errors["create-0-attributes.cores"] == ["is required"]
    assert errors["create-1-class"] == ["choose the class of the new item"]
    assert errors["status-0-item"] == ["no item LAP-999999 in the register"]
    assert errors["change_set_yaml"] == ["operation 1 (item): no item LAP-999998 in the register"]


def test_rows_from_operations_round_trip(db: Database) -> None:
    implement_normal_change(db, [laptop("a", "SN-1")], at("2026-01-10"))
    key = register(db, [
        laptop("n", "SN-2", attributes={"cores": 4}),
        {"op": "update_item", "item": "LAP-000001", "owner": "bob", "attributes": {"cores": 2}},
        {"op": "add_relation", "kind": "part_of", "source": "@n", "target": "LAP-000001",
         "attributes": {"share": "0.5"}},
    ])
    planned = changes.change_detail(db, key).operations

    rows = ChangeSetRows.from_operations(planned)

    assert rows.create[0]["serial_number"] == "SN-2" and rows.create[0]["attributes.cores"] == "4"
    assert [(r["field"], r["value"]) for r in rows.update] == [("owner", "bob"),
                                                               ("attributes.cores", "2")]
    assert "share" in rows.yaml_text  # a relation with attributes has no row: it goes to YAML
    operations, _origins, _problems = rows.operations()
    version = changes.change_summary(db, key).version
    changes.replace_change_set(db, key, "carol", operations, expected_version=version)
    assert [op | {"base_version": None} for op in changes.change_detail(db, key).operations] == [
        op | {"base_version": None} for op in planned]


def test_change_detail_says_who_may_approve_now(db: Database) -> None:
    key = register(db, [laptop("a", "SN-1")])
    assert not changes.change_detail(db, key, "sam").may_approve
    changes.move_change(db, key, "assess", "carol", now=at("2026-03-02", 10))
    changes.update_change(db, key, "carol", {"risk": "low", "impact": "none"})
    changes.move_change(db, key, "submit_for_approval", "carol",
                        now=at("2026-03-02", 10) + timedelta(hours=1))

    assert changes.change_detail(db, key, "sam").may_approve
    assert not changes.change_detail(db, key, "carol").may_approve
    changes.approve_change(db, key, "sam")
    assert not changes.change_detail(db, key, "sam").may_approve  # decided in this round


def test_progress_marks_where_a_withdrawn_change_ended(db: Database) -> None:
    key = register(db, [laptop("a", "SN-1")])
    changes.move_change(db, key, "assess", "carol", now=at("2026-03-02", 10))
    changes.move_change(db, key, "withdraw", "carol", now=at("2026-03-02", 11))

    steps = {step: status for step, _label, status in changes.change_detail(db, key).steps}

    assert steps["registration"] == "done" and steps["assessment"] == "ended"
    assert steps["authorisation"] == "todo" and steps["evaluation"] == "todo"
