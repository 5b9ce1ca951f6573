"""One action behind a routine chore: a change registered and carried through its steps as far as
its model's roles and guards allow, stopping (and saying why) where a person must act. On SQLite
and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.support.helpers import at, laptop
from usm.services import changes
from usm.services.changes import ValidationFailed
from usm.services.platform import Database
from usm.services.register import list_items
from workflows.skeleton import Step


def test_a_standard_change_whose_guards_hold_is_closed_with_every_step_logged(db: Database) -> None:
    when = at("2026-03-02")
    done = changes.carry_through(
        db, "carol", model="standard-change", title="Receive a laptop",
        operations=[laptop("a", "SN-CARRY-1")], now=when, impact="one laptop", risk="low",
        planned_start=when, planned_end=when + timedelta(hours=1), cost_estimate="500",
        currency="EUR")
    assert done.reached and done.step == "closed" and done.blocked == ()
    detail = changes.change_detail(db, done.key)
    assert [row.to_step for row in detail.log] == [
        "registration", "assessment", "authorisation", "planning", "realisation",
        "implementation", "evaluation", "closed"]
    assert detail.approvals[0].automatic  # the model's pre-authorisation is recorded
    assert detail.outcome == "successful"
    rows, _total = list_items(db)
    assert [r.name for r in rows] == ["Laptop SN-CARRY-1"]  # registered by the implementation


def test_it_stops_where_a_guard_does_not_hold_and_keeps_the_change(db: Database) -> None:
    done = changes.carry_through(
        db, "carol", model="standard-change", title="Receive a laptop",
        operations=[laptop("a", "SN-CARRY-2")], now=at("2026-03-02"), impact="one laptop",
        risk="low", cost_estimate="500", currency="EUR")
    assert not done.reached and done.state == "scheduled"
    assert any("window" in reason for reason in done.blocked)
    assert changes.change_summary(db, done.key).state == "scheduled"  # kept for a person to plan


def test_a_normal_change_stops_at_authorisation_waiting_for_approval(db: Database) -> None:
    done = changes.carry_through(
        db, "carol", model="normal-change", title="Replace a laptop",
        operations=[laptop("a", "SN-CARRY-3")], now=at("2026-03-02"), impact="one laptop",
        risk="low", to_step=Step.IMPLEMENTATION)
    assert not done.reached and done.step in ("assessment", "authorisation")
    assert done.blocked


def test_bad_input_records_nothing(db: Database) -> None:
    before = len(changes.list_changes(db, open_only=False, limit=500))
    with pytest.raises(ValidationFailed):
        changes.carry_through(db, "carol", model="standard-change", title="",
                              operations=[laptop("a", "SN-CARRY-4")], now=at("2026-03-02"))
    assert len(changes.list_changes(db, open_only=False, limit=500)) == before
