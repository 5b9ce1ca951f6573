"""The API's answers about changes that ended match its document: reading, editing and moving a
rejected or a withdrawn change (whose step list marks where it stopped as ``ended``); and the
document offers for ``If-Match`` exactly what the server takes."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tests.support.api import ApiClient, error_of
from web.api.errors import ErrorBody
from web.api.schemas.changes import ChangeDetailOut

CHANGE = {"model": "normal-change", "title": "A change that will end",
          "operations": [{"op": "create_item", "ref": "a", "class": "hardware.laptop",
                          "name": "Laptop"}]}
ETAGGED = ("editChange", "moveChange", "approveChange", "commentChange")


@pytest.fixture
def api(web_app: Flask) -> ApiClient:
    return ApiClient(web_app)


def _ended(api: ApiClient, *moves: str) -> tuple[str, dict[str, Any]]:
    """A change moved by ``moves``; the answer to the last move."""
    key = api.post("/changes", json=CHANGE).get_json()["key"]
    answer: dict[str, Any] = {}
    for trigger in moves:
        response = api.post(f"/changes/{key}/transitions/{trigger}")
        assert response.status_code == 200, response.get_json()
        answer = response.get_json()
    return key, answer


@pytest.mark.parametrize(("moves", "step", "stopped_in"), [
    (("reject",), "rejected", "registration"),
    (("assess", "withdraw"), "withdrawn", "assessment"),
])
def test_an_ended_change_is_answered_as_documented(api: ApiClient, moves: tuple[str, ...],
                                                   step: str, stopped_in: str) -> None:
    key, moved = _ended(api, *moves)
    read = api.get(f"/changes/{key}")
    assert read.status_code == 200, read.get_json()
    for body in (moved, read.get_json()):
        change = ChangeDetailOut.model_validate(body)  # what the document promises
        assert change.step == step
        statuses = {s.step: s.status for s in change.steps}
        assert statuses[stopped_in] == "ended"
        assert "current" not in statuses.values()

    edited = api.patch(f"/changes/{key}", headers={"If-Match": read.headers["ETag"]},
                       json={"description": "too late"})
    moved_again = api.post(f"/changes/{key}/transitions/assess")
    for refused, code in ((edited, "refused"), (moved_again, "transition_refused")):
        assert refused.status_code == 409
        assert error_of(refused)["code"] == code
        ErrorBody.model_validate(refused.get_json())
    assert api.get(f"/changes/{key}").headers["ETag"] == read.headers["ETag"]


def _if_match(document: dict[str, Any], operation_id: str) -> dict[str, Any]:
    for methods in document["paths"].values():
        for operation in methods.values():
            if operation.get("operationId") == operation_id:
                return next(p for p in operation["parameters"] if p["name"] == "If-Match")
    raise AssertionError(f"no operation {operation_id}")


def test_the_document_offers_for_if_match_what_the_server_takes(api: ApiClient) -> None:
    document = api.get("/openapi.json", None).get_json()
    for operation_id in ETAGGED:
        parameter = _if_match(document, operation_id)
        assert parameter["required"] is False  # leave it out: no check
        schema = parameter["schema"]
        assert "anyOf" not in schema and "default" not in schema, schema  # never null
        assert schema["type"] == "string"
        assert schema["pattern"] == r'^(\*|(W/)?"[0-9]{1,10}")$'
    headers = [p for methods in document["paths"].values() for op in methods.values()
               for p in op.get("parameters", []) if p["in"] == "header"]
    assert headers and all("null" not in str(p["schema"]) for p in headers)

    key = api.post("/changes", json=CHANGE).get_json()["key"]
    null = api.post(f"/changes/{key}/transitions/assess", headers={"If-Match": "null"})
    assert null.status_code == 422 and error_of(null)["fields"][0]["field"] == "If-Match"
    for sent in ('"1"', 'W/"1"', "*"):
        response = api.post(f"/changes/{key}/comments", headers={"If-Match": sent},
                            json={"body": f"with If-Match: {sent}"})
        assert response.status_code == 201, (sent, response.get_json())
    assert api.post(f"/changes/{key}/transitions/assess").status_code == 200  # no header
