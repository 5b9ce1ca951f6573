"""Bulk actions on the register (usm.services.register.bulk): a selection of ticked keys or every
item a register filter finds becomes ONE change for the whole selection, carried through its model
by the engine, with every step in its log. On SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest

from bir.base import utcnow
from usm.services import changes, register
from usm.services.errors import ValidationFailed
from usm.services.platform import Database

ALL_STEPS = ["registration", "assessment", "authorisation", "planning", "realisation",
             "implementation", "evaluation", "closed"]


SERIALS = itertools.count()


def fill(db: Database, count: int, **fields: Any) -> list[str]:
    """``count`` laptops registered by one standard change (through the engine); their keys."""
    now = utcnow() - timedelta(minutes=5)
    before = set(status_of(db))
    ops = [{"op": "create_item", "class": "hardware.laptop", "name": f"Bulk laptop {n}",
            "serial_number": f"SN-BULK-{next(SERIALS):06d}", **fields} for n in range(count)]
    done = changes.carry_through(
        db, "carol", model="standard-change", title="Receive laptops", operations=ops, now=now,
        impact="laptops", risk="low", cost_estimate="0", currency="EUR", planned_start=now,
        planned_end=now + timedelta(hours=1))
    assert done.reached
    return sorted(set(status_of(db)) - before)


def status_of(db: Database, **filters: str) -> dict[str, str]:
    query = register.search_query({**filters, "limit": "200"})
    rows, statuses = register.search_items(db, query), {}
    while True:
        statuses.update({r.key: r.status for r in rows.rows})
        if not rows.next_cursor:
            return statuses
        rows = register.search_items(db, register.search_query(
            {**filters, "limit": "200", "after": rows.next_cursor}))


def test_a_filter_selection_of_thousands_is_one_change_with_every_step_logged(
        db: Database) -> None:
    fill(db, 3000, status="in_stock", location="AMS")
    fill(db, 5, status="in_stock", location="RTM")  # outside the filter: untouched

    selection = register.select_matching({"location": "AMS", "status": "in_stock",
                                          "sort": "name", "after": "ignored"})
    plan = register.plan_bulk(db, selection, register.bulk_action("status", "in_use"))
    assert (plan.selected, plan.count, plan.refused_count) == (3000, 3000, 0)

    done = register.run_bulk(db, "carol", selection, register.bulk_action("status", "in_use"))

    assert done.count == 3000 and done.carried.reached and done.carried.state == "closed"
    detail = changes.change_detail(db, done.key)
    assert len(detail.operations) == 3000
    assert {op["op"] for op in detail.operations} == {"set_status"}
    assert [row.to_step for row in detail.log] == ALL_STEPS
    assert detail.impact == "3,000 items: status -> in_use"
    assert detail.summary.model == "standard-change" and detail.risk == "low"
    assert set(status_of(db, location="AMS").values()) == {"in_use"}
    assert set(status_of(db, location="RTM").values()) == {"in_stock"}


def test_assign_and_move_by_keys_leave_out_items_that_already_have_the_value(
        db: Database) -> None:
    keys = fill(db, 4, status="in_use", location="AMS", owner="alice")
    done = register.run_bulk(db, "carol", register.select_keys([k.lower() for k in keys[:3]]),
                             register.bulk_action("owner", "bob"))
    assert (done.count, done.carried.state) == (3, "closed")
    owners = {r.key: r.owner for r in register.list_items(db)[0]}
    assert [owners[k] for k in keys] == ["bob", "bob", "bob", "alice"]

    moved = register.run_bulk(db, "carol", register.select_keys(keys),
                              register.bulk_action("owner", "bob"))
    assert (moved.count, moved.unchanged) == (1, 3)  # only the one still with alice
    located = register.run_bulk(db, "carol", register.select_matching({"owner": "bob"}),
                                register.bulk_action("location", "RTM"))
    assert located.count == 4
    assert {r.location for r in register.list_items(db)[0] if r.key in keys} == {"RTM"}
    log = changes.change_detail(db, located.key).log
    assert [row.to_step for row in log] == ALL_STEPS


def test_retire_registers_one_retirement_change_that_stops_where_a_person_must_act(
        db: Database) -> None:
    keys = fill(db, 3, status="in_use", location="AMS")
    done = register.run_bulk(db, "carol", register.select_matching({"location": "AMS"}),
                             register.bulk_action("retire"))
    assert done.model == "asset-retirement" and done.count == 3
    assert not done.carried.reached
    assert any("disposal_method" in reason for reason in done.carried.blocked)
    detail = changes.change_detail(db, done.key)
    assert [op["status"] for op in detail.operations] == ["retired"] * 3
    assert [row.to_step for row in detail.log] == ["registration", "assessment"]
    # Nothing is retired in the register until the change is implemented.
    assert {r.status for r in register.list_items(db)[0] if r.key in keys} == {"in_use"}


def test_status_moves_not_allowed_are_named_and_counted_and_nothing_is_registered(
        db: Database) -> None:
    fill(db, 30, status="in_use", location="AMS")
    fill(db, 2, status="planned", location="AMS")
    before = len(changes.list_changes(db, open_only=False, limit=500))
    selection = register.select_matching({"location": "AMS"})
    with pytest.raises(ValidationFailed) as refused:
        register.run_bulk(db, "carol", selection, register.bulk_action("status", "ordered"))
    messages = [e.message for e in refused.value.errors]
    assert messages[0].startswith("30 of 32 selected items cannot take status ordered")
    assert "cannot move from in_use to ordered (allowed: in_stock, maintenance, retired)" in \
        messages[1]
    assert len(messages) == 1 + 20 + 1 and messages[-1] == "and 10 more"
    assert {e.field for e in refused.value.errors} == {"selection"}
    assert len(changes.list_changes(db, open_only=False, limit=500)) == before


def test_a_past_view_unknown_keys_and_bad_actions_are_refused(db: Database) -> None:
    keys = fill(db, 2, status="in_stock")
    with pytest.raises(ValidationFailed) as past:
        register.select_matching({"status": "in_stock", "as_of": "2026-01-01T00:00"})
    assert past.value.errors[0].field == "as_of"
    with pytest.raises(ValidationFailed) as unknown:
        register.run_bulk(db, "carol", register.select_keys([keys[0], "LAP-999999"]),
                          register.bulk_action("status", "in_use"))
    assert "no item LAP-999999 in the register" in str(unknown.value)
    with pytest.raises(ValidationFailed) as none:
        register.select_keys([" ", ""])
    assert none.value.errors[0].field == "keys"
    with pytest.raises(ValidationFailed):
        register.select_keys([f"LAP-{n:06d}" for n in range(register.MAX_KEYS + 1)])
    for action, value, field in (("explode", "", "action"), ("status", "lost", "value"),
                                 ("owner", "", "value"), ("location", "x" * 121, "value")):
        with pytest.raises(ValidationFailed) as bad:
            register.bulk_action(action, value)
        assert bad.value.errors[0].field == field
    with pytest.raises(ValidationFailed, match="nothing to change"):
        register.run_bulk(db, "carol", register.select_keys(keys),
                          register.bulk_action("status", "in_stock"))


def test_selected_keys_for_the_change_form_stop_at_its_limit(db: Database) -> None:
    keys = fill(db, 5, location="UTR")
    assert register.selected_keys(db, register.select_matching({"location": "UTR"}), 5) == keys
    with pytest.raises(ValidationFailed, match="holds 5 items and this form takes at most 4"):
        register.selected_keys(db, register.select_matching({"location": "UTR"}), 4)
