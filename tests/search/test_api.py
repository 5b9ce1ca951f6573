"""The search over the API: the groups the web's results page shows the same user, the exact key,
the link to the register listing with the same text, and bad input."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.search.test_services import JOOST, PRECISION, build_search_register
from tests.support.api import ApiClient, error_of


@pytest.fixture
def api(web_app: Flask) -> ApiClient:
    client = ApiClient(web_app)
    build_search_register(client.db)
    return client


def test_search_answers_every_group_the_caller_may_open(api: ApiClient) -> None:
    body = api.get("/search?q=dell", "carol").get_json()

    assert body["q"] == "dell" and body["exact"] is None
    assert [hit["key"] for hit in body["items"]["hits"]] == [JOOST, PRECISION]
    assert body["items"]["total"] == 2
    assert body["items"]["hits"][0]["manufacturer"] == "Dell"
    assert [hit["title"] for hit in body["changes"]["hits"]] == ["Hand out Dell laptops"]
    assert body["people"] == {"hits": [], "total": 0}

    listing = api.get(body["items"]["all"], "carol").get_json()  # the register, same text
    assert [item["key"] for item in listing["items"]] == [JOOST, PRECISION]


def test_each_role_gets_only_its_groups(api: ApiClient) -> None:
    designer = api.get("/search?q=anna", "pat").get_json()
    assert designer["changes"] is None
    assert designer["people"]["hits"] == [{"kind": "owner", "name": "Anna Bakker",
                                           "username": None, "roles": [], "active": None,
                                           "items": 2}]
    administrator = api.get("/search?q=carol", "ada").get_json()
    assert administrator["items"] is None and administrator["changes"] is None
    assert administrator["people"]["hits"] == [{
        "kind": "user", "name": "Carol", "username": "carol", "roles": ["change_coordinator"],
        "active": True, "items": None}]
    assert api.get("/search?q=CHG-000002", "pat").get_json()["exact"] is None


def test_an_exact_key_is_named_and_limit_cuts_each_group(api: ApiClient) -> None:
    assert api.get("/search?q=lap-000001", "sam").get_json()["exact"] == {"kind": "item",
                                                                          "key": JOOST}
    assert api.get("/search?q=chg-000002", "sam").get_json()["exact"] == {"kind": "change",
                                                                          "key": "CHG-000002"}
    body = api.get("/search?q=laptop&limit=2", "sam").get_json()
    assert len(body["items"]["hits"]) == 2 and body["items"]["total"] == 5


@pytest.mark.parametrize(("query", "field"), [
    ("q=" + "x" * 201, "q"),
    ("q=a%00b", "query"),  # NUL: refused in any parameter, before the search
    ("q=dell&limit=0", "limit"), ("q=dell&limit=51", "limit"),
])
def test_bad_input_is_a_422_naming_the_parameter(api: ApiClient, query: str, field: str) -> None:
    response = api.get(f"/search?{query}", "sam")
    assert response.status_code == 422
    assert field in [f["field"] for f in error_of(response)["fields"]]


def test_search_needs_a_token(api: ApiClient) -> None:
    assert api.get("/search?q=dell", None).status_code == 401
