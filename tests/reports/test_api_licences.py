"""The licence report over the API: positions with money as exact strings, as of days before and
after a change, a product's detail, bad input as the API's 422 and 404, roles, the document; each
position's kind (entitled, installed without any entitlement, needing no licence) and a product
marked by an ordinary change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.reports.test_licences import build_licences
from tests.reports.test_licences_free_software import build_discovery
from tests.support.api import ApiClient, error_of

PATH = "/reports/licences"


@pytest.fixture
def api(web_app) -> ApiClient:  # type: ignore[no-untyped-def]
    client = ApiClient(web_app)
    build_licences(client.db)
    return client


def _positions(body: dict) -> dict[tuple[str, str], dict]:
    return {(p["product"], p["metric"]): p for p in body["positions"]}


def test_position_as_of_before_and_after_the_change(api: ApiClient) -> None:
    response = api.get(f"{PATH}?as_of=2026-03-01", "sam")
    assert response.status_code == 200
    body = response.get_json()
    assert body["as_of"] == "2026-03-01"
    acrobat = _positions(body)[("Adobe Acrobat", "device")]
    # lap1, lap2, lap3 against 2 entitled: short 1 x 200.00.
    assert {k: acrobat[k] for k in ("entitled", "consumed", "surplus", "shortfall", "unit_price",
                                    "currency", "shortfall_cost")} == {
        "entitled": 2, "consumed": 3, "surplus": 0, "shortfall": 1, "unit_price": "200.00",
        "currency": "EUR", "shortfall_cost": "200.00"}
    # 200.00 + 120.50 + 10000.00 + 300.00 + 5000.00 + 160.00 = 15780.50 EUR.
    assert body["shortfall_costs"] == [{"currency": "EUR", "amount": "15780.50"}]
    assert "concurrent" in body["rules"]

    after = api.get(f"{PATH}?as_of=2026-04-01", "carol").get_json()
    office = _positions(after)[("Office", "user")]
    # alice, bob, lap4 (no owner), carol = 4 users against 2: short 2 x 120.50 = 241.00.
    assert (office["consumed"], office["shortfall"], office["shortfall_cost"]) == (
        4, 2, "241.00")
    assert office["counted"] == ["alice", "bob", "carol", "LAP-000004 (no owner)"]
    # 241.00 + 10000.00 + 300.00 + 5000.00 + 160.00 = 15701.00 EUR (Acrobat now balanced).
    assert after["shortfall_costs"] == [{"currency": "EUR", "amount": "15701.00"}]
    visio = _positions(after)[("Visio", "device")]
    assert visio["shortfall_cost"] is None and visio["unit_price"] is None


def test_product_detail_lists_entitlements_and_installations(api: ApiClient) -> None:
    body = api.get("/reports/licences/products/Photoshop?as_of=2026-07-01", "sam").get_json()
    assert body["product"] == "Photoshop" and body["as_of"] == "2026-07-01"
    [position] = body["positions"]
    # The term ended 2026-06-30: nothing entitled, lap1 and lap2 short 2 x 300.00 = 600.00.
    assert (position["entitled"], position["consumed"], position["shortfall_cost"]) == (
        0, 2, "600.00")
    [entitlement] = position["entitlements"]
    assert entitlement["entitled"] == 0 and entitlement["note"] == "term ended 2026-06-30"
    assert entitlement["term_end"] == "2026-06-30" and entitlement["unit_price"] == "300.00"
    devices = [i["devices"][0] for i in position["installations"]]
    assert [(d["key"], d["owner"], d["location"], d["cores"]) for d in devices] == [
        ("LAP-000001", "alice", "Utrecht", 8), ("LAP-000002", "alice", "Utrecht", 8)]
    assert all(i["counted"] and i["licensed_by"] for i in position["installations"])


def test_bad_input_and_unknown_product(api: ApiClient) -> None:
    for bad in ("2026-02-30", "1700000000", "2026-03-01T00:00:00Z"):
        response = api.get(f"{PATH}?as_of={bad}", "sam")
        assert response.status_code == 422, bad
        error = error_of(response)
        assert error["code"] == "invalid_request"
        assert error["fields"] == [{"field": "as_of", "message": f"'{bad}' is not a date; give "
                                                                "YYYY-MM-DD, e.g. 2026-03-31"}]
    missing = api.get("/reports/licences/products/Nothing", "sam")
    assert missing.status_code == 404 and "Nothing" in error_of(missing)["message"]


def test_roles_and_document(api: ApiClient) -> None:
    assert api.get(PATH, "pat").status_code == 403
    assert api.get(PATH, None).status_code == 401
    document = api.client.get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/api/v1/reports/licences"]["get"]
    assert operation["operationId"] == "getLicencePosition"
    assert "/api/v1/reports/licences/products/{product}" in document["paths"]


def test_free_software_is_no_shortfall_and_unlicensed_products_are_their_own_kind(
        web_app) -> None:  # type: ignore[no-untyped-def]
    api = ApiClient(web_app)
    build_discovery(api.db)
    body = api.get(f"{PATH}?as_of=2026-05-05", "sam").get_json()
    shown = {p["product"]: p for p in body["positions"]}
    # Git, Node.js and WinZip: installed without any entitlement, every device short, no price.
    assert {k: shown["Git"][k] for k in ("kind", "needs_licence", "licensing", "product_items",
                                         "installed", "shortfall", "shortfall_cost")} == {
        "kind": "unlicensed", "needs_licence": True, "licensing": None,
        "product_items": ["SWP-000001"], "installed": 2, "shortfall": 2, "shortfall_cost": None}
    assert shown["Node.js"]["product_items"] == [] and shown["WinZip"]["kind"] == "unlicensed"
    # Python's software product says open source: installed twice, never short.
    assert {k: shown["Python"][k] for k in ("kind", "needs_licence", "licensing", "installed",
                                            "shortfall")} == {
        "kind": "no_licence_needed", "needs_licence": False, "licensing": "open_source",
        "installed": 2, "shortfall": 0}
    assert shown["Office"]["kind"] == "entitled"
    assert body["shortfall_costs"] == [{"currency": "EUR", "amount": "10.00"}]

    # Marking Git is an ordinary change of its software product, here a standard change run to
    # implementation in one call; a licensing the class does not know is refused by name.
    now = datetime.now(UTC)
    change = {"model": "standard-change", "title": "Git needs no licence", "risk": "low",
              "impact": "none", "cost_estimate": "0", "currency": "EUR",
              "planned_start": (now - timedelta(hours=1)).isoformat(),
              "planned_end": (now + timedelta(hours=1)).isoformat(),
              "run_to_implementation": True, "operations": [
                  {"op": "update_item", "item": "SWP-000001",
                   "attributes": {"licensing": "gratis"}}]}
    refused = api.post("/changes", json=change)
    assert refused.status_code == 422
    assert error_of(refused)["fields"] == [{
        "field": "operations[0].attributes.licensing",
        "message": "'gratis' is not one of commercial, free, open_source, bundled"}]
    change["operations"][0]["attributes"]["licensing"] = "open_source"
    assert api.post("/changes", json=change).status_code == 201
    git = api.get("/reports/licences/products/git", "sam").get_json()
    assert (git["needs_licence"], git["licensing"], git["product_items"]) == (
        False, "open_source", ["SWP-000001"])
    [position] = git["positions"]
    assert (position["kind"], position["shortfall"], len(position["installations"])) == (
        "no_licence_needed", 0, 2)
    today = {p["product"]: p["kind"] for p in api.get(PATH, "sam").get_json()["positions"]}
    assert today == {"Git": "no_licence_needed", "Node.js": "unlicensed", "Office": "entitled",
                     "Python": "no_licence_needed", "WinZip": "unlicensed"}
