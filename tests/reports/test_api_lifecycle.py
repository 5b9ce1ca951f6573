"""The lifecycle and spares reports over the API: the same figures as the pages (worked out in
tests/test_lifecycle.py and tests/test_spares.py), exact decimal text, as-of days, and bad input
answered in the API's error shape, naming the field."""

from __future__ import annotations

import math

import pytest
from flask import Flask
from sqlalchemy import select

from bir.items import Item
from tests.reports.test_lifecycle import build_estate
from tests.reports.test_spares import UTRECHT, build_pool, receive, retire
from tests.support.api import ApiClient, error_of
from tests.support.helpers import at, implement_normal_change, laptop


@pytest.fixture
def api(web_app: Flask) -> ApiClient:
    return ApiClient(web_app)


def test_lifecycle_figures_as_of_a_day(api: ApiClient) -> None:
    k = build_estate(api.db)
    body = api.get("/reports/lifecycle", "sam",
                   query_string={"as_of": "2026-02-01", "days": "60"}).get_json()
    assert (body["as_of"], body["days"], body["until"]) == ("2026-02-01", 60, "2026-04-02")
    assert [(e["key"], e["kind"], e["ends_on"], e["days_left"]) for e in body["expiring"]] == [
        (k["L2"], "warranty", "2026-02-20", 19), (k["L6"], "warranty", "2026-03-01", 28),
        (k["L1"], "warranty", "2026-03-15", 42)]
    assert [(p["key"], p["days_past"]) for p in body["past_end_of_life"]] == [
        (k["L6"], 32), (k["L2"], 1)]
    assert [(s["location"], s["count"]) for s in body["stock"]] == [("Store A", 2), ("Store B", 1)]
    assert [(m["key"], m["missing"]) for m in body["data_quality"]] == [
        (k["L2"], ["owner"]), (k["L7"], ["cost centre"])]
    assert {s["status"]: s["count"] for s in body["status_counts"]}["in_use"] == 4
    assert body["expiries_by_month"][:2] == [{"month": "2026-02", "warranty": 1, "lease": 0},
                                             {"month": "2026-03", "warranty": 2, "lease": 0}]

    after = api.get("/reports/lifecycle", "sam",
                    query_string={"as_of": "2026-02-10", "days": "60"}).get_json()
    # L6 was retired on 2026-02-10: gone from expiries and end of life.
    assert [e["key"] for e in after["expiring"]] == [k["L2"], k["L1"], k["L3"]]
    assert [p["key"] for p in after["past_end_of_life"]] == [k["L2"]]


def test_spares_figures_with_measured_and_given_inputs(api: ApiClient) -> None:
    keys = build_pool(api.db)
    query = {"class": "hardware.laptop", "location": UTRECHT, "as_of": "2026-06-30",
             "window_days": "100"}
    body = api.get("/reports/spares", "carol", query_string=query).get_json()
    # N 10, R 4, r = 4 / (10 x 100) = 0.004, L = (40 + 60) / 2 = 50, lambda = 2 -> S = 5
    assert (body["installed_base"], body["stock_on_hand"]) == (10, 2)
    assert len(body["replacements"]) == 4
    assert (body["observed_from"], body["observed_days"]) == ("2026-03-22", 100)
    assert body["measured_rate_per_day"] == "0.004000000000"
    assert [(d["change_key"], d["ordered"], d["delivered"], d["days"])
            for d in body["deliveries"]] == [
        (keys["receipt 1"], "2026-03-01", "2026-04-10", "40.00"),
        (keys["receipt 2"], "2026-04-11", "2026-06-10", "60.00")]
    assert (body["service_level_percent"], body["service_level_from"]) == ("95", "default")
    assert (body["lead_time_days"], body["demand"]) == ("50.00", "2.0000")
    assert (body["spares_needed"], body["shortfall"]) == (5, 3)
    assert body["stock_service_level"] == pytest.approx(5 * math.exp(-2))  # P(X<=2)
    assert {p["k"]: round(p["probability"], 4) for p in body["cumulative"]}[4] == 0.9473

    given = api.get("/reports/spares", "sam", query_string={
        **query, "rate_percent": "36.5", "lead_time_days": "100", "growth_percent": "50"}
    ).get_json()
    # lambda = 10 x 36.5/100/365 x 100 x 1.5 = 1.5 -> S = 4 (P(<=3) = 0.934358 < 0.95)
    assert (given["rate_given"], given["lead_given"]) == (True, True)
    assert (given["demand"], given["spares_needed"]) == ("1.5000", 4)

    before = api.get("/reports/spares", "sam",
                     query_string={**query, "as_of": "2026-06-14"}).get_json()
    assert (before["installed_base"], before["demand"], before["spares_needed"]) == (
        12, "1.0000", 3)


def test_spares_without_a_measurable_lead_time(api: ApiClient) -> None:
    build_pool(api.db)
    body = api.get("/reports/spares", "sam", query_string={
        "class": "hardware.laptop", "location": UTRECHT, "as_of": "2026-04-01",
        "window_days": "100"}).get_json()
    assert body["deliveries"] == [] and body["lead_time_days"] is None
    assert body["demand"] is None and body["spares_needed"] is None


def test_spares_inputs_come_with_the_changes_and_services_they_came_from(api: ApiClient
                                                                       ) -> None:
    keys = build_pool(api.db)
    planned = retire(api.db, [keys["U06"]], at("2026-06-20"), "end_of_life", title="Refresh")
    ordered = implement_normal_change(api.db, [laptop("o1", "O1", status="ordered")],
                                      at("2026-05-01", 14))
    with api.db.reading() as session:
        on_order = session.scalar(select(Item.key).where(Item.serial_number == "O1"))
    received = receive(api.db, [{"op": "set_status", "item": on_order, "status": "in_stock"}],
                       at("2026-05-31", 14), title="Order received")
    undated = receive(api.db, [laptop("n1", "N1", status="in_stock")], at("2026-06-01", 15))
    implement_normal_change(api.db, [
        {"op": "create_item", "ref": "desk", "class": "service", "name": "Workplace",
         "status": "in_use", "attributes": {"spares_service_level": "99"}},
        {"op": "add_relation", "kind": "supports", "source": keys["U10"], "target": "@desk"},
    ], at("2026-06-01"))
    body = api.get("/reports/spares", "sam", query_string={
        "class": "hardware.laptop", "location": UTRECHT, "as_of": "2026-06-30",
        "window_days": "100"}).get_json()

    assert [(r["item_key"], r["change_key"], r["to_status"], r["reason"])
            for r in body["replacements"]][2:] == [
        (keys["U04"], keys["failures"], "retired", "failure"),
        (keys["U05"], keys["failures"], "retired", "failure")]
    assert [(r["item_key"], r["change_key"], r["reason"]) for r in body["not_counted"]] == [
        (keys["U06"], planned, "end_of_life")]
    # Order to delivery: the ordered status to the in-stock status (30 days), and the dates the
    # receipts record; the receipt without dates measures nothing.
    assert [(d["change_key"], d["order_change_key"], d["days"], d["problem"])
            for d in body["deliveries"]] == [
        (keys["receipt 1"], None, "40.00", None), (received, ordered, "30.00", None),
        (undated, None, None, "no_order_date"), (keys["receipt 2"], None, "60.00", None)]
    assert body["deliveries"][1]["ordered"] == "2026-05-01T14:00:00Z"
    assert (body["delivered_devices_measured"], body["measured_lead_time_days"]) == (3, "43.33")
    assert (body["service_level_percent"], body["service_level_from"]) == ("99", "service")
    assert [(a["service_name"], a["percent"], a["used"])
            for a in body["agreed_service_levels"]] == [("Workplace", "99", True)]
    given = api.get("/reports/spares", "sam", query_string={
        "class": "hardware.laptop", "location": UTRECHT, "as_of": "2026-06-30",
        "window_days": "100", "service_level": "90"}).get_json()
    assert (given["service_level_percent"], given["service_level_from"]) == ("90", "given")


def test_a_pool_registered_recently_is_observed_for_its_own_days(api: ApiClient) -> None:
    implement_normal_change(api.db, [laptop(f"l{n}", f"L{n}", status="in_use", location="Lab")
                                     for n in range(1, 11)], at("2026-06-21"))
    body = api.get("/reports/spares", "sam", query_string={
        "class": "hardware.laptop", "location": "Lab", "as_of": "2026-06-30"}).get_json()
    assert (body["observed_from"], body["observed_days"], body["observation_short"]) == (
        "2026-06-21", 10, True)


@pytest.mark.parametrize(("path", "query", "field", "code"), [
    ("/reports/lifecycle", {"days": "0"}, "days", "invalid_request"),
    ("/reports/lifecycle", {"as_of": "2026-02-30"}, "as_of", "invalid_request"),
    ("/reports/lifecycle", {"as_of": "2026-02-01T00:00:00Z"}, "as_of", "invalid_request"),
    ("/reports/spares", {"class": "hardware.toaster"}, "class", "validation_failed"),
    ("/reports/spares", {"service_level": "100"}, "service_level", "invalid_request"),
    ("/reports/spares", {"rate_percent": "NaN"}, "rate_percent", "invalid_request"),
    ("/reports/spares", {"window_days": "6"}, "window_days", "invalid_request"),
])
def test_bad_input_is_422_naming_the_field(api: ApiClient, path: str, query: dict[str, str],
                                          field: str, code: str) -> None:
    response = api.get(path, "sam", query_string=query)
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == code
    assert [f["field"] for f in error["fields"]] == [field]


def test_documented_and_only_for_report_readers(api: ApiClient) -> None:
    document = api.client.get("/api/v1/openapi.json").get_json()
    spares = document["paths"]["/api/v1/reports/spares"]["get"]
    assert spares["operationId"] == "getSparesReport"
    assert {p["name"] for p in spares["parameters"]} >= {
        "class", "location", "as_of", "window_days", "rate_percent", "lead_time_days",
        "growth_percent", "service_level"}
    assert "/api/v1/reports/lifecycle" in document["paths"]
    assert api.get("/reports/lifecycle", "pat").status_code == 403
    assert error_of(api.get("/reports/spares", "pat"))["code"] == "forbidden"
