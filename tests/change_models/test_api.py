"""Editing change models over the API: draft (new and replaced), publish, retire; the validation
error matrix; a published version is immutable; changes in flight keep their version."""

from __future__ import annotations

import pytest

from tests.support.api import ApiClient, error_of
from tests.support.definition_cases import ERROR_MATRIX, NORMAL
from tests.support.helpers import laptop
from usm.services import change_models, changes
from usm.services.platform import Database

DRAFT = "/workflow-definitions/normal-change/versions/2"


@pytest.fixture
def api(web_app) -> ApiClient:  # type: ignore[no-untyped-def]
    return ApiClient(web_app)


def _create(api: ApiClient, source: str = NORMAL):  # type: ignore[no-untyped-def]
    return api.post("/workflow-definitions", "pat", json={"source": source})


def test_post_saves_a_draft_with_the_next_version(api: ApiClient) -> None:
    response = _create(api, NORMAL.replace("version: 1", "version: 5"))

    assert response.status_code == 201
    body = response.get_json()
    assert (body["code"], body["version"], body["status"]) == ("normal-change", 2, "draft")
    assert response.headers["Location"].endswith("/workflow-definitions/normal-change?version=2")
    assert "version: 2" in body["source"]
    assert api.get("/workflow-definitions/normal-change?version=2", "pat").status_code == 200


@pytest.mark.parametrize("case", sorted(ERROR_MATRIX))
def test_the_api_refuses_each_broken_text_and_names_the_place(api: ApiClient, web_db: Database,
                                                              case: str) -> None:
    broken, expected = ERROR_MATRIX[case]
    assert _create(api).status_code == 201
    before = change_models.version_source(web_db, "normal-change", 2)

    for response in (_create(api, broken), api.call("PUT", DRAFT, "pat", json={"source": broken})):
        assert response.status_code == 422
        error = error_of(response)
        assert error["code"] == "validation_failed"
        assert any(f["field"] == "source" and expected in f["message"] for f in error["fields"])
    assert change_models.version_source(web_db, "normal-change", 2) == before
    assert api.get("/workflow-definitions/normal-change?version=3", "pat").status_code == 404


def test_put_replaces_a_draft_and_publish_makes_it_immutable(api: ApiClient,
                                                             web_db: Database) -> None:
    in_flight = changes.register_change(web_db, "carol", model="normal-change", title="Before",
                                        operations=[laptop("a", "SN-1")]).key
    _create(api)
    two = NORMAL.replace("approvals: {count: 1}", "approvals: {count: 2}")

    put = api.call("PUT", DRAFT, "pat", json={"source": two})
    assert put.status_code == 200
    authorise = next(t for t in put.get_json()["transitions"] if t["trigger"] == "authorise")
    assert authorise["guards"] == [{"name": "approvals", "params": {"count": 2}}]

    published = api.post(f"{DRAFT}/publish", "pat")
    assert published.status_code == 200 and published.get_json()["status"] == "published"

    refused = api.call("PUT", DRAFT, "pat", json={"source": NORMAL})
    assert refused.status_code == 409 and error_of(refused)["code"] == "refused"
    assert "published version never changes" in error_of(refused)["message"]
    assert "count: 2" in change_models.version_source(web_db, "normal-change", 2)
    assert api.post(f"{DRAFT}/publish", "pat").status_code == 409

    latest = api.get("/workflow-definitions/normal-change", "carol").get_json()
    assert latest["version"] == 2
    new = changes.register_change(web_db, "carol", model="normal-change", title="After",
                                  operations=[laptop("b", "SN-2")]).key
    assert api.get(f"/changes/{in_flight}", "carol").get_json()["model_version"] == 1
    assert api.get(f"/changes/{new}", "carol").get_json()["model_version"] == 2


def test_retire(api: ApiClient) -> None:
    response = api.post("/workflow-definitions/standard-change/versions/1/retire", "pat")
    assert response.status_code == 200 and response.get_json()["status"] == "retired"
    assert api.post("/workflow-definitions/standard-change/versions/1/retire",
                    "pat").status_code == 409
    assert api.post("/workflow-definitions/standard-change/versions/1/publish",
                    "pat").status_code == 409


@pytest.mark.parametrize("method, path", [
    ("PUT", "/workflow-definitions/normal-change/versions/99"),
    ("PUT", "/workflow-definitions/normal-change/versions/2147483647"),
    ("POST", "/workflow-definitions/no-such-model/versions/1/publish"),
    ("POST", "/workflow-definitions/normal-change/versions/99999999999/retire"),
])
def test_unknown_versions_are_404(api: ApiClient, method: str, path: str) -> None:
    response = api.call(method, path, "pat", json={"source": NORMAL})
    assert response.status_code == 404 and error_of(response)["code"] == "not_found"


@pytest.mark.parametrize("user", ["carol", "sam", "ada"])
def test_only_designers_edit_models(api: ApiClient, web_db: Database, user: str) -> None:
    assert _create(api).status_code == 201
    for method, path in [("POST", "/workflow-definitions"), ("PUT", DRAFT),
                         ("POST", f"{DRAFT}/publish"),
                         ("POST", "/workflow-definitions/normal-change/versions/1/retire")]:
        response = api.call(method, path, user, json={"source": NORMAL})
        assert response.status_code == 403, (method, path)
    assert change_models.version_source(web_db, "normal-change", 2).count("version: 2") == 1
    assert api.get("/workflow-definitions/normal-change?version=1",
                   "pat").get_json()["status"] == "published"
