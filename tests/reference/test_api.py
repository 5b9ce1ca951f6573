"""Reference data over the API: any caller reads a kind's values a page at a time; administrators
add, rename, retire and merge; the closed list refuses a typo in a change's change set."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.support.api import ApiClient, error_of
from tests.support.helpers import at, implement_normal_change, laptop, reference_values


@pytest.fixture
def api(web_app: Flask) -> ApiClient:
    return ApiClient(web_app)


def test_any_caller_reads_a_kinds_values_a_page_at_a_time(api: ApiClient) -> None:
    reference_values(api.db, "cost_centre", ("CC-100", "Finance"), ("CC-200", "Sales"),
                     ("CC-300", "IT"))
    implement_normal_change(api.db, [laptop("a", "SN-API-1", cost_centre="CC-200")],
                            at("2026-03-02"))
    first = api.get("/reference/cost_centre?limit=2", "pat")
    assert first.status_code == 200
    body = first.get_json()
    assert [(v["code"], v["name"], v["uses"]) for v in body["values"]] == [
        ("CC-100", "Finance", 0), ("CC-300", "IT", 0)]
    assert body["total"] == 3 and body["kind_total"] == 3
    second = api.get(body["next"], "pat").get_json()
    assert [(v["label"], v["uses"]) for v in second["values"]] == [("Sales (CC-200)", 1)]
    assert second["next"] is None
    assert api.get("/reference/cost_centre?q=fin", "sam").get_json()["values"][0]["code"] == \
        "CC-100"
    assert api.get("/reference/person", "sam").get_json()["kind_total"] == 0
    assert api.get("/reference/supplier", "sam").status_code == 404
    assert api.get("/reference/person", None).status_code == 401


def test_administrators_add_rename_retire_and_reactivate(api: ApiClient) -> None:
    added = api.post("/reference/location", "ada", json={"code": "UTR", "name": "Utrecht"})
    assert added.status_code == 201
    assert added.get_json()["label"] == "Utrecht (UTR)"
    assert api.post("/reference/location", "carol", json={"code": "AMS"}).status_code == 403
    duplicate = api.post("/reference/location", "ada", json={"code": "utr"})
    assert duplicate.status_code == 422
    assert error_of(duplicate)["fields"] == {
        "code": ["there is already a location 'UTR' (Utrecht)"]} or "code" in str(
        error_of(duplicate)["fields"])
    renamed = api.patch("/reference/location/utr", "ada", json={"name": "Utrecht HQ"})
    assert renamed.status_code == 200 and renamed.get_json()["code"] == "UTR"
    retired = api.patch("/reference/location/UTR", "ada", json={"active": False}).get_json()
    assert retired["active"] is False and retired["name"] == "Utrecht HQ"
    assert api.patch("/reference/location/UTR", "ada", json={"active": True}).get_json()["active"]
    assert api.patch("/reference/location/NOPE", "ada", json={"name": "x"}).status_code == 404
    assert api.patch("/reference/location/UTR", "ada", json={"colour": "red"}).status_code == 422


def test_a_typo_in_a_change_set_is_refused_with_the_closest_value(api: ApiClient) -> None:
    reference_values(api.db, "cost_centre", ("CC-100", "Finance"), ("CC-200", "Sales"))
    response = api.post("/changes", "carol", json={
        "model": "normal-change", "title": "New laptop",
        "operations": [laptop("a", "SN-API-2", cost_centre="FIN-100")]})
    assert response.status_code == 422
    assert "'FIN-100' is not a known cost centre; did you mean 'CC-100' (Finance)?" in str(
        error_of(response))


def test_a_merge_answers_with_the_change_that_waits_for_a_coordinator(api: ApiClient) -> None:
    reference_values(api.db, "person", "Ann", "Anne")
    implement_normal_change(api.db, [laptop("a", "SN-API-3", owner="Anne"),
                                      laptop("b", "SN-API-4", owner="Anne")], at("2026-03-02"))
    response = api.post("/reference/person/Anne/merge", "ada", json={"into": "Ann"})
    assert response.status_code == 200
    body = response.get_json()
    assert (body["source"], body["target"], body["items"]) == ("Anne", "Ann", 2)
    change = body["change"]
    assert change["key"].startswith("CHG-") and change["reached"] is False and change["blocked"]
    assert api.get(f"/changes/{change['key']}", "carol").get_json()["state"] == "registered"
    again = api.post("/reference/person/Anne/merge", "ada", json={"into": "Ann"})
    assert again.status_code == 409
