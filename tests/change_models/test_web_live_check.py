"""The editors' live check over HTTP: the YAML being typed in a change-model or item-class draft is
checked as a save would check it and answered as JSON naming each problem, for process designers
only, with the CSRF token, and nothing is stored."""

from __future__ import annotations

import pytest
import yaml
from flask.testing import FlaskClient

from tests.item_classes.test_services import _laptop_spec
from tests.support.definition_cases import NORMAL
from tests.support.hostile_yaml import alias_bomb
from tests.support.web import csrf_token, login, post_form
from usm.services import change_models, item_classes
from usm.services.platform import Database
from web.support.live_check import MAX_SOURCE_BYTES

DRAFT = "/designer/definitions/normal-change/2"
CLASS_DRAFT = "/designer/classes/hardware.laptop/2"
BROKEN_DEST = NORMAL.replace("    source: awaiting_approval\n    dest: planning",
                             "    source: awaiting_approval\n    dest: plannnig", 1)


@pytest.fixture
def designer(web_client: FlaskClient) -> FlaskClient:
    """Pat, signed in, with draft 2 of the normal-change model and of the laptop class."""
    login(web_client, "pat")
    made = post_form(web_client, "/designer/definitions/normal-change/1",
                     "/designer/definitions/normal-change/1/new-draft", {})
    assert made.headers["Location"] == f"{DRAFT}/edit"
    made = post_form(web_client, "/designer/classes/hardware.laptop/1",
                     "/designer/classes/hardware.laptop/1/new-draft", {})
    assert made.headers["Location"] == f"{CLASS_DRAFT}/edit"
    return web_client


def _check(client: FlaskClient, draft: str, source: str, **headers: str):  # type: ignore[no-untyped-def]
    token = csrf_token(client, f"{draft}/edit")
    return client.post(f"{draft}/check", json={"source": source},
                       headers={"X-CSRFToken": token, **headers})


def test_a_good_definition_has_no_problems(designer: FlaskClient) -> None:
    response = _check(designer, DRAFT, NORMAL)

    assert response.status_code == 200
    assert response.get_json() == {"problems": []}


def test_a_transition_to_an_unknown_state_is_named(designer: FlaskClient, web_db: Database) -> None:
    saved = change_models.version_source(web_db, "normal-change", 2)

    response = _check(designer, DRAFT, BROKEN_DEST)

    assert response.status_code == 200
    assert response.get_json() == {
        "problems": ["transition 'authorise': unknown destination state 'plannnig'"]}
    assert change_models.version_source(web_db, "normal-change", 2) == saved  # nothing stored


def test_malformed_yaml_is_a_problem_naming_the_line(designer: FlaskClient) -> None:
    response = _check(designer, DRAFT, "code: [normal-change\nname: x")

    assert response.status_code == 200
    [problem] = response.get_json()["problems"]
    assert "not valid YAML at line 2" in problem


def test_a_form_field_works_as_well_as_json(designer: FlaskClient) -> None:
    response = post_form(designer, f"{DRAFT}/edit", f"{DRAFT}/check", {"source": BROKEN_DEST})

    assert response.status_code == 200
    assert "transition 'authorise'" in response.get_json()["problems"][0]


def test_another_models_code_is_refused_as_a_save_would(designer: FlaskClient) -> None:
    response = _check(designer, DRAFT, NORMAL.replace("code: normal-change", "code: other", 1))

    assert response.get_json()["problems"] == [
        "code: a draft keeps its model's code 'normal-change' (the text names 'other'); import "
        "it as a new model instead"]


def test_a_published_version_says_it_never_changes(designer: FlaskClient) -> None:
    token = csrf_token(designer, f"{DRAFT}/edit")
    response = designer.post("/designer/definitions/normal-change/1/check",
                             json={"source": NORMAL}, headers={"X-CSRFToken": token})

    assert response.status_code == 200
    assert "a published version never changes" in response.get_json()["problems"][0]


def test_an_unknown_version_is_not_found(designer: FlaskClient) -> None:
    assert _check(designer, "/designer/definitions/normal-change/9", NORMAL).status_code == 404
    assert _check(designer, "/designer/classes/hardware.laptop/9", "code: x").status_code == 404


def test_text_without_source_is_a_bad_request(designer: FlaskClient) -> None:
    token = csrf_token(designer, f"{DRAFT}/edit")
    response = designer.post(f"{DRAFT}/check", json={"text": NORMAL},
                             headers={"X-CSRFToken": token})

    assert response.status_code == 400
    assert response.get_json() == {"problems": ["source: send the YAML text as 'source'"]}


def test_a_body_nested_too_deeply_is_a_bad_request(designer: FlaskClient) -> None:
    token = csrf_token(designer, f"{DRAFT}/edit")
    deep = '{"source": ' + "[" * 100_000 + "]" * 100_000 + "}"  # json.loads recursed: a 500

    response = designer.post(f"{DRAFT}/check", data=deep, content_type="application/json",
                             headers={"X-CSRFToken": token})

    assert response.status_code == 400
    assert response.get_json() == {"problems": ["source: send the YAML text as 'source'"]}


def test_an_alias_bomb_is_a_problem_naming_the_limit(designer: FlaskClient) -> None:
    response = _check(designer, DRAFT, alias_bomb(9))

    assert response.status_code == 200
    assert response.get_json() == {"problems": [
        "normal-change v2: not valid YAML at line 9, column 39: more than 50000 values (an alias "
        "counts as the values it repeats)"]}


def test_a_text_over_the_limit_is_refused(designer: FlaskClient, web_db: Database) -> None:
    saved = change_models.version_source(web_db, "normal-change", 2)
    padding = "#" + "x" * 1000 + "\n"
    source = NORMAL + padding * (MAX_SOURCE_BYTES // len(padding) + 1)

    response = _check(designer, DRAFT, source)

    assert response.status_code == 413
    assert response.get_json() == {
        "problems": ["source: larger than 256 KiB; it is checked when you save"]}
    assert change_models.version_source(web_db, "normal-change", 2) == saved


@pytest.mark.parametrize("user", ["carol", "sam", "ada"])
def test_only_designers_may_check(web_client: FlaskClient, user: str) -> None:
    login(web_client, user)
    token = csrf_token(web_client, "/")
    for path in ("/designer/definitions/normal-change/1/check",
                 "/designer/classes/hardware.laptop/1/check"):
        response = web_client.post(path, json={"source": NORMAL}, headers={"X-CSRFToken": token})
        assert response.status_code == 403


def test_without_the_csrf_token_the_check_is_refused(designer: FlaskClient) -> None:
    for draft in (DRAFT, CLASS_DRAFT):
        assert designer.post(f"{draft}/check", json={"source": NORMAL}).status_code == 400
        assert designer.post(f"{draft}/check", json={"source": NORMAL},
                             headers={"X-CSRFToken": "forged"}).status_code == 400


def test_an_anonymous_check_goes_to_sign_in(web_client: FlaskClient) -> None:
    token = csrf_token(web_client)
    response = web_client.post(f"{DRAFT}/check", json={"source": NORMAL},
                               headers={"X-CSRFToken": token})
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_good_class_has_no_problems(designer: FlaskClient, web_db: Database) -> None:
    source = yaml.safe_dump(_laptop_spec(web_db), sort_keys=False)

    response = _check(designer, CLASS_DRAFT, source)

    assert response.status_code == 200
    assert response.get_json() == {"problems": []}


def test_a_bad_attribute_is_named_and_the_class_draft_unchanged(designer: FlaskClient,
                                                                web_db: Database) -> None:
    spec = _laptop_spec(web_db)
    spec["attributes"].append({"name": "weight", "type": "float"})
    before = item_classes.class_version(web_db, "hardware.laptop", 2).spec

    response = _check(designer, CLASS_DRAFT, yaml.safe_dump(spec, sort_keys=False))

    assert response.status_code == 200
    assert any("attribute 'weight': unknown type 'float'" in p
               for p in response.get_json()["problems"])
    assert item_classes.class_version(web_db, "hardware.laptop", 2).spec == before


def test_malformed_class_yaml_is_a_problem_naming_the_line(designer: FlaskClient) -> None:
    response = _check(designer, CLASS_DRAFT, "code: hardware.laptop\nname: [x\n")

    assert response.status_code == 200
    [problem] = response.get_json()["problems"]
    assert "not valid YAML at line" in problem


def test_the_editors_load_the_live_check(designer: FlaskClient) -> None:
    for draft in (DRAFT, CLASS_DRAFT):
        page = designer.get(f"{draft}/edit").get_data(as_text=True)
        assert 'src="/static/designer_check.js" defer' in page
        assert f'data-check-url="{draft}/check"' in page
        assert 'id="live-check" class="live-check" aria-live="polite"' in page
