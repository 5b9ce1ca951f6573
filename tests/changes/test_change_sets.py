"""Change sets are checked against the item classes and the register when a change is registered;
each error names the operation and field, and nothing is stored."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from bir.errors import ValidationFailed
from tests.support.helpers import at, implement_normal_change, laptop
from usm.services import changes, register
from usm.services.platform import Database
from workflows.models import Change


def _changes(db: Database) -> int:
    with db.reading() as session:
        return session.scalar(select(func.count(Change.id)))


def _refused(db: Database, operations: Any, model: str = "normal-change") -> list[str]:
    before = _changes(db)
    with pytest.raises(ValidationFailed) as refused:
        changes.register_change(db, "carol", model=model, title="Bad change set",
                                operations=operations)
    assert _changes(db) == before, "nothing may be stored"
    return [str(e) for e in refused.value.errors]


@pytest.mark.parametrize(("operation", "expected"), [
    ({"op": "launch_rocket"}, "operations[0].op: 'launch_rocket' is not one of"),
    ({"op": "create_item", "class": "hardware.toaster", "name": "x"},
     "operations[0].class: 'hardware.toaster' is not an item class"),
    ({"op": "create_item", "class": "hardware", "name": "x"},
     "operations[0].class: hardware is abstract"),
    ({"op": "create_item", "class": "hardware.laptop"},
     "operations[0].name: is required for a new item"),
    ({"op": "create_item", "class": "hardware.server", "name": "db01"},
     "operations[0].attributes.cores: is required"),
    ({"op": "create_item", "class": "hardware.server", "name": "db01",
      "attributes": {"cores": "many"}},
     "operations[0].attributes.cores: 'many' is not a whole number"),
    ({"op": "create_item", "class": "hardware.laptop", "name": "x",
      "attributes": {"colour": "red"}},
     "operations[0].attributes.colour: class hardware.laptop has no attribute 'colour'"),
    ({"op": "create_item", "class": "hardware.laptop", "name": "x",
      "attributes": {"keyboard_layout": "dvorak"}},
     "operations[0].attributes.keyboard_layout: 'dvorak' is not one of us, uk, nl"),
    ({"op": "create_item", "class": "hardware.laptop", "name": "x", "purchase_cost": "12.345"},
     "operations[0].purchase_cost: '12.345' has more than two decimals"),
    ({"op": "create_item", "class": "hardware.laptop", "name": "x", "purchase_cost": "-5"},
     "operations[0].purchase_cost: must not be negative"),
    ({"op": "create_item", "class": "hardware.laptop", "name": "x", "acquired_on": "yesterday"},
     "operations[0].acquired_on: Input should be a valid date"),
    ({"op": "create_item", "class": "hardware.laptop", "name": "x", "status": "lost"},
     "operations[0].status: Input should be 'planned'"),
    ({"op": "create_item", "class": "hardware.laptop", "name": "x", "colour": "red"},
     "operations[0].colour: is not a field of a create_item operation"),
    ({"op": "create_item", "class": "hardware.laptop", "name": "x", "currency": "euro"},
     "operations[0].currency: String should match pattern"),
    ({"op": "create_item", "class": "hardware.laptop", "name": "x", "purchase_cost": "1e999999"},
     "operations[0].purchase_cost: '1e999999' is too large"),
    ({"op": "create_item", "class": "hardware.laptop", "name": "x", "purchase_cost": "9" * 40},
     "operations[0].purchase_cost: '" + "9" * 40 + "' is too large"),
    ({"op": "create_item", "ref": "r" * 31, "class": "hardware.laptop", "name": "x"},
     "operations[0].ref: must be a name of at most 30 letters"),
    ({"op": "create_item", "ref": "1st", "class": "hardware.laptop", "name": "x"},
     "operations[0].ref: must be a name of at most 30 letters"),
    ({"op": "update_item", "item": "LAP-424242", "owner": "x"},
     "operations[0].item: no item LAP-424242 in the register"),
    ({"op": "add_relation", "kind": "loves", "source": "@a", "target": "@b"},
     "operations[0].kind: 'loves' is not one of"),
    ({"op": "add_relation", "kind": "runs_on", "source": "@ghost", "target": "LAP-1"},
     "operations[0].source: @ghost is not created by an earlier operation"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_bad_operations_are_named(db: Database, operation: dict[str, Any], expected: str) -> None:
    problems = _refused(db, [operation])
    assert any(expected in p for p in problems), problems


def test_a_list_where_one_value_belongs_is_named_shortly(db: Database) -> None:
    tower: list[Any] = ["lol"] * 9
    for _ in range(5):
        tower = [tower] * 9  # 531,441 strings, shared: the message must not spell them out
    problems = _refused(db, [
        {"op": "set_status", "item": "LAP-000001", "status": ["in_use"]},
        {"op": "add_relation", "kind": ["part_of"], "source": "@a", "target": "@b"},
        {"op": "create_item", "class": "hardware.laptop", "name": "x",
         "attributes": {"keyboard_layout": tower}},
    ])

    named = {p.split(": ")[0]: p.split(": ", 1)[1] for p in problems}
    assert named["operations[0].status"].startswith("['in_use'] is not one of")
    assert named["operations[1].kind"].startswith("['part_of'] is not one of")
    attribute = named["operations[2].attributes.keyboard_layout"]
    assert attribute.startswith("[[[") and attribute.endswith("is not a single value")
    assert len(attribute) < 120


def test_not_a_list(db: Database) -> None:
    assert _refused(db, {"op": "create_item"}) == ["operations: must be a list of operations"]


def test_every_problem_is_reported_at_once(db: Database) -> None:
    problems = _refused(db, [
        laptop("a", "SN-1"),
        {"op": "create_item", "class": "nope", "name": "x"},
        {"op": "set_status", "item": "@a", "status": "disposed"},
    ])
    assert [p.split(":")[0] for p in problems] == ["operations[1].class", "operations[2].status"]
    assert "@a cannot move from planned to disposed" in problems[1]


def test_register_state_rules(db: Database) -> None:
    implement_normal_change(db, [laptop("a", "SN-1"), laptop("b", "SN-2"),
                                 {"op": "add_relation", "kind": "connected_to", "source": "@a",
                                  "target": "@b"}], at("2026-01-10"))
    problems = _refused(db, [
        {"op": "add_relation", "kind": "connected_to", "source": "LAP-000001",
         "target": "LAP-000002"},
        {"op": "remove_relation", "kind": "runs_on", "source": "LAP-000001",
         "target": "LAP-000002"},
        {"op": "add_relation", "kind": "runs_on", "source": "LAP-000001", "target": "LAP-000001"},
        {"op": "update_item", "item": "LAP-000001"},
    ])
    assert problems == [
        "operations[0]: LAP-000001 already connected to LAP-000002",
        "operations[1]: LAP-000001 is not runs on LAP-000002",
        "operations[2].target: an item cannot relate to itself",
        "operations[3]: sets nothing: name at least one field or attribute",
    ]


def test_update_cannot_clear_name_or_status(db: Database) -> None:
    implement_normal_change(db, [laptop("a", "SN-1")], at("2026-01-10"))
    problems = _refused(db, [
        {"op": "update_item", "item": "LAP-000001", "name": None},
        {"op": "update_item", "item": "LAP-000001", "status": None},
        {"op": "update_item", "item": "LAP-000001", "owner": None},
    ])
    assert problems == [
        "operations[0].name: cannot be cleared: every item has one",
        "operations[1].status: cannot be cleared: every item has one",
    ]


def test_relation_removed_and_added_again_in_one_change(db: Database) -> None:
    implement_normal_change(db, [laptop("a", "SN-1"), laptop("b", "SN-2"),
                                 {"op": "add_relation", "kind": "connected_to", "source": "@a",
                                  "target": "@b", "attributes": {"port": "1"}}], at("2026-01-10"))
    implement_normal_change(db, [
        {"op": "remove_relation", "kind": "connected_to", "source": "LAP-000001",
         "target": "LAP-000002"},
        {"op": "add_relation", "kind": "connected_to", "source": "LAP-000001",
         "target": "LAP-000002", "attributes": {"port": "2"}},
    ], at("2026-02-10"))
    now = register.item_view(db, "LAP-000001").relations
    then = register.item_view(db, "LAP-000001", as_of=at("2026-02-01")).relations
    assert [(r.key, r.attributes) for r in now] == [("LAP-000002", {"port": "2"})]
    assert [(r.key, r.attributes) for r in then] == [("LAP-000002", {"port": "1"})]


def test_model_limits_operations_and_classes(db: Database) -> None:
    problems = _refused(db, [{"op": "create_item", "class": "service", "name": "Mail"},
                             {"op": "remove_relation", "kind": "runs_on", "source": "A-1",
                              "target": "B-1"}], model="hardware-receipt")
    assert any("operations[0].class: this change model touches only hardware, network, client, iot, "
               "not a new item (service)" in p for p in problems)
    assert any("operations[1].op: this change model does not make 'remove_relation'" in p
               for p in problems)


def test_unknown_model_is_named(db: Database) -> None:
    problems = _refused(db, [laptop("a", "SN-1")], model="teleportation")
    assert problems[0].startswith("model: no published change model 'teleportation' (known: ")


def test_model_limits_apply_to_updates_too(db: Database) -> None:
    implement_normal_change(db, [laptop("a", "SN-1"),
                                 {"op": "create_item", "ref": "vm", "class": "cloud.instance",
                                  "name": "web-1", "attributes": {"provider": "aws",
                                                                  "instance_type": "t3.small"}}],
                            at("2026-01-10"))
    problems = _refused(db, [
        {"op": "update_item", "item": "LAP-000001", "owner": "x"},
        {"op": "update_item", "item": "CI-000001", "status": "retired"},
    ], model="cloud-instance-request")
    assert problems == [
        "operations[0].item: this change model touches only cloud, not LAP-000001 (hardware.laptop)",
        "operations[1].status: this change model does not move statuses",
    ]


def test_model_fields_are_checked_at_registration(db: Database) -> None:
    with pytest.raises(ValidationFailed, match="fields.bogus: is not a field of this change model"):
        changes.register_change(db, "carol", model="normal-change", title="With a stray field",
                                operations=[laptop("a", "SN-1")], fields={"bogus": 1})
