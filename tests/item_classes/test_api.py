"""Editing item classes over the API: draft (new class and new version), publish, retire, export;
the validation error matrix; a published version is immutable."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.item_classes.test_services import REFUSALS, _laptop_spec
from tests.support.api import ApiClient, error_of
from tests.support.helpers import at, implement_normal_change, laptop
from usm.services.platform import Database

LAPTOP = "/item-classes/hardware.laptop/versions"


@pytest.fixture
def api(web_app) -> ApiClient:  # type: ignore[no-untyped-def]
    return ApiClient(web_app)


def _source(spec: dict[str, Any]) -> str:
    return yaml.safe_dump(spec, sort_keys=False)


def test_draft_edit_publish_and_the_old_version_is_history(api: ApiClient, web_db: Database
                                                           ) -> None:
    spec = _laptop_spec(web_db)
    created = api.post("/item-classes", "pat", json={"source": _source(spec)})
    assert created.status_code == 201
    body = created.get_json()
    assert (body["code"], body["version"], body["status"], body["created_by"]) == \
        ("hardware.laptop", 2, "draft", "pat")
    assert created.headers["Location"].endswith(f"{LAPTOP}/2")

    spec["attributes"].append({"name": "dock", "type": "boolean"})
    updated = api.call("PUT", f"{LAPTOP}/2", "pat", json={"source": _source(spec)})
    assert updated.status_code == 200
    assert "dock" in [a["name"] for a in updated.get_json()["attributes"]]

    published = api.post(f"{LAPTOP}/2/publish", "pat")
    assert published.status_code == 200 and published.get_json()["status"] == "published"
    listing = api.get(LAPTOP, "pat").get_json()
    assert listing["published_version"] == 2
    assert [(v["version"], v["status"]) for v in listing["versions"]] == [
        (2, "published"), (1, "superseded")]
    classes = api.get("/item-classes/hardware.laptop", "carol").get_json()
    assert "dock" in [a["name"] for a in classes["attributes"]]


def test_a_published_version_is_immutable_409(api: ApiClient, web_db: Database) -> None:
    response = api.call("PUT", f"{LAPTOP}/1", "pat", json={"source": _source(_laptop_spec(web_db))})
    assert response.status_code == 409
    assert "published: only a draft changes" in error_of(response)["message"]
    assert api.post(f"{LAPTOP}/1/publish", "pat").status_code == 409


@pytest.mark.parametrize(("edit", "expected"), REFUSALS)
def test_the_api_refuses_each_broken_class_naming_class_and_attribute(
        api: ApiClient, web_db: Database, edit: Any, expected: str) -> None:
    response = api.post("/item-classes", "pat", json={"source": _source(edit(_laptop_spec(web_db)))})

    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "validation_failed"
    assert any(expected in f["message"] for f in error["fields"]), error["fields"]
    assert [v["version"] for v in api.get(LAPTOP, "pat").get_json()["versions"]] == [1]


def test_a_type_change_the_register_does_not_fit_is_refused(api: ApiClient, web_db: Database
                                                            ) -> None:
    implement_normal_change(web_db, [laptop("a", "SN-1", attributes={"cpu": "i5"})],
                            at("2026-03-02"))
    spec = _laptop_spec(web_db)
    next(a for a in spec["attributes"] if a["name"] == "cpu")["type"] = "integer"

    response = api.post("/item-classes", "pat", json={"source": _source(spec)})

    assert response.status_code == 422
    assert "1 item holds a value that is not integer (e.g. LAP-000001: 'i5')" in \
        error_of(response)["fields"][0]["message"]


def test_export_is_yaml_that_imports_back_as_the_same_class(api: ApiClient) -> None:
    exported = api.get(f"{LAPTOP}/1/export", "pat")
    assert exported.status_code == 200
    assert exported.headers["Content-Disposition"] == \
        'attachment; filename="hardware.laptop-v1.yaml"'
    text = exported.get_data(as_text=True)
    assert yaml.safe_load(text)["key_prefix"] == "LAP"

    imported = api.post("/item-classes", "pat", json={"source": text}).get_json()
    original = api.get(f"{LAPTOP}/1", "pat").get_json()
    assert imported["attributes"] == original["attributes"] and imported["version"] == 2


def test_retire_a_draft_and_refuse_a_class_in_use(api: ApiClient) -> None:
    draft = api.post("/item-classes", "pat", json={
        "source": "code: hardware.pager\nname: Pager\nkey_prefix: PAG\n"}).get_json()
    retired = api.post(f"/item-classes/hardware.pager/versions/{draft['version']}/retire", "pat")
    assert retired.status_code == 200 and retired.get_json()["status"] == "retired"

    implement_normal_change(api.db, [laptop("a", "SN-1")], at("2026-03-02"))
    refused = api.post(f"{LAPTOP}/1/retire", "pat")
    assert refused.status_code == 409
    assert "1 item version(s) are of the class" in error_of(refused)["message"]


def test_unknown_class_or_version_is_404(api: ApiClient) -> None:
    assert api.get("/item-classes/nothing/versions", "pat").status_code == 404
    assert api.get(f"{LAPTOP}/77", "pat").status_code == 404
    assert api.post(f"{LAPTOP}/77/publish", "pat").status_code == 404
    for version in (2**31, 2**40):  # beyond the column: not found, for every method
        assert api.get(f"{LAPTOP}/{version}", "pat").status_code == 404
        assert api.call("PUT", f"{LAPTOP}/{version}", "pat",
                        json={"source": _source(_laptop_spec(api.db))}).status_code == 404
