"""The CHM engine: transitions, guards, scope rule, atomic implementation and concurrent moves."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

import bir.writer
from bir.errors import ValidationFailed
from bir.items import Item, ItemVersion
from bir.relations import Relation
from tests.support.helpers import at, implement_normal_change, laptop, normal_change_in_realisation
from usm.services import changes, register
from usm.services.platform import Database
from workflows import engine
from workflows.changes import NotAChange
from workflows.engine import ChangeConflict, TransitionRefused
from workflows.models import Change


def _count(db: Database, model) -> int:
    with db.reading() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_implementation_registers_the_change_set(db: Database) -> None:
    key = normal_change_in_realisation(db, [laptop("a", "SN-1"), laptop("b", "SN-2"),
                            {"op": "add_relation", "kind": "connected_to", "source": "@a",
                             "target": "@b"}], at("2026-03-01"))
    assert _count(db, Item) == 0, "nothing is registered before implementation"

    moved = changes.move_change(db, key, "implement", "carol", now=at("2026-03-02"))

    assert moved.step == "implementation"
    rows, total = register.list_items(db)
    assert total == 2 and {r.name for r in rows} == {"Laptop SN-1", "Laptop SN-2"}
    detail = changes.change_detail(db, key)
    assert "register: created LAP-000001, LAP-000002; 1 relation(s) added" in detail.log[-1].comment


def test_failure_in_the_middle_of_implementation_writes_nothing(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = normal_change_in_realisation(db, [laptop("a", "SN-1"), laptop("b", "SN-2"),
                            {"op": "add_relation", "kind": "connected_to", "source": "@a",
                             "target": "@b"}], at("2026-03-01"))

    def explode(*args, **kwargs):
        raise RuntimeError("disk full while writing relations")

    # Items and versions are flushed by then; the failure comes after them.
    monkeypatch.setattr(bir.writer, "_apply_relations", explode)
    with pytest.raises(RuntimeError, match="disk full"):
        changes.move_change(db, key, "implement", "carol", now=at("2026-03-02"))

    assert (_count(db, Item), _count(db, ItemVersion), _count(db, Relation)) == (0, 0, 0)
    detail = changes.change_detail(db, key)
    assert detail.summary.state == "building"
    assert [e.trigger for e in detail.log][-1] == "start_build"


def test_change_set_that_no_longer_fits_is_refused_at_implementation(db: Database) -> None:
    implement_normal_change(db, [laptop("a", "SN-1")], at("2026-01-10"))
    stale = normal_change_in_realisation(db, [{"op": "set_status", "item": "LAP-000001", "status": "in_use"}],
                         at("2026-02-01"))
    implement_normal_change(db, [{"op": "set_status", "item": "LAP-000001",
                                  "status": "retired"}], at("2026-02-10"))
    implement_normal_change(db, [{"op": "set_status", "item": "LAP-000001",
                                  "status": "disposed"}], at("2026-02-20"))

    with pytest.raises(ValidationFailed, match="cannot move from disposed to in_use"):
        changes.move_change(db, stale, "implement", "carol", now=at("2026-03-01"))
    assert changes.change_detail(db, stale).summary.state == "building"
    assert register.item_view(db, "LAP-000001").core["status"] == "disposed"


def test_refused_transitions_say_why(db: Database) -> None:
    key = changes.register_change(db, "carol", model="normal-change", title="Test change",
                                  operations=[laptop("a", "SN-1")], now=at("2026-03-01")).key
    with pytest.raises(TransitionRefused, match="not possible from registered"):
        changes.move_change(db, key, "implement", "carol")
    with pytest.raises(TransitionRefused, match="only change_coordinator may assess"):
        changes.move_change(db, key, "assess", "sam")
    changes.move_change(db, key, "assess", "carol")
    with pytest.raises(TransitionRefused, match="fill in risk, impact first"):
        changes.move_change(db, key, "submit_for_approval", "carol")


def test_options_list_what_this_user_may_do_now(db: Database) -> None:
    key = changes.register_change(db, "carol", model="normal-change", title="Test change",
                                  operations=[laptop("a", "SN-1")]).key
    as_carol = {o.trigger: o for o in changes.change_detail(db, key, "carol").options}
    as_sam = {o.trigger: o for o in changes.change_detail(db, key, "sam").options}
    assert set(as_carol) == {"assess", "reject", "withdraw"}
    assert as_carol["assess"].allowed and as_carol["withdraw"].allowed
    assert not as_sam["assess"].allowed and as_sam["reject"].allowed


def _awaiting_approval(db: Database, risk: str = "low") -> str:
    key = changes.register_change(db, "carol", model="normal-change", title="Test change",
                                  operations=[laptop("a", "SN-1")]).key
    changes.move_change(db, key, "assess", "carol")
    changes.update_change(db, key, "carol", {"risk": risk, "impact": "big"})
    changes.move_change(db, key, "submit_for_approval", "carol")
    return key


def test_the_approval_the_model_waits_for_authorises_the_change(db: Database) -> None:
    key = _awaiting_approval(db)
    detail = changes.change_detail(db, key, "carol")
    assert detail.waiting is not None and (detail.waiting.needed, detail.waiting.given) == (1, 0)
    assert detail.waiting.people == ["sam"]
    assert "authorise" not in {o.trigger for o in detail.options}  # not a button: it is automatic

    assert changes.approve_change(db, key, "sam").step == "planning"
    log = changes.change_detail(db, key).log
    assert [(e.trigger, e.actor) for e in log[-1:]] == [("authorise", "model:normal-change v1")]
    assert [(a.approver, a.automatic) for a in changes.change_detail(db, key).approvals] == [
        ("sam", False)], "the approval is the authorisation; no automatic one is added"


def test_an_approvers_rejection_ends_the_change_with_their_reason(db: Database) -> None:
    key = _awaiting_approval(db, risk="high")
    summary = changes.approve_change(db, key, "sam", approve=False, comment="too risky")
    assert summary.step == "rejected"
    last = changes.change_detail(db, key).log[-1]
    assert (last.trigger, last.actor, last.comment) == ("reject", "sam", "too risky")


def test_approval_round_restarts_after_rework(db: Database) -> None:
    from usm.services.accounts import add_user
    from usm.services.change_models import (
        TransitionForm,
        draft_from,
        publish,
        set_transition,
        update_draft,
        version_source,
    )

    draft = draft_from(db, "normal-change", 1)
    update_draft(db, "normal-change", draft.version, set_transition(
        version_source(db, "normal-change", draft.version), TransitionForm(
            trigger="authorise", label="Authorise", sources=["awaiting_approval"],
            dest="planning", auto=True, approvals="2"), original="authorise"))
    publish(db, "normal-change", draft.version)
    add_user(db, "sue", "correct-horse-battery", ["service_owner"])
    key = _awaiting_approval(db)
    changes.approve_change(db, key, "sam")
    changes.move_change(db, key, "rework", "carol")  # back before the second approval
    changes.move_change(db, key, "submit_for_approval", "carol")
    detail = changes.change_detail(db, key, "carol")
    assert detail.waiting is not None and (detail.waiting.needed, detail.waiting.given) == (2, 0)
    assert changes.approve_change(db, key, "sam").step == "authorisation"
    assert changes.approve_change(db, key, "sue").step == "planning"
    rounds = [(a.round, a.approver) for a in changes.change_detail(db, key).approvals]
    assert rounds == [(1, "sam"), (2, "sam"), (2, "sue")]


def test_empty_change_set_is_an_ops_request_not_a_change(db: Database) -> None:
    with pytest.raises(NotAChange, match="operational service request"):
        changes.register_change(db, "carol", model="normal-change", title="Reset my password",
                                operations=[])
    assert _count(db, Change) == 0


def test_request_outside_agreed_services_is_recorded_as_rejected(db: Database) -> None:
    s = changes.register_change(db, "carol", model="normal-change", title="New laptop",
                                operations=[laptop("a", "SN-1")], services=["SVC-000404"])
    assert (s.state, s.step) == ("rejected", "rejected")
    log = changes.change_detail(db, s.key).log
    assert "outside the agreed services (SVC-000404)" in log[-1].comment


def test_one_machine_per_definition_version_and_no_models_kept(db: Database) -> None:
    for n in range(3):
        key = changes.register_change(db, "carol", model="normal-change", title=f"Test change {n}",
                                      operations=[laptop("a", f"SN-{n}")]).key
        changes.move_change(db, key, "assess", "carol")
    with db.reading() as session:
        change = session.scalar(select(Change).limit(1))
        workflow = engine.compiled(change.definition)
        assert workflow is engine.compiled(change.definition)
        assert workflow.machine.models == []


def _race(db_url: str, key: str, trigger: str) -> list[object]:
    """Two coordinators fire ``trigger`` on the same change at the same moment.

    On PostgreSQL both have read the change before either moves it. On SQLite a write transaction
    holds the write lock from its start, so the two start together and the second reads the
    change only after the first committed."""
    barrier = threading.Barrier(2)
    outcomes: list[object] = []
    serialised = db_url.startswith("sqlite")

    def attempt() -> None:
        racer = Database.connect(db_url)
        try:
            if serialised:
                barrier.wait(timeout=10)
            with racer.transaction() as session:
                change = session.scalar(select(Change).where(Change.key == key))
                actor = engine.Actor("carol", frozenset({"change_coordinator"}))
                if not serialised:
                    barrier.wait(timeout=10)
                engine.move(session, change, trigger, actor)
            outcomes.append("moved")
        except (ChangeConflict, TransitionRefused, OperationalError) as exc:
            outcomes.append(exc)
        finally:
            racer.dispose()

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return outcomes


def test_concurrent_implementation_exactly_one_wins(db: Database, db_url: str) -> None:
    key = normal_change_in_realisation(db, [laptop("a", "SN-1"), laptop("b", "SN-2")], at("2026-03-01"))

    outcomes = _race(db_url, key, "implement")

    assert outcomes.count("moved") == 1, outcomes
    loser = next(o for o in outcomes if o != "moved")
    if db_url.startswith("postgresql"):
        assert isinstance(loser, ChangeConflict)
        assert "moved by someone else" in str(loser)
    else:  # SQLite has one writer: the other waits, then finds the change implemented already
        assert isinstance(loser, TransitionRefused)
        assert "not possible from implemented" in str(loser)
    assert _count(db, Item) == 2 and _count(db, ItemVersion) == 2
    assert changes.change_detail(db, key).summary.state == "implemented"


def test_stored_definitions_are_immutable_and_name_known_classes(db: Database) -> None:
    from pathlib import Path

    from workflows.change_model import ChangeModelError
    from workflows.changes import store_definition

    text = (Path(__file__).resolve().parents[2] / "workflows" / "change_models"
            / "normal-change.yaml").read_text(encoding="utf-8")
    with db.transaction() as session:
        assert store_definition(session, text).version == 1  # same text again: a no-op
    with pytest.raises(engine.ChangeError, match="normal-change v1 is already published"):
        with db.transaction() as session:
            store_definition(session, text.replace("name: Normal change", "name: Changed"))
    typo = text.replace("operations: [create_item,", "classes: [hardwre]\n  operations: [create_item,")
    typo = typo.replace("version: 1", "version: 2")
    with pytest.raises(ChangeModelError, match="change_set.classes: unknown item class.*hardwre"):
        with db.transaction() as session:
            store_definition(session, typo)
