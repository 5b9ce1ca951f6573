"""The finance report over the API: the same figures as the page, money as exact text, bad input as
the API's 422 naming the parameter, and who may call it."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.reports.test_finance import build_finance_register
from tests.support.api import API, ApiClient, error_of
from usm.services.platform import Database


@pytest.fixture
def api(web_app: Flask, web_db: Database) -> tuple[ApiClient, dict[str, str]]:
    return ApiClient(web_app), build_finance_register(web_db)


def test_book_values_as_of_before_and_after_a_correction(api: tuple[ApiClient, dict[str, str]]
                                                         ) -> None:
    client, keys = api
    fin1 = keys["Laptop FIN-1"]
    before = client.get(f"{API}/reports/finance/book-values?as_of=2026-04-09&cost_centre=CC-A",
                        "sam").get_json()
    after = client.get(f"{API}/reports/finance/book-values?as_of=2026-04-30&cost_centre=CC-A",
                       "sam").get_json()
    # FIN-1: 1200 - 2 x 100 = 1000.00 before the correction; 1440 - 3 x 120 = 1080.00 after.
    assert {i["key"]: i["book_value"] for i in before["items"]}[fin1] == "1000.00"
    item = {i["key"]: i for i in after["items"]}[fin1]
    assert (item["cost"], item["depreciated"], item["book_value"], item["start"]) == (
        "1440.00", "360.00", "1080.00", "2026-01-15")
    # Totals per currency: EUR FIN-1 only; USD FIN-2 1000.00 (no depreciation).
    assert [(t["currency"], t["book_value"]) for t in after["totals"]] == [
        ("EUR", "1080.00"), ("USD", "1000.00")]
    assert after["as_of"] == "2026-04-30"


def test_book_values_of_a_service_and_bad_filters(api: tuple[ApiClient, dict[str, str]]) -> None:
    client, keys = api
    found = client.get(f"{API}/reports/finance/book-values?as_of=2026-03-31&service="
                       f"{keys['Portal']}").get_json()
    # Portal: the server (3600 - 100 = 3500.00 on 31 March) and the cloud VM (no purchase cost).
    assert [(i["key"], i["book_value"]) for i in found["items"]] == [(keys["Server"], "3500.00")]
    for query, field in (("service=LAP-000001", "service"), ("class=nope", "class"),
                         ("as_of=2026-13-01", "as_of"), ("as_of=1700000000", "as_of")):
        response = client.get(f"{API}/reports/finance/book-values?{query}")
        assert response.status_code == 422, query
        assert [f["field"] for f in error_of(response)["fields"]] == [field]


def test_depreciation_schedule(api: tuple[ApiClient, dict[str, str]]) -> None:
    client, keys = api
    body = client.get(f"{API}/reports/finance/items/{keys['Server']}/depreciation"
                      "?as_of=2026-04-15").get_json()
    # 3600.00 / 36 = 100.00 a month from 1 February: booked 1 March and 1 April -> 3400.00.
    assert (body["cost"], body["method"], body["months"], body["book_value"]) == (
        "3600.00", "straight_line", 36, "3400.00")
    assert body["periods"][0] == {"number": 1, "start": "2026-02-01", "end": "2026-03-01",
                                  "opening": "3600.00", "amount": "100.00",
                                  "closing": "3500.00"}
    assert len(body["periods"]) == 36 and body["periods"][-1]["closing"] == "0.00"
    missing = client.get(f"{API}/reports/finance/items/{keys['Server']}/depreciation"
                         "?as_of=2025-12-31")
    assert missing.status_code == 404 and error_of(missing)["code"] == "not_found"


def test_service_and_cost_centre_costs(api: tuple[ApiClient, dict[str, str]]) -> None:
    client, keys = api
    body = client.get(f"{API}/reports/finance/services?from=2026-03-01&to=2026-05-01").get_json()
    # March and April: Mail = server 2 x 50 + cloud VM 2 x 75 (share 0.25) + subscription
    # 2 x 30 = 100 + 210; Portal = 2 x 50 + 2 x 225 = 100 + 450.
    assert [(c["group"], c["depreciation"], c["recurring"], c["total"]) for c in body["lines"]] == [
        (keys["Mail"], "100.00", "210.00", "310.00"),
        (keys["Portal"], "100.00", "450.00", "550.00")]
    assert (body["start"], body["end"]) == ("2026-03-01", "2026-05-01")
    centres = client.get(f"{API}/reports/finance/cost-centres?from=2026-03-01&to=2026-06-01"
                         ).get_json()
    # CC-A: FIN-1 100 (March) + 120 (April, after the correction) and subscription 3 x 30.
    assert [(c["group"], c["currency"], c["total"]) for c in centres["lines"]] == [
        ("CC-A", "EUR", "310.00"), ("CC-B", "EUR", "1200.00")]
    bad = client.get(f"{API}/reports/finance/services?from=2026-03-15&to=2026-05-01")
    assert bad.status_code == 422
    assert error_of(bad)["fields"][0]["field"] == "from"


def test_disposals_with_gain_or_loss(api: tuple[ApiClient, dict[str, str]]) -> None:
    client, keys = api
    body = client.get(f"{API}/reports/finance/disposals?from=2026-05-01&to=2026-06-01",
                      "sam").get_json()
    # 20 May: book value 1440 - 4 x 120 = 960.00; proceeds 900.00; loss -60.00.
    assert [(d["key"], d["book_value"], d["proceeds"], d["gain"]) for d in body["disposals"]] == [
        (keys["Laptop FIN-1"], "960.00", "900.00", "-60.00")]
    assert client.get(f"{API}/reports/finance/disposals?from=2026-06-01&to=2026-07-01"
                      ).get_json()["disposals"] == []


def test_only_report_readers_may_call(api: tuple[ApiClient, dict[str, str]]) -> None:
    client, _keys = api
    response = client.get(f"{API}/reports/finance/book-values", "pat")
    assert response.status_code == 403 and error_of(response)["code"] == "forbidden"
    assert client.get(f"{API}/reports/finance/book-values", None).status_code == 401
    document = client.get(f"{API}/openapi.json").get_json()
    assert {"/api/v1/reports/finance/book-values", "/api/v1/reports/finance/services",
            "/api/v1/reports/finance/cost-centres", "/api/v1/reports/finance/disposals",
            "/api/v1/reports/finance/items/{key}/depreciation"} <= set(document["paths"])
