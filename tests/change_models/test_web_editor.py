"""The process designer's editing screens over HTTP: a new draft, the YAML editor with its checks
(the error matrix), the structured form, the diagram redrawn on save, publish (then immutable),
retire, discard, the comparison, the dry run and import/export as YAML files."""

from __future__ import annotations

import html
import io

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient

from tests.support.definition_cases import ERROR_MATRIX, NORMAL
from tests.support.web import csrf_token, login, post_form
from usm.services import change_models, changes
from usm.services.change_models import change_model_detail
from usm.services.platform import Database

EDIT = "/designer/definitions/normal-change/2/edit"


def _new_draft(client: FlaskClient) -> None:
    login(client, "pat")
    response = post_form(client, "/designer/definitions/normal-change/1",
                         "/designer/definitions/normal-change/1/new-draft", {})
    assert response.status_code == 302 and response.headers["Location"] == EDIT


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.get_data(as_text=True))


def _authorise_form(**changes_: str) -> dict[str, str | list[str]]:
    values: dict[str, str | list[str]] = {
        "original": "authorise", "trigger": "authorise", "label": "Authorise",
        "sources": ["awaiting_approval"], "dest": "planning", "auto": "on", "approvals": "1"}
    values.update(changes_)
    return values


@pytest.mark.parametrize("path", [EDIT, "/designer/definitions/normal-change/1/diff",
                                  "/designer/definitions/normal-change/1/dry-run",
                                  "/designer/definitions/normal-change/1.yaml",
                                  "/designer/definitions/import"])
@pytest.mark.parametrize("user", ["carol", "sam", "ada"])
def test_only_designers_open_the_editing_pages(web_client: FlaskClient, user: str,
                                               path: str) -> None:
    login(web_client, user)
    assert web_client.get(path).status_code == 403


@pytest.mark.parametrize("action", ["new-draft", "publish", "retire", "discard", "edit",
                                    "transition", "states", "transition/remove",
                                    "states/remove"])
def test_only_designers_change_versions(web_client: FlaskClient, web_db: Database,
                                        action: str) -> None:
    login(web_client, "carol")
    token = csrf_token(web_client, "/")
    response = web_client.post(f"/designer/definitions/normal-change/1/{action}",
                               data={"csrf_token": token, "source": NORMAL})
    assert response.status_code == 403
    assert change_model_detail(web_db, "normal-change", 1).status == "published"


def test_a_form_without_csrf_token_is_refused(web_client: FlaskClient, web_db: Database) -> None:
    login(web_client, "pat")
    response = web_client.post("/designer/definitions/normal-change/1/retire")
    assert response.status_code == 400
    assert change_model_detail(web_db, "normal-change", 1).status == "published"


def test_a_new_draft_opens_in_the_editor_with_its_diagram(web_client: FlaskClient) -> None:
    _new_draft(web_client)

    page = _text(web_client.get(EDIT))

    assert "Draft version 2 made from version 1" in page
    assert '<textarea id="f-source" name="source"' in page and "version: 2" in page
    assert "passes every check against the CHM skeleton" in page
    assert "<svg" in page and "1 approval" in page
    assert 'aria-label="Transition authorise"' in page


@pytest.mark.parametrize("case", sorted(ERROR_MATRIX))
def test_the_editor_refuses_each_broken_text_and_names_the_place(
        web_client: FlaskClient, web_db: Database, case: str) -> None:
    _new_draft(web_client)
    before = change_models.version_source(web_db, "normal-change", 2)
    broken, expected = ERROR_MATRIX[case]

    response = post_form(web_client, EDIT, EDIT, {"source": broken})

    assert response.status_code == 422
    page = _text(response)
    checks = page[page.index('id="problems"'):]
    assert expected in checks
    assert "Not saved" in checks
    assert broken.splitlines()[1] in page  # the typed text stays in the editor to fix
    assert change_models.version_source(web_db, "normal-change", 2) == before


def test_saving_yaml_redraws_the_diagram(web_client: FlaskClient, web_db: Database) -> None:
    _new_draft(web_client)
    source = change_models.version_source(web_db, "normal-change", 2)

    response = post_form(web_client, EDIT, EDIT, {
        "source": source.replace("approvals: {count: 1}", "approvals: {count: 3}")})

    assert response.status_code == 302
    page = _text(web_client.get(EDIT))
    assert "Saved draft version 2" in page
    diagram = page[page.index('id="diagram"'):]
    assert "3 approvals" in diagram and "1 approval" not in diagram


def test_the_structured_form_adds_an_approval_guard(web_client: FlaskClient,
                                                    web_db: Database) -> None:
    _new_draft(web_client)

    response = post_form(web_client, EDIT, "/designer/definitions/normal-change/2/transition",
                         _authorise_form(approvals="2", cost_at_most="5000",
                                         flags=["window_planned"]))

    assert response.status_code == 302
    saved = change_models.version_source(web_db, "normal-change", 2)
    assert "approvals: {count: 2}" in saved and "amount: 5000" in saved
    detail = change_model_detail(web_db, "normal-change", 2)
    authorise = next(t for t in detail.transitions if t.trigger == "authorise")
    assert authorise.guards == ["2 approvals", "cost (estimate or change set value) ≤ 5000", "window planned"]
    assert "2 approvals" in _text(web_client.get(EDIT))


def test_the_structured_form_names_the_transition_it_cannot_save(web_client: FlaskClient,
                                                                 web_db: Database) -> None:
    _new_draft(web_client)
    before = change_models.version_source(web_db, "normal-change", 2)

    response = post_form(web_client, EDIT, "/designer/definitions/normal-change/2/transition",
                         _authorise_form(approvals="many", roles=["wizard"], auto=""))

    assert response.status_code == 422
    page = _text(response)
    assert "transition 'authorise': unknown role 'wizard'" in page
    assert "transition 'authorise': guard 'approvals' count" in page
    assert change_models.version_source(web_db, "normal-change", 2) == before


def test_the_states_form_sets_time_targets_and_adds_a_state(web_client: FlaskClient,
                                                            web_db: Database) -> None:
    _new_draft(web_client)
    states = "/designer/definitions/normal-change/2/states"

    response = post_form(web_client, EDIT, states, {"target-registered": "abc"})
    assert response.status_code == 422
    assert "states[0] (registered).time_target_hours" in _text(response)

    response = post_form(web_client, EDIT, states, {"target-registered": "12",
                                                    "new_name": "second_opinion",
                                                    "new_step": "assessment"})
    # A new state nothing leads to is refused, with its name and what it lacks.
    assert response.status_code == 422
    assert ("new state 'second_opinion': choose the states it is reached from"
            in _text(response))

    assert post_form(web_client, EDIT, states,
                     {"target-registered": "12"}).status_code == 302
    registered = change_model_detail(web_db, "normal-change", 2).states[0]
    assert registered.time_target_hours == 12


def _with_second_opinion(source: str) -> str:
    """The draft with a state the assessment may detour through, and its two arrows."""
    data = yaml.safe_load(source)
    data["states"].insert(2, {"name": "second_opinion", "step": "assessment"})
    data["transitions"] += [
        {"trigger": "ask_second_opinion", "source": "in_assessment", "dest": "second_opinion",
         "roles": ["change_coordinator"]},
        {"trigger": "give_opinion", "source": "second_opinion", "dest": "in_assessment",
         "roles": ["service_owner"]}]
    withdraw = next(t for t in data["transitions"] if t["trigger"] == "withdraw")
    withdraw["source"].append("second_opinion")
    return yaml.safe_dump(data, sort_keys=False)


def test_the_form_removes_a_state_with_its_arrows(web_client: FlaskClient,
                                                  web_db: Database) -> None:
    _new_draft(web_client)
    source = _with_second_opinion(change_models.version_source(web_db, "normal-change", 2))
    assert post_form(web_client, EDIT, EDIT, {"source": source}).status_code == 302
    page = _text(web_client.get(EDIT))
    assert 'name="remove_state" value="second_opinion"' in page
    assert 'name="remove_state" value="registered"' not in page, "the initial state stays"

    response = post_form(web_client, EDIT, "/designer/definitions/normal-change/2/states/remove",
                         {"remove_state": "second_opinion"})

    assert response.status_code == 302
    assert "State second_opinion is removed, with the transitions ask_second_opinion, " \
        "give_opinion." in _text(web_client.get(EDIT))
    detail = change_model_detail(web_db, "normal-change", 2)
    assert "second_opinion" not in [s.name for s in detail.states]
    assert {t.trigger for t in detail.transitions} == \
        {t.trigger for t in change_model_detail(web_db, "normal-change", 1).transitions}
    withdraw = next(t for t in detail.transitions if t.trigger == "withdraw")
    assert "second_opinion" not in withdraw.sources


@pytest.mark.parametrize(("state", "problem"), [
    ("planning", "missing step: no state maps to planning"),
    ("registered", "state 'registered': changes start there (initial)"),
    ("nowhere", "state 'nowhere': there is no such state to remove"),
])
def test_a_state_removal_that_breaks_the_model_is_refused_by_name(
        web_client: FlaskClient, web_db: Database, state: str, problem: str) -> None:
    _new_draft(web_client)
    before = change_models.version_source(web_db, "normal-change", 2)

    response = post_form(web_client, EDIT, "/designer/definitions/normal-change/2/states/remove",
                         {"remove_state": state})

    assert response.status_code == 422
    assert problem in _text(response)
    assert change_models.version_source(web_db, "normal-change", 2) == before


def test_the_form_removes_a_transition_unless_a_state_then_cannot_be_reached(
        web_client: FlaskClient, web_db: Database) -> None:
    _new_draft(web_client)
    remove = "/designer/definitions/normal-change/2/transition/remove"
    before = change_models.version_source(web_db, "normal-change", 2)

    refused = post_form(web_client, EDIT, remove, {"original": "authorise"})
    assert refused.status_code == 422
    assert "state 'planning' is unreachable" in _text(refused)
    unknown = post_form(web_client, EDIT, remove, {"original": "nope"})
    assert unknown.status_code == 422
    assert "transition 'nope': there is no such transition to remove" in _text(unknown)
    assert change_models.version_source(web_db, "normal-change", 2) == before

    assert post_form(web_client, EDIT, remove, {"original": "rework"}).status_code == 302
    triggers = [t.trigger for t in change_model_detail(web_db, "normal-change", 2).transitions]
    assert "rework" not in triggers and "authorise" in triggers


def test_a_published_version_is_not_edited_by_a_removal(web_client: FlaskClient,
                                                        web_db: Database) -> None:
    login(web_client, "pat")
    source = change_models.version_source(web_db, "normal-change", 1)
    response = post_form(web_client, "/designer/definitions/normal-change/1",
                         "/designer/definitions/normal-change/1/transition/remove",
                         {"original": "rework"})
    assert response.status_code == 409
    assert change_models.version_source(web_db, "normal-change", 1) == source


def test_publish_makes_the_draft_immutable_and_new_changes_use_it(
        web_app: Flask, web_client: FlaskClient, web_db: Database) -> None:
    _new_draft(web_client)
    post_form(web_client, EDIT, "/designer/definitions/normal-change/2/transition",
              _authorise_form(approvals="2"))

    response = post_form(web_client, EDIT, "/designer/definitions/normal-change/2/publish", {})
    assert response.status_code == 302
    page = _text(web_client.get("/designer/definitions/normal-change/2"))
    assert "Version 2 is published" in page and "status-published" in page

    source = change_models.version_source(web_db, "normal-change", 2)
    edit_page = _text(web_client.get(EDIT))
    assert "a published version never changes" in edit_page
    assert '<textarea id="f-source"' not in edit_page
    refused = post_form(web_client, "/designer/definitions/normal-change/1", EDIT,
                        {"source": source.replace("Authorise", "Approve")})
    assert refused.status_code == 409
    assert "a published version never changes" in _text(refused)
    assert change_models.version_source(web_db, "normal-change", 2) == source

    key = changes.register_change(web_db, "carol", model="normal-change", title="After",
                                  operations=[{"op": "create_item", "ref": "a",
                                               "class": "hardware.laptop", "name": "L",
                                               "serial_number": "SN-9"}]).key
    coordinator = web_app.test_client()
    login(coordinator, "carol")
    assert "normal-change v2" in _text(coordinator.get(f"/changes/{key}"))


def test_retire_and_discard(web_client: FlaskClient, web_db: Database) -> None:
    _new_draft(web_client)
    post_form(web_client, EDIT, "/designer/definitions/normal-change/2/discard", {})
    assert web_client.get(EDIT).status_code == 404

    post_form(web_client, "/designer/definitions/standard-change/1",
              "/designer/definitions/standard-change/1/retire", {})
    assert change_model_detail(web_db, "standard-change", 1).status == "retired"
    again = post_form(web_client, "/designer/definitions/standard-change/1",
                      "/designer/definitions/standard-change/1/retire", {})
    assert "only a published version is retired" in _text(web_client.get(
        again.headers["Location"]))


def test_the_comparison_lists_changed_transitions_and_the_yaml_diff(web_client: FlaskClient
                                                                    ) -> None:
    _new_draft(web_client)
    post_form(web_client, EDIT, "/designer/definitions/normal-change/2/transition",
              _authorise_form(approvals="2"))

    page = _text(web_client.get("/designer/definitions/normal-change/2/diff"))

    assert "against published version 1" in page
    assert "transition 'authorise' changed (guards: [approvals(count=1)] → " \
           "[approvals(count=2)])" in page
    assert '<span class="del">-      - approvals: {count: 1}</span>' in page


def test_the_dry_run_shows_guards_passing_and_blocking(web_client: FlaskClient) -> None:
    _new_draft(web_client)
    post_form(web_client, EDIT, "/designer/definitions/normal-change/2/transition",
              _authorise_form(approvals="2"))
    base = ("/designer/definitions/normal-change/2/dry-run?role=change_coordinator&risk=low"
            "&filled=impact&approvals=1&change_set=on")

    first = _text(web_client.get("/designer/definitions/normal-change/2/dry-run"))
    assert '<span id="dry-state">Registered</span>' in first

    page = _text(web_client.get(base + "&path=assess&next=submit_for_approval"))
    assert '<span id="dry-state">Awaiting approval</span>' in page
    assert "2 approvals: blocks ✗ (needs 2 approval(s), has 1)" in page

    blocked = _text(web_client.get(base + "&path=assess,submit_for_approval&next=authorise"))
    assert "'authorise' is not a manual transition from awaiting_approval" in blocked
    assert "Authorise happens by itself once:" in blocked
    assert '<input type="hidden" name="path" value="assess,submit_for_approval">' in blocked

    passed = _text(web_client.get(base.replace("approvals=1", "approvals=2")
                                  + "&path=assess,submit_for_approval&next=authorise"))
    assert '<span id="dry-state">Planning</span>' in passed

    bad = web_client.get(base.replace("approvals=1", "approvals=lots")
                         .replace("role=change_coordinator", "role=king") + "&cost=x")
    assert bad.status_code == 200
    text = _text(bad)
    assert "a whole number from 0 to 20" in text and "unknown role 'king'" in text
    assert "'x' is not an amount: write it as 1,249.50 (or 1249.50)" in text


def test_download_and_import_a_definition_file(web_client: FlaskClient, web_db: Database) -> None:
    login(web_client, "pat")
    download = web_client.get("/designer/definitions/normal-change/1.yaml")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"] == \
        'attachment; filename="normal-change-v1.yaml"'
    assert download.get_data(as_text=True) == change_models.version_source(web_db, "normal-change", 1)

    edited = download.get_data().replace(b"approvals: {count: 1}", b"approvals: {count: 2}")
    response = web_client.post("/designer/definitions/import", data={
        "csrf_token": csrf_token(web_client, "/designer/definitions/import"),
        "file": (io.BytesIO(edited), "normal-change.yaml")}, content_type="multipart/form-data")
    assert response.status_code == 302 and response.headers["Location"] == EDIT
    assert change_model_detail(web_db, "normal-change", 2).status == "draft"
    assert "count: 2" in change_models.version_source(web_db, "normal-change", 2)


@pytest.mark.parametrize("content, expected", [
    (ERROR_MATRIX["unknown-role"][0].encode(), "transition 'assess': unknown role 'wizard'"),
    (b"\xff\xfe not text", "my-model.yaml: not UTF-8 text"),
    (b"", "file: choose a YAML file or paste the definition"),
])
def test_a_refused_import_names_the_problem_and_stores_nothing(
        web_client: FlaskClient, web_db: Database, content: bytes, expected: str) -> None:
    login(web_client, "pat")
    response = web_client.post("/designer/definitions/import", data={
        "csrf_token": csrf_token(web_client, "/designer/definitions/import"),
        "file": (io.BytesIO(content), "my-model.yaml")}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert expected in _text(response)
    with pytest.raises(change_models.ChangeModelNotFound):
        change_models.version_source(web_db, "normal-change", 2)


@pytest.mark.parametrize("path", ["edit", "diff", "dry-run"])
def test_a_version_number_too_large_for_the_database_is_not_found(web_client: FlaskClient,
                                                                 path: str) -> None:
    login(web_client, "pat")
    assert web_client.get(f"/designer/definitions/normal-change/99999999999999999999/{path}"
                          ).status_code == 404


STATES = "/designer/definitions/normal-change/2/states"
QUALITY_CHECK = {"new_label": "Quality check", "new_step": "realisation", "new_target": "8",
                 "new_from": "building", "new_to": "implemented",
                 "new_roles": "change_coordinator"}


def test_the_states_form_adds_a_state_and_its_transitions_in_one_save(
        web_client: FlaskClient, web_db: Database) -> None:
    _new_draft(web_client)

    response = post_form(web_client, EDIT, STATES, QUALITY_CHECK)

    assert response.status_code == 302, _text(response)[-3000:]
    detail = change_model_detail(web_db, "normal-change", 2)
    quality = next(s for s in detail.states if s.name == "quality_check")
    assert (quality.label, quality.time_target_hours) == ("Quality check", 8)
    assert {(t.trigger, t.dest) for t in detail.transitions} >= {
        ("to_quality_check", "quality_check"), ("quality_check_done", "implemented")}
    page = _text(web_client.get(EDIT))
    assert "Quality check" in page[page.index('id="diagram"'):]
    saved = change_models.version_source(web_db, "normal-change", 2)
    assert "# moves on by itself once the approvals are in" in saved  # comments are kept


def test_a_refused_form_keeps_what_was_typed(web_client: FlaskClient, web_db: Database) -> None:
    _new_draft(web_client)
    before = change_models.version_source(web_db, "normal-change", 2)

    typed = {**QUALITY_CHECK, "new_from": "", "target-registered": "6"}
    response = post_form(web_client, EDIT, STATES, typed)

    assert response.status_code == 422
    page = _text(response)
    assert "new state 'Quality check': choose the states it is reached from" in page
    assert 'name="new_label" value="Quality check"' in page
    assert 'name="new_target" value="8"' in page
    assert '<option value="implemented" selected>' in page
    assert 'name="target-registered" aria-label="Time target of Registered (hours)" value="6"' \
        in page
    assert change_models.version_source(web_db, "normal-change", 2) == before

    response = post_form(web_client, EDIT, "/designer/definitions/normal-change/2/transition",
                         _authorise_form(approvals="many", label="Authorise by the board"))
    assert response.status_code == 422
    page = _text(response)
    assert '<details class="transition-form" id="t-authorise" open>' in page
    assert 'name="approvals" inputmode="numeric" value="many"' in page
    assert 'name="label" value="Authorise by the board"' in page


def test_a_new_transition_takes_its_trigger_from_its_label(web_client: FlaskClient,
                                                            web_db: Database) -> None:
    _new_draft(web_client)
    response = post_form(web_client, EDIT, "/designer/definitions/normal-change/2/transition", {
        "original": "", "trigger": "", "label": "Back to planning", "sources": "building",
        "dest": "planning", "roles": "change_coordinator"})
    assert response.status_code == 302, _text(response)[-3000:]
    detail = change_model_detail(web_db, "normal-change", 2)
    assert ("back_to_planning", "planning") in {(t.trigger, t.dest) for t in detail.transitions}
