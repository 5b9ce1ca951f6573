"""Changes over the API: a change set registered, moved through every CHM step and implemented
into the register; optimistic concurrency; a standard change carried to implementation in one
call; and the refusals, each with its status."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask

from tests.support.api import ApiClient, error_of
from web.api.spec import MAX_BODY_BYTES

WINDOW = {"planned_start": "2026-12-01T18:00:00Z", "planned_end": "2026-12-01T22:00:00+00:00"}


@pytest.fixture
def api(web_app: Flask) -> ApiClient:
    return ApiClient(web_app)


def _laptop(ref: str, serial: str, **fields: Any) -> dict[str, Any]:
    return {"op": "create_item", "ref": ref, "class": "hardware.laptop",
            "name": f"Laptop {serial}", "serial_number": serial, "status": "in_stock",
            "purchase_cost": 1249, "currency": "EUR", **fields}


def _register(api: ApiClient, **body: Any) -> dict[str, Any]:
    payload = {"model": "normal-change", "title": "Two laptops for the service desk",
               "operations": [_laptop("a", "SN-A"), _laptop("b", "SN-B")], **body}
    response = api.post("/changes", json=payload)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _move(api: ApiClient, key: str, trigger: str, user: str = "carol", **kwargs: Any
          ) -> dict[str, Any]:
    response = api.post(f"/changes/{key}/transitions/{trigger}", user, **kwargs)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_a_change_set_reaches_the_register_only_through_implementation(api: ApiClient) -> None:
    created = api.post("/changes", json={
        "model": "normal-change", "title": "Two laptops for the service desk",
        "operations": [_laptop("a", "SN-A"), _laptop("b", "SN-B"),
                       {"op": "add_relation", "kind": "part_of", "source": "@a",
                        "target": "@b"}]})
    assert created.status_code == 201
    change = created.get_json()
    key = change["key"]
    assert created.headers["Location"].endswith(f"/api/v1/changes/{key}")
    assert created.headers["ETag"] == f'"{change["version"]}"'
    assert change["step"] == "registration" and len(change["operations"]) == 3
    assert api.get("/items").get_json()["total"] == 0, "nothing is registered before implementation"

    _move(api, key, "assess")
    edited = api.patch(f"/changes/{key}", json={"risk": "low", "impact": "none", **WINDOW})
    assert edited.status_code == 200 and edited.get_json()["risk"] == "low"
    _move(api, key, "submit_for_approval", json={"comment": "ready"})
    approved = api.post(f"/changes/{key}/approvals", "sam", json={"decision": "approve"})
    assert approved.status_code == 200
    assert approved.get_json()["approvals"][0]["approver"] == "sam"
    assert approved.get_json()["step"] == "planning", "the approval it waited for authorises it"
    _move(api, key, "start_build")
    implemented = _move(api, key, "implement")
    assert implemented["step"] == "implementation"

    items = api.get("/items?class=hardware.laptop", "sam").get_json()
    assert [i["name"] for i in items["items"]] == ["Laptop SN-A", "Laptop SN-B"]
    assert all(i["status"] == "in_stock" for i in items["items"])
    first = api.get(f"/items/{items['items'][0]['key']}", "sam").get_json()
    assert first["financial"]["purchase_cost"] == "1249.00"
    history = api.get(f"/items/{first['key']}/history", "sam").get_json()
    assert history["versions"][0]["change_key"] == key
    log = api.get(f"/changes/{key}/log", "sam").get_json()["entries"]
    assert [e["trigger"] for e in log] == ["register", "assess", "submit_for_approval",
                                           "authorise", "start_build", "implement"]
    assert log[2]["comment"] == "ready"


def test_no_operation_writes_to_the_register_directly(api: ApiClient) -> None:
    document = api.client.get("/api/v1/openapi.json").get_json()
    # Change models, item-class definitions and tokens are process and account data, not register
    # records (a class version rewrites no item); an import only reconciles (reads) and its
    # accept registers a change (tests/test_api_audit.py), as a bulk action does. Check-out and
    # check-in, attaching and removing an item's file, and merging reference values each
    # register a change (tests/checkouts, tests/attachments, tests/reference); bookings,
    # reference values and failures recorded from incidents (tests/reports/
    # test_spares_failures.py) are not register records.
    by_change = {"/api/v1/checkouts", "/api/v1/checkouts/check-in",
                 "/api/v1/items/{key}/attachments", "/api/v1/items/{key}/attachments/{file_id}",
                 "/api/v1/reference/{kind}/{code}/merge"}
    not_register = {"/api/v1/reservations", "/api/v1/reservations/{reservation_id}",
                    "/api/v1/reference/{kind}", "/api/v1/reference/{kind}/{code}",
                    "/api/v1/items/{key}/failures"}
    writes = [f"{method.upper()} {path}" for path, methods in document["paths"].items()
              for method in methods if method != "get"
              and path not in by_change | not_register
              and not path.startswith(("/api/v1/changes", "/api/v1/tokens",
                                       "/api/v1/workflow-definitions", "/api/v1/item-classes",
                                       "/api/v1/imports", "/api/v1/register/bulk"))]
    assert writes == []


def test_stale_if_match_is_409_and_moves_nothing(api: ApiClient) -> None:
    key = _register(api)["key"]
    etag = api.get(f"/changes/{key}").headers["ETag"]
    moved = api.post(f"/changes/{key}/transitions/assess", headers={"If-Match": etag})
    assert moved.status_code == 200 and moved.headers["ETag"] != etag

    stale = api.post(f"/changes/{key}/transitions/reject", headers={"If-Match": etag})
    assert stale.status_code == 409 and error_of(stale)["code"] == "conflict"
    stale_body = api.patch(f"/changes/{key}", json={"risk": "high", "version": 1})
    assert stale_body.status_code == 409
    current = api.get(f"/changes/{key}").get_json()
    assert current["step"] == "assessment" and current["risk"] is None

    fresh = api.patch(f"/changes/{key}", json={"risk": "high"},
                      headers={"If-Match": moved.headers["ETag"]})
    assert fresh.status_code == 200 and fresh.get_json()["risk"] == "high"
    disagree = api.patch(f"/changes/{key}", json={"risk": "low", "version": 1},
                         headers={"If-Match": fresh.headers["ETag"]})
    assert disagree.status_code == 422
    assert api.patch(f"/changes/{key}", json={"risk": "low"},
                     headers={"If-Match": "not-an-etag"}).status_code == 422


def test_refused_moves_are_409_with_every_reason(api: ApiClient) -> None:
    key = _register(api)["key"]
    _move(api, key, "assess")
    blocked = api.post(f"/changes/{key}/transitions/submit_for_approval")
    assert blocked.status_code == 409
    error = error_of(blocked)
    assert error["code"] == "transition_refused"
    assert "risk" in error["fields"][0]["message"]
    unknown = api.post(f"/changes/{key}/transitions/teleport")
    assert unknown.status_code == 409 and "possible now" in error_of(unknown)["message"]
    # The service owner may see and move changes, but not fire a coordinator's transition.
    owner = api.post(f"/changes/{key}/transitions/rework", "sam")
    assert owner.status_code == 409
    # A process designer may not move changes at all.
    assert api.post(f"/changes/{key}/transitions/reject", "pat").status_code == 403


def test_approvals_follow_the_model(api: ApiClient) -> None:
    key = _register(api, risk="low", impact="none")["key"]
    too_early = api.post(f"/changes/{key}/approvals", "sam", json={"decision": "approve"})
    assert too_early.status_code == 409 and error_of(too_early)["code"] == "refused"
    _move(api, key, "assess")
    _move(api, key, "submit_for_approval")
    not_an_approver = api.post(f"/changes/{key}/approvals", "carol", json={"decision": "approve"})
    assert not_an_approver.status_code == 409
    rejected = api.post(f"/changes/{key}/approvals", "sam",
                        json={"decision": "reject", "comment": "not now"})
    assert rejected.get_json()["approvals"][0]["decision"] == "rejected"
    # The approver's rejection is the model's Reject: the change ends, its log says who and why.
    assert rejected.get_json()["step"] == "rejected" and rejected.get_json()["transitions"] == []
    log = api.get(f"/changes/{key}/log", "sam").get_json()["entries"]
    assert (log[-1]["trigger"], log[-1]["actor"], log[-1]["comment"]) == ("reject", "sam",
                                                                          "not now")


def test_comments_are_kept_with_the_change(api: ApiClient) -> None:
    key = _register(api)["key"]
    made = api.post(f"/changes/{key}/comments", "sam", json={"body": "Which floor?"})
    assert made.status_code == 201 and made.get_json()["author"] == "sam"
    assert api.get(f"/changes/{key}").get_json()["comments"][0]["body"] == "Which floor?"
    stale = api.post(f"/changes/{key}/comments", json={"body": "late", "version": 99})
    assert stale.status_code == 409


def test_register_refusals_name_the_fields(api: ApiClient) -> None:
    unknown_item = api.post("/changes", json={
        "model": "normal-change", "title": "Retire a laptop",
        "operations": [{"op": "set_status", "item": "LAP-999999", "status": "retired"}]})
    assert unknown_item.status_code == 422
    error = error_of(unknown_item)
    assert error["code"] == "validation_failed"
    assert error["fields"] == [{"field": "operations[0].item",
                                "message": "no item LAP-999999 in the register"}]

    bad_shape = api.post("/changes", json={"model": "normal-change", "title": "x",
                                           "operations": []})
    assert bad_shape.status_code == 422
    assert {f["field"] for f in error_of(bad_shape)["fields"]} == {"title", "operations"}

    unknown_model = api.post("/changes", json={"model": "no-such-model", "title": "Something",
                                               "operations": [_laptop("a", "SN-X")]})
    assert unknown_model.status_code == 422
    assert error_of(unknown_model)["fields"][0]["field"] == "model"

    too_precise = api.post("/changes", json={"model": "normal-change", "title": "Precise",
                                             "operations": [_laptop("a", "SN-Y",
                                                                    purchase_cost="1.234")]})
    assert too_precise.status_code == 422
    assert api.get("/changes?open=false").get_json()["changes"] == []


@pytest.mark.parametrize("depth", [100_000, 500], ids=["past the parser", "within the parser"])
def test_a_body_nested_past_the_limit_is_refused_naming_the_body(api: ApiClient,
                                                                 depth: int) -> None:
    # 500 levels parse, then the checks that walk the body recursed: 500 internal_error.
    body = ('{"model": "normal-change", "title": "Deep", "operations": [{"op": "create_item", '
            '"class": "hardware.laptop", "name": "x", "attributes": {"cores": '
            + "[" * depth + "]" * depth + "}}]}")

    response = api.post("/changes", data=body, content_type="application/json")

    assert response.status_code == 422
    assert error_of(response) == {
        "code": "invalid_request", "message": "the body nests deeper than 32 levels",
        "fields": [{"field": "body", "message": "nested deeper than 32 levels"}]}
    assert api.get("/changes?open=false").get_json()["changes"] == []


def test_a_body_over_the_size_is_refused(api: ApiClient) -> None:
    body = json.dumps({"model": "normal-change", "title": "Large", "comment": "x" * MAX_BODY_BYTES})

    response = api.post("/changes", data=body, content_type="application/json")

    assert response.status_code == 413
    assert error_of(response)["code"] == "payload_too_large"


def test_changes_list_pages_and_filters(api: ApiClient) -> None:
    keys = [_register(api, title=f"Change number {n}")["key"] for n in range(3)]
    first = api.get("/changes?limit=2", "sam").get_json()
    assert [c["key"] for c in first["changes"]] == keys[::-1][:2]
    second = api.get(first["next"], "sam").get_json()
    assert [c["key"] for c in second["changes"]] == [keys[0]] and second["next"] is None
    assert api.get("/changes?step=assessment").get_json()["changes"] == []
    assert len(api.get("/changes?model=normal-change").get_json()["changes"]) == 3


# -- a standard change in one call -----------------------------------------------------------------

STANDARD = {
    "model": "standard-change", "title": "Register a spare monitor",
    "operations": [{"op": "create_item", "ref": "m", "class": "hardware.monitor",
                    "name": "Spare monitor", "status": "in_stock"}],
    "impact": "none: a spare", "risk": "low", "cost_estimate": "189.00", "currency": "EUR",
    **WINDOW, "run_to_implementation": True,
}


def test_a_coordinator_carries_a_standard_change_to_implementation_in_one_call(
        api: ApiClient) -> None:
    response = api.post("/changes", json=STANDARD)
    assert response.status_code == 201, response.get_json()
    change = response.get_json()
    assert change["step"] == "implementation" and change["model"] == "standard-change"
    assert change["approvals"][0]["automatic"] is True
    items = api.get("/items?class=hardware.monitor").get_json()["items"]
    assert [i["name"] for i in items] == ["Spare monitor"]
    log = api.get(f"/changes/{change['key']}/log").get_json()["entries"]
    assert [e["trigger"] for e in log] == ["register", "check", "confirm_standard",
                                           "pre_authorise", "start", "implement"]
    assert {e["actor"] for e in log if not e["trigger"].startswith("pre_")} == {"carol"}


def test_a_hardware_receipt_in_one_call_meets_its_own_guards(api: ApiClient) -> None:
    response = api.post("/changes", json={
        "model": "hardware-receipt", "title": "Two laptops delivered",
        "operations": [_laptop("a", "SN-R1"), _laptop("b", "SN-R2")],
        "risk": "low", "cost_estimate": 2498, "currency": "EUR", "coordinator": "carol",
        "fields": {"purchase_order": "PO-2026-118", "delivery_note": "DN-55012"},
        "run_to_implementation": True})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["state"] == "registered_in_stock"
    assert api.get("/items?q=SN-R").get_json()["total"] == 2


def test_one_call_is_all_or_nothing_when_a_guard_is_not_met(api: ApiClient) -> None:
    without_impact = {k: v for k, v in STANDARD.items() if k != "impact"}
    response = api.post("/changes", json=without_impact)
    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "transition_refused" and "impact" in error["message"]
    assert api.get("/changes?open=false").get_json()["changes"] == []
    assert api.get("/items").get_json()["total"] == 0
    # The change was never registered, so the next one still gets the first key.
    assert api.post("/changes", json=STANDARD).get_json()["key"] == "CHG-000001"


def test_one_call_is_refused_for_a_role_that_may_not(api: ApiClient) -> None:
    for user in ("sam", "pat", "ada"):
        response = api.post("/changes", user, json=STANDARD)
        assert response.status_code == 403 and error_of(response)["code"] == "forbidden"
    assert api.get("/items").get_json()["total"] == 0


def test_one_call_is_only_for_a_standard_model(api: ApiClient) -> None:
    response = api.post("/changes", json={**STANDARD, "model": "normal-change"})
    assert response.status_code == 422
    assert error_of(response)["fields"][0]["field"] == "run_to_implementation"
    assert api.get("/changes?open=false").get_json()["changes"] == []
