"""Check-outs and reservations over the API: one change per call, run through; the list with
overdue only and its pages; bookings refused by name; who may do what; the OpenAPI document."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask

from tests.support.api import ApiClient, error_of
from tests.support.helpers import at, implement_normal_change, laptop
from usm.services import changes, checkouts, register
from usm.services.platform import Database

PERSON = "Iris van Dijk"
TODAY = datetime.now(UTC).date()


@pytest.fixture
def api(web_app: Flask, web_db: Database) -> ApiClient:
    implement_normal_change(web_db, [
        laptop("a", "SN-A-1", status="in_stock"), laptop("b", "SN-A-2", status="in_stock"),
        laptop("c", "SN-A-3", status="in_stock")], at("2026-01-10"))
    return ApiClient(web_app)


def test_check_out_and_in_are_each_one_change_run_through(api: ApiClient) -> None:
    response = api.post("/checkouts", json={
        "keys": ["LAP-000001", "LAP-000002"], "to": {"kind": "person", "name": PERSON},
        "expected_return": (TODAY + timedelta(days=5)).isoformat()})
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["reached"] and body["step"] == "closed" and body["blocked"] == []
    assert response.headers["Location"].endswith(f"/api/v1/changes/{body['key']}")
    log = [row.to_step for row in changes.change_detail(api.db, body["key"]).log]
    assert log[-1] == "closed" and "implementation" in log
    assert register.item_view(api.db, "LAP-000002").core["owner"] == PERSON

    listed = api.get("/checkouts").get_json()["checkouts"]
    assert [(c["item"], c["state"], c["to"]) for c in listed] == [
        ("LAP-000001", "out", {"kind": "person", "name": PERSON}),
        ("LAP-000002", "out", {"kind": "person", "name": PERSON})]
    again = api.post("/checkouts", json={"keys": ["LAP-000001"],
                                         "to": {"kind": "location", "name": "Lab"}})
    assert again.status_code == 409
    assert error_of(again)["message"].startswith(
        f"LAP-000001 is already checked out to {PERSON} since")

    back = api.post("/checkouts/check-in", json={"keys": ["LAP-000001"], "location": "Desk"})
    assert back.status_code == 201 and back.get_json()["reached"]
    assert register.item_view(api.db, "LAP-000001").core["status"] == "in_stock"
    not_out = api.post("/checkouts/check-in", json={"keys": ["LAP-000001"]})
    assert not_out.status_code == 409
    assert error_of(not_out)["message"] == "LAP-000001 is not checked out"


def test_refusals_name_the_field(api: ApiClient) -> None:
    unknown = api.post("/checkouts", json={"keys": ["LAP-000404"],
                                           "to": {"kind": "person", "name": PERSON}})
    assert unknown.status_code == 404
    past = api.post("/checkouts", json={"keys": ["LAP-000001"],
                                        "to": {"kind": "item", "name": "LAP-000002"},
                                        "expected_return": "2020-01-01"})
    assert past.status_code == 422
    assert error_of(past)["fields"][0]["field"] == "expected_return"
    kind = api.post("/checkouts", json={"keys": ["LAP-000001"],
                                        "to": {"kind": "planet", "name": "Mars"}})
    assert kind.status_code == 422
    empty = api.post("/checkouts", json={"keys": [], "to": {"kind": "person", "name": PERSON}})
    assert empty.status_code == 422
    too_many = api.post("/checkouts", json={"keys": [f"LAP-{n:06d}" for n in range(501)],
                                            "to": {"kind": "person", "name": PERSON}})
    assert too_many.status_code == 422


def test_overdue_only_and_pages(api: ApiClient) -> None:
    long_ago = datetime.now(UTC) - timedelta(days=10)
    checkouts.check_out(api.db, "carol", ["LAP-000001"], to_person=PERSON,
                        expected_return=(long_ago + timedelta(days=1)).date(), now=long_ago)
    checkouts.check_out(api.db, "carol", ["LAP-000002", "LAP-000003"], to_person="Tom Bos")
    overdue = api.get("/checkouts?overdue=true", "sam").get_json()
    assert [(c["item"], c["overdue"]) for c in overdue["checkouts"]] == [("LAP-000001", True)]
    first = api.get("/checkouts?limit=2").get_json()
    assert [c["item"] for c in first["checkouts"]] == ["LAP-000001", "LAP-000002"]
    second = api.get(first["next"]).get_json()
    assert [c["item"] for c in second["checkouts"]] == ["LAP-000003"] and second["next"] is None
    assert api.get("/checkouts?cursor=nonsense").status_code == 422


def test_reservations_are_booked_listed_refused_by_name_and_cancelled(api: ApiClient) -> None:
    first, last = TODAY + timedelta(days=10), TODAY + timedelta(days=12)
    made = api.post("/reservations", "sam", json={
        "item": "LAP-000003", "person": PERSON, "starts_on": first.isoformat(),
        "ends_on": last.isoformat(), "note": "Sales fair"})
    assert made.status_code == 201
    booking = made.get_json()
    assert (booking["item"], booking["person"], booking["created_by"]) == \
        ("LAP-000003", PERSON, "sam")
    clash = api.post("/reservations", json={
        "item": "LAP-000003", "person": "Tom Bos", "starts_on": last.isoformat(),
        "ends_on": (last + timedelta(days=3)).isoformat()})
    assert clash.status_code == 409
    assert error_of(clash)["message"] == (
        f"LAP-000003 is already booked for {PERSON} from {first.isoformat()} to "
        f"{last.isoformat()}")
    backwards = api.post("/reservations", json={
        "item": "LAP-000003", "person": "Tom Bos", "starts_on": last.isoformat(),
        "ends_on": first.isoformat()})
    assert backwards.status_code == 422 and error_of(backwards)["fields"][0]["field"] == "ends_on"
    listed = api.get("/reservations?item=LAP-000003").get_json()["reservations"]
    assert [r["id"] for r in listed] == [booking["id"]]
    cancelled = api.delete(f"/reservations/{booking['id']}", "carol")
    assert cancelled.status_code == 200 and cancelled.get_json()["cancelled_by"] == "carol"
    assert api.delete(f"/reservations/{booking['id']}").status_code == 409
    assert api.delete("/reservations/999999").status_code == 404
    assert api.get("/reservations").get_json()["reservations"] == []


def test_who_may_do_what(api: ApiClient) -> None:
    body = {"keys": ["LAP-000001"], "to": {"kind": "person", "name": PERSON}}
    assert api.post("/checkouts", "sam", json=body).status_code == 403
    assert api.post("/checkouts/check-in", "sam", json={"keys": ["LAP-000001"]}).status_code \
        == 403
    assert api.get("/checkouts", "pat").status_code == 403
    assert api.get("/reservations", "ada").status_code == 403
    assert api.post("/checkouts", None, json=body).status_code == 401
    assert checkouts.current_checkout(api.db, "LAP-000001") is None


def test_the_operations_are_documented(api: ApiClient) -> None:
    document = api.get("/openapi.json", None).get_json()
    operations = {op["operationId"]: (path, method) for path, item in document["paths"].items()
                  for method, op in item.items() if isinstance(op, dict) and "operationId" in op}
    for name, where in {"checkOut": ("/api/v1/checkouts", "post"),
                        "checkIn": ("/api/v1/checkouts/check-in", "post"),
                        "listCheckouts": ("/api/v1/checkouts", "get"),
                        "listReservations": ("/api/v1/reservations", "get"),
                        "createReservation": ("/api/v1/reservations", "post"),
                        "cancelReservation": ("/api/v1/reservations/{reservation_id}", "delete"),
                        }.items():
        assert operations[name] == where
