"""Versions of a change model at the service layer: drafts, publishing (then immutable), retiring,
the comparison with the published version, the structured form, and changes in flight keeping the
version they started with. On SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from tests.support.helpers import laptop
from usm.services import change_models, changes
from usm.services.change_models import (
    ChangeModelNotFound,
    Facts,
    StateForm,
    TransitionForm,
    change_model_detail,
    diff_against_published,
    dry_run,
    name_from,
    set_states,
    set_transition,
)
from usm.services.platform import Database

SHIPPED = Path(__file__).resolve().parents[2] / "workflows" / "change_models"


def _two_approvals(db: Database) -> int:
    """A draft of normal-change whose authorisation needs two approvals (and moves on by itself
    once they are in); returns its version."""
    draft = change_models.draft_from(db, "normal-change", 1)
    source = change_models.version_source(db, "normal-change", draft.version)
    change_models.update_draft(db, "normal-change", draft.version, set_transition(
        source, TransitionForm(trigger="authorise", label="Authorise", sources=["awaiting_approval"],
                               dest="planning", auto=True, approvals="2"), original="authorise"))
    return draft.version


def test_a_new_draft_takes_the_next_version_number_whatever_the_text_says(db: Database) -> None:
    source = (SHIPPED / "normal-change.yaml").read_text(encoding="utf-8")

    saved = change_models.save_new_draft(db, source.replace("version: 1", "version: 7"))

    assert (saved.version, saved.status) == (2, "draft")
    stored = change_models.version_source(db, "normal-change", 2)
    assert "version: 2" in stored and "version: 7" not in stored
    assert change_model_detail(db, "normal-change", 2).status == "draft"


def test_a_new_model_starts_at_version_one(db: Database) -> None:
    source = (SHIPPED / "normal-change.yaml").read_text(encoding="utf-8")
    source = source.replace("code: normal-change", "code: printer-swap")

    assert change_models.save_new_draft(db, source).version == 1


def test_a_refused_text_stores_nothing_and_names_the_transition(db: Database) -> None:
    draft = change_models.draft_from(db, "normal-change", 1)
    before = change_models.version_source(db, "normal-change", draft.version)
    broken = before.replace("    guards:\n      - approvals: {count: 1}\n", "")

    with pytest.raises(change_models.ChangeModelError) as refused:
        change_models.update_draft(db, "normal-change", draft.version, broken)

    assert any("transition 'authorise'" in p and "approvals guard" in p
               for p in refused.value.problems)
    assert change_models.version_source(db, "normal-change", draft.version) == before


def test_a_text_past_the_yaml_limits_is_refused_naming_the_limit(db: Database) -> None:
    draft = change_models.draft_from(db, "normal-change", 1)
    before = change_models.version_source(db, "normal-change", draft.version)
    roles = "roles: [change_coordinator]"
    shared = before.replace(roles, "roles: &coordinator [change_coordinator]", 1) \
        .replace(roles, "roles: *coordinator")

    with pytest.raises(change_models.ChangeModelError) as refused:
        change_models.update_draft(db, "normal-change", draft.version, before.replace(
            "approvers: [service_owner]", "approvers: [&o service_owner" + ", *o" * 51 + "]"))
    assert refused.value.problems == [
        f"normal-change v{draft.version}: not valid YAML at line 9, column 231: more than 50 "
        "aliases (*name): write the values out"]
    assert change_models.version_source(db, "normal-change", draft.version) == before

    change_models.update_draft(db, "normal-change", draft.version, shared)  # a few aliases pass
    assert "*coordinator" in change_models.version_source(db, "normal-change", draft.version)


def test_a_draft_keeps_its_model_code(db: Database) -> None:
    draft = change_models.draft_from(db, "normal-change", 1)
    source = change_models.version_source(db, "normal-change", draft.version)

    with pytest.raises(change_models.ChangeModelError, match="code: a draft keeps its model's code"):
        change_models.update_draft(db, "normal-change", draft.version,
                              source.replace("code: normal-change", "code: other-model"))


def test_publish_makes_a_version_immutable(db: Database) -> None:
    version = _two_approvals(db)
    change_models.publish(db, "normal-change", version)
    source = change_models.version_source(db, "normal-change", version)

    with pytest.raises(change_models.ChangeModelRefused, match="published version never changes"):
        change_models.update_draft(db, "normal-change", version, source.replace("Authorise", "OK"))
    with pytest.raises(change_models.ChangeModelRefused):
        change_models.update_draft(db, "normal-change", 1, source)
    with pytest.raises(change_models.ChangeModelRefused, match="only a draft is published"):
        change_models.publish(db, "normal-change", version)
    with pytest.raises(change_models.ChangeModelRefused):
        change_models.discard_draft(db, "normal-change", version)
    assert change_models.version_source(db, "normal-change", version) == source
    detail = change_model_detail(db, "normal-change", version)
    assert detail.status == "published" and detail.published_at is not None


def test_retire_stops_new_changes_but_not_those_in_flight(db: Database) -> None:
    in_flight = changes.register_change(db, "carol", model="standard-change",
                                        title="Laptop", operations=[laptop("a", "SN-1")]).key
    change_models.retire(db, "standard-change", 1)

    with pytest.raises(changes.ValidationFailed, match="no published change model"):
        changes.register_change(db, "carol", model="standard-change", title="Laptop 2",
                                operations=[laptop("b", "SN-2")])
    detail = changes.change_detail(db, in_flight, "carol")
    assert detail.summary.model_version == 1
    assert any(o.allowed for o in detail.options)  # it still moves on its retired version
    with pytest.raises(change_models.ChangeModelRefused, match="only a published version is retired"):
        change_models.retire(db, "standard-change", 1)


def test_changes_in_flight_keep_their_version_and_new_ones_use_the_published_one(
        db: Database) -> None:
    old = changes.register_change(db, "carol", model="normal-change", title="Old",
                                  operations=[laptop("a", "SN-OLD")]).key
    version = _two_approvals(db)
    change_models.publish(db, "normal-change", version)
    new = changes.register_change(db, "carol", model="normal-change", title="New",
                                  operations=[laptop("b", "SN-NEW")]).key
    for key in (old, new):
        changes.move_change(db, key, "assess", "carol")
        changes.update_change(db, key, "carol", {"risk": "low", "impact": "one user"})
        changes.move_change(db, key, "submit_for_approval", "carol")
        changes.approve_change(db, key, "sam")

    old_detail = changes.change_detail(db, old, "carol")
    new_detail = changes.change_detail(db, new, "carol")
    # The old change's one approval was all its version asked: it moved on by itself.
    assert (old_detail.summary.model_version, old_detail.summary.step) == (1, "planning")
    assert (new_detail.summary.model_version, new_detail.summary.step) == (version,
                                                                           "authorisation")
    assert new_detail.waiting is not None
    assert (new_detail.waiting.needed, new_detail.waiting.given) == (2, 1)
    with pytest.raises(changes.TransitionRefused, match="not possible from awaiting_approval"):
        changes.move_change(db, new, "authorise", "carol")


def test_diff_names_the_changed_transition_and_shows_the_yaml(db: Database) -> None:
    version = _two_approvals(db)

    found = diff_against_published(db, "normal-change", version)

    assert found.base_version == 1
    assert any(c.startswith("transition 'authorise' changed") and "approvals(count=2)" in c
               for c in found.changes)
    assert "-      - approvals: {count: 1}" in found.unified
    assert any(line.startswith("+") and "count: 2" in line for line in found.unified)


def test_diff_lists_added_and_removed_states_and_transitions(db: Database) -> None:
    draft = change_models.draft_from(db, "normal-change", 1)
    source = change_models.version_source(db, "normal-change", draft.version)
    source = set_states(source, {"registered": "12", "planning": ""},
                        StateForm("second_opinion", "assessment", "Second opinion", "4",
                                  sources=["in_assessment"], into_label="Ask second opinion",
                                  dest="in_assessment", out_label="Back from second opinion",
                                  roles=["change_coordinator"]))
    change_models.update_draft(db, "normal-change", draft.version, source)

    found = diff_against_published(db, "normal-change", draft.version).changes

    assert "state 'second_opinion' added" in found
    assert "transition 'ask_second_opinion' added" in found
    assert any(c.startswith("state 'registered' changed (time_target_hours: 24.0 → 12.0")
               for c in found)
    assert any(c.startswith("state 'planning' changed (time_target_hours: 72.0 → —")
               for c in found)


def test_form_values_that_are_not_numbers_are_named_by_the_check(db: Database) -> None:
    draft = change_models.draft_from(db, "normal-change", 1)
    source = change_models.version_source(db, "normal-change", draft.version)
    proposal = set_transition(source, TransitionForm(
        trigger="authorise", sources=["awaiting_approval"], dest="planning",
        roles=["service_owner"], approvals="two"), original="authorise")

    with pytest.raises(change_models.ChangeModelError) as refused:
        change_models.update_draft(db, "normal-change", draft.version, proposal)

    assert any(p.startswith("transition 'authorise': guard 'approvals' count")
               for p in refused.value.problems)


def test_unknown_versions_are_not_found(db: Database) -> None:
    with pytest.raises(ChangeModelNotFound):
        change_models.publish(db, "normal-change", 99)
    with pytest.raises(ChangeModelNotFound):
        change_models.draft_from(db, "no-such-model", 1)
    with pytest.raises(ChangeModelNotFound):
        change_models.update_draft(db, "normal-change", 2**40, "code: x")


def test_a_discarded_draft_is_gone(db: Database) -> None:
    draft = change_models.draft_from(db, "normal-change", 1)
    change_models.discard_draft(db, "normal-change", draft.version)
    with pytest.raises(ChangeModelNotFound):
        change_models.version_source(db, "normal-change", draft.version)


# Dry run


def test_dry_run_walks_a_draft_and_shows_which_guards_block(db: Database) -> None:
    version = _two_approvals(db)
    facts = Facts(role="change_coordinator", risk="low", filled=frozenset({"impact"}),
                  approvals=1)

    run = dry_run(db, "normal-change", version, facts, ["assess", "submit_for_approval"])

    assert run.path == ["assess", "submit_for_approval"] and run.refused is None
    assert run.state == "awaiting_approval", "one approval of two: it waits"
    assert "authorise" not in {o.trigger for o in run.options}, "it moves on by itself"

    passed = dry_run(db, "normal-change", version, Facts(
        risk="low", filled=frozenset({"impact"}), approvals=2, window_planned=True),
        ["assess", "submit_for_approval", "start_build"])
    assert passed.refused is None and passed.state == "building"
    assert ("authorise", True) in [(s.trigger, s.automatic) for s in passed.walked]


def test_dry_run_checks_the_role_and_follows_automatic_transitions(db: Database) -> None:
    as_owner = dry_run(db, "standard-change", 1, Facts(role="service_owner"), ["check"])
    assert as_owner.refused is not None and "only change_coordinator may check" in as_owner.refused

    run = dry_run(db, "standard-change", 1, Facts(
        risk="low", cost_estimate=None, filled=frozenset({"impact"})), ["check",
                                                                         "confirm_standard"])
    assert run.refused == "Confirm as standard change is blocked: estimate the cost first"

    run = dry_run(db, "standard-change", 1, Facts(
        risk="low", cost_estimate=Decimal("500"), filled=frozenset({"impact"})),
        ["check", "confirm_standard"])
    assert run.state == "scheduled"
    assert [(s.trigger, s.automatic) for s in run.walked][-1] == ("pre_authorise", True)


def test_dry_run_writes_nothing(db: Database) -> None:
    before = changes.list_changes(db, open_only=False)
    dry_run(db, "normal-change", 1, Facts(risk="low", filled=frozenset({"impact"}), approvals=1,
                                          window_planned=True),
            ["assess", "submit_for_approval", "start_build", "implement"])
    assert changes.list_changes(db, open_only=False) == before


@pytest.mark.parametrize("path", sorted(SHIPPED.glob("*.yaml")), ids=lambda p: p.stem)
def test_a_form_edit_keeps_everything_it_does_not_touch(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    assert yaml.safe_load(set_states(source, {})) == yaml.safe_load(source)


def test_dry_run_weighs_the_change_sets_value_against_a_cost_limit(db: Database) -> None:
    facts = Facts(risk="low", cost_estimate=Decimal("100"), change_set_value=Decimal("90000"),
                  filled=frozenset({"purchase_order", "delivery_note"}))
    run = dry_run(db, "hardware-receipt", 1, facts, ["check_delivery", "accept_delivery"])
    assert run.refused == ("Accept delivery is blocked: the change set is worth 90000.00 EUR, "
                           "above this model's limit of 25000")
    accept = next(o for o in run.options if o.trigger == "accept_delivery")
    assert ("cost (estimate or change set value) ≤ 25000", False) in [
        (g.text, g.passes) for g in accept.guards]


def test_a_changed_shipped_model_is_installed_over_the_shipped_version_only(db: Database) -> None:
    """An installation from before the model changed gets the new text as a new version (the
    old one retired, changes on it keep it); a designer's published version is never replaced."""
    from sqlalchemy import update

    from usm.services.platform import install_shipped
    from workflows.models import ChangeModel

    old_text = (SHIPPED / "normal-change.yaml").read_text(encoding="utf-8").replace(
        "auto: true  # moves on by itself once the approvals are in",
        "roles: [change_coordinator, service_owner]")
    with db.transaction() as session:  # as installed before: the manual Authorise, no maker
        session.execute(update(ChangeModel).where(ChangeModel.code == "normal-change")
                        .values(source=old_text, created_by=None))
    in_flight = changes.register_change(db, "carol", model="normal-change", title="Old one",
                                        operations=[laptop("a", "SN-1")]).key

    assert "normal-change (updated)" in install_shipped(db).definitions_added
    assert change_models.published_version(db, "normal-change") == 2
    assert change_model_detail(db, "normal-change", 1).status == "retired"
    assert changes.change_detail(db, in_flight).summary.model_version == 1
    assert install_shipped(db).definitions_added == [], "installing again changes nothing"

    draft = change_models.draft_from(db, "normal-change", 2, by="pat")
    change_models.publish(db, "normal-change", draft.version, by="pat")
    assert install_shipped(db).definitions_added == []
    assert change_models.published_version(db, "normal-change") == draft.version


def test_line_endings_are_normalised_and_the_comparison_ignores_them(db: Database) -> None:
    draft = change_models.draft_from(db, "normal-change", 1)
    source = change_models.version_source(db, "normal-change", draft.version)
    change_models.update_draft(db, "normal-change", draft.version, source.replace("\n", "\r\n"))

    stored = change_models.version_source(db, "normal-change", draft.version)
    assert "\r" not in stored and stored == source
    assert _changed_lines(db, draft.version) == ["-version: 1", "+version: 2"]

    from sqlalchemy import update

    from workflows.models import ChangeModel
    with db.transaction() as session:  # a text stored before the normalising
        session.execute(update(ChangeModel).where(ChangeModel.code == "normal-change",
                                                  ChangeModel.version == draft.version)
                        .values(source=source.replace("\n", "\r\n")))
    assert _changed_lines(db, draft.version) == ["-version: 1", "+version: 2"]


def _changed_lines(db: Database, version: int) -> list[str]:
    """The lines the comparison with the published version marks as removed or added."""
    unified = change_models.diff_against_published(db, "normal-change", version).unified
    return [line for line in unified[2:] if line[:1] in "+-"]


def test_the_form_adds_a_state_and_the_transitions_around_it_in_one_save(db: Database) -> None:
    draft = change_models.draft_from(db, "normal-change", 1)
    source = change_models.version_source(db, "normal-change", draft.version)
    source = set_states(source, {}, StateForm(
        name="", step="realisation", label="Quality check", sources=["building"],
        dest="implemented", roles=["change_coordinator"]))
    change_models.update_draft(db, "normal-change", draft.version, source)

    detail = change_model_detail(db, "normal-change", draft.version)
    names = [s.name for s in detail.states]
    assert names.index("quality_check") == names.index("building") + 1
    moves = {(t.trigger, tuple(t.sources), t.dest) for t in detail.transitions}
    assert ("to_quality_check", ("building",), "quality_check") in moves
    assert ("quality_check_done", ("quality_check",), "implemented") in moves
    # The designer's comments and layout outlive the form's edit.
    saved = change_models.version_source(db, "normal-change", draft.version)
    assert saved.startswith("# Normal change: assessed, authorised by the service owner")
    assert "auto: true  # moves on by itself once the approvals are in" in saved
    assert "  - {name: quality_check, step: realisation, label: Quality check}" in saved


@pytest.mark.parametrize(("typed", "name"), [
    ("Quality check", "quality_check"), ("  Qualité 2e ronde ", "qualite_2e_ronde"),
    ("2nd look", "s_2nd_look"), ("already_fine", "already_fine"), ("!!!", "")])
def test_a_state_name_is_made_from_what_was_typed(typed: str, name: str) -> None:
    assert name_from(typed) == name


def test_a_new_state_without_a_way_in_or_out_is_refused_by_name(db: Database) -> None:
    source = change_models.version_source(db, "normal-change", 1)
    with pytest.raises(change_models.ChangeModelError) as refused:
        set_states(source, {}, StateForm(name="", step="realisation", label="Quality check"))
    assert refused.value.problems == [
        "new state 'Quality check': choose the states it is reached from (a state nothing leads "
        "to is unreachable)",
        "new state 'Quality check': choose the state a change moves to after it (a state nothing "
        "leads out of is a dead end)"]
    with pytest.raises(change_models.ChangeModelError, match="already a state 'building'"):
        set_states(source, {}, StateForm(name="", step="realisation", label="Building",
                                         sources=["planning"], dest="implemented"))
