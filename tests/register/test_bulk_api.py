"""Change sets of any size over the API (an NDJSON stream, a JSON/YAML file), bulk actions on the
register (POST /register/bulk), and the register list sorted like the register page with a keyset
cursor that holds the sort."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask

from bir.base import utcnow
from tests.register.test_bulk_services import fill
from tests.support.api import ApiClient, error_of
from tests.support.web import make_app
from usm.services import changes
from usm.services.platform import Database
from web.api import changes as changes_api

NDJSON = "application/x-ndjson"
HEADER = {"model": "normal-change", "title": "Receive ten thousand laptops"}


@pytest.fixture
def api(web_app: Flask) -> ApiClient:
    return ApiClient(web_app)


def laptop(n: int, **fields: Any) -> dict[str, Any]:
    return {"op": "create_item", "class": "hardware.laptop", "name": f"Laptop {n}",
            "serial_number": f"SN-STREAM-{n:06d}", **fields}


def ndjson(header: dict[str, Any], operations: list[Any]) -> bytes:
    return "\n".join(json.dumps(v) for v in (header, *operations)).encode() + b"\n"


def change_count(api: ApiClient) -> int:
    return len(changes.list_changes(api.db, open_only=False, limit=500))


def test_an_ndjson_stream_of_ten_thousand_operations_registers_one_change(
        api: ApiClient) -> None:
    body = ndjson(HEADER, [laptop(n) for n in range(10_000)])
    assert len(body) > 500 * 100  # far past the old cap of 500 operations

    response = api.post("/changes", data=body, content_type=NDJSON)

    assert response.status_code == 201, response.get_data(as_text=True)[:500]
    created = response.get_json()
    assert created["title"] == HEADER["title"] and created["step"] == "registration"
    assert len(created["operations"]) == 10_000
    assert response.headers["Location"].endswith(f"/changes/{created['key']}")
    assert change_count(api) == 1


def test_a_json_body_is_no_longer_capped_at_500_operations(api: ApiClient) -> None:
    response = api.post("/changes", json={**HEADER, "operations": [laptop(n)
                                                                   for n in range(600)]})
    assert response.status_code == 201
    assert len(response.get_json()["operations"]) == 600


def test_a_broken_line_is_named_by_line_operation_and_field_and_nothing_is_registered(
        api: ApiClient) -> None:
    operations: list[Any] = [laptop(n) for n in range(20)]
    operations[7] = {"op": "set_status", "item": "LAP-000001", "status": "lost"}
    body = ndjson(HEADER, operations).replace(b'"Laptop 12"', b'"Laptop 12', 1)

    response = api.post("/changes", data=body, content_type=NDJSON)

    assert response.status_code == 422
    error = error_of(response)
    fields = {f["field"]: f["message"] for f in error["fields"]}
    assert "line 9: operations[7].status" in fields  # line 1 holds the details
    assert any(f.startswith("line 14") and "not valid JSON" in m for f, m in fields.items())
    assert error["code"] == "invalid_change_set" and "nothing was registered" in error["message"]
    assert change_count(api) == 0

    bad_header = ndjson({"model": "normal-change", "title": "x"}, [laptop(1)])
    fields = [f["field"] for f in error_of(api.post("/changes", data=bad_header,
                                                    content_type=NDJSON))["fields"]]
    assert fields == ["line 1: title"]
    assert change_count(api) == 0


def test_stream_limits_are_named(api: ApiClient, monkeypatch: pytest.MonkeyPatch) -> None:
    deep: Any = {"op": "create_item"}
    for _ in range(40):
        deep = {"a": deep}
    nested = api.post("/changes", data=ndjson(HEADER, [deep]), content_type=NDJSON)
    assert nested.status_code == 422
    assert error_of(nested)["fields"][0]["message"].startswith("nested deeper than")
    monkeypatch.setattr(changes_api, "MAX_OPERATIONS", 5)
    too_many = api.post("/changes", data=ndjson(HEADER, [laptop(n) for n in range(6)]),
                        content_type=NDJSON)
    assert too_many.status_code == 413 and "at most 5 operations" in error_of(too_many)["message"]

    monkeypatch.setattr(changes_api, "MAX_LINE_BYTES", 200)
    long_line = ndjson(HEADER, [laptop(1, notes="x" * 300)])
    refused = api.post("/changes", data=long_line, content_type=NDJSON)
    assert refused.status_code == 413 and "line 2 is longer than 200 bytes" in \
        error_of(refused)["message"]

    monkeypatch.setattr(changes_api, "MAX_STREAM_BYTES", 1000)
    big = api.post("/changes", data=ndjson(HEADER, [laptop(n) for n in range(3)]) + b" " * 2000,
                   content_type=NDJSON)
    assert big.status_code == 413

    assert change_count(api) == 0


def test_other_bodies_keep_the_4_mib_limit(api: ApiClient) -> None:
    big = {**HEADER, "operations": [laptop(n, model="m" * 60) for n in range(30_000)]}
    response = api.post("/changes", json=big)
    assert response.status_code == 413
    assert api.post("/changes", data="x", content_type="text/plain").status_code == 415


@pytest.mark.parametrize("name", ["changes.json", "changes.yaml", "changes.ndjson"])
def test_a_change_set_file_is_registered_as_one_change(api: ApiClient, name: str) -> None:
    operations = [laptop(n) for n in range(50)]
    if name.endswith(".json"):
        text = json.dumps({**HEADER, "operations": operations}).encode()
    elif name.endswith(".ndjson"):
        text = ndjson(HEADER, operations)
    else:
        import yaml
        text = yaml.safe_dump({**HEADER, "operations": operations}).encode()

    response = api.post("/changes", data={"file": (io.BytesIO(text), name)},
                        content_type="multipart/form-data")

    assert response.status_code == 201, response.get_data(as_text=True)[:500]
    assert len(response.get_json()["operations"]) == 50


def test_a_broken_json_file_names_the_operation_and_field(api: ApiClient) -> None:
    operations: list[Any] = [laptop(n) for n in range(5)]
    operations[3]["serial_number"] = 12
    operations[4] = {"op": "dance"}
    text = json.dumps({**HEADER, "operations": operations}).encode()
    response = api.post("/changes", data={"file": (io.BytesIO(text), "set.json")},
                        content_type="multipart/form-data")
    assert response.status_code == 422
    fields = [f["field"] for f in error_of(response)["fields"]]
    assert fields[0] == "operations[3].serial_number" and fields[1].startswith("operations[4]")
    cut = api.post("/changes", data={"file": (io.BytesIO(text[:-30]), "set.json")},
                   content_type="multipart/form-data")
    assert cut.status_code == 422 and "not valid JSON" in error_of(cut)["fields"][0]["message"]
    other = api.post("/changes", data={"file": (io.BytesIO(text), "set.csv")},
                     content_type="multipart/form-data")
    assert other.status_code == 422 and error_of(other)["fields"][0]["field"] == "file"
    assert change_count(api) == 0


def test_streams_are_for_coordinators_only(api: ApiClient) -> None:
    for user in ("sam", "pat", None):
        response = api.post("/changes", user, data=ndjson(HEADER, [laptop(1)]),
                            content_type=NDJSON)
        assert response.status_code in (401, 403)
    assert change_count(api) == 0


def test_the_document_describes_streams_files_and_bulk(api: ApiClient) -> None:
    document = api.get("/openapi.json", None).get_json()
    create = document["paths"]["/api/v1/changes"]["post"]
    assert set(create["requestBody"]["content"]) == {
        "application/json", "multipart/form-data", "application/x-ndjson"}
    assert "application/x-ndjson" in create["description"]
    schema = document["components"]["schemas"]["CreateChange"]["properties"]["operations"]
    assert "maxItems" not in schema
    bulk = document["paths"]["/api/v1/register/bulk"]["post"]
    assert bulk["operationId"] == "createBulkChange" and bulk["x-roles"] == ["change_coordinator"]
    sorts = {p["name"]: p for p in document["paths"]["/api/v1/items"]["get"]["parameters"]}
    assert {"sort", "order", "cursor"} <= set(sorts)


# -- bulk actions -------------------------------------------------------------------------------

def test_a_bulk_status_change_by_filter_is_one_change_with_its_step_log(api: ApiClient) -> None:
    fill(api.db, 40, status="in_stock", location="AMS")
    fill(api.db, 3, status="in_stock", location="RTM")

    response = api.post("/register/bulk", json={
        "selection": {"filter": {"location": "AMS", "status": "in_stock"}},
        "action": "status", "value": "in_use"})

    assert response.status_code == 201, response.get_data(as_text=True)
    done = response.get_json()
    assert (done["count"], done["state"], done["reached"]) == (40, "closed", True)
    log = api.get(f"/changes/{done['key']}/log").get_json()["entries"]
    assert [e["to_step"] for e in log][-1] == "closed" and len(log) == 8
    in_use = api.get("/items?status=in_use&limit=200").get_json()
    assert in_use["total"] == 40


def test_bulk_refusals_name_the_items_and_register_nothing(api: ApiClient) -> None:
    keys = fill(api.db, 2, status="in_use")
    before = change_count(api)
    response = api.post("/register/bulk", json={"selection": {"keys": keys},
                                                "action": "status", "value": "ordered"})
    assert response.status_code == 422
    fields = error_of(response)["fields"]
    assert fields[0]["field"] == "selection" and "2 of 2" in fields[0]["message"]
    assert keys[0] in fields[1]["message"]
    both = api.post("/register/bulk", json={"selection": {"keys": keys, "filter": {}},
                                            "action": "retire"})
    assert both.status_code == 422
    assert api.post("/register/bulk", "sam", json={"selection": {"keys": keys},
                                                   "action": "retire"}).status_code == 403
    assert change_count(api) == before


# -- the register list, sorted ----------------------------------------------------------------

@pytest.fixture
def any_api(db_url: str) -> Iterator[ApiClient]:
    """The API on each database (SQLite and PostgreSQL)."""
    app = make_app(db_url)
    yield ApiClient(app)
    app.extensions["usm_db"].dispose()


def _walk(api: ApiClient, url: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    while url:
        page = api.get(url).get_json()
        rows += page["items"]
        url = page["next"]
    return rows


def test_sorted_pages_return_every_item_once_in_the_register_pages_order(
        any_api: ApiClient) -> None:
    db: Database = any_api.db
    now = utcnow() - timedelta(minutes=5)
    owners = ["zoe", "adam", None, "mia", "adam", None, "bob"]
    ops = [laptop(n, **({"owner": owners[n % len(owners)]} if owners[n % len(owners)] else {}),
                  location=f"Room {n % 4}") for n in range(23)]
    changes.carry_through(db, "carol", model="standard-change", title="Laptops",
                          operations=ops, now=now, impact="x", risk="low", cost_estimate="0",
                          currency="EUR", planned_start=now, planned_end=now + timedelta(hours=1))

    for order in ("asc", "desc"):
        rows = _walk(any_api, f"/items?sort=owner&order={order}&limit=4")
        keys = [r["key"] for r in rows]
        assert len(keys) == len(set(keys)) == 23
        valued = [r for r in rows if r["owner"] is not None]
        expected = sorted(valued, key=lambda r: (r["owner"], r["key"]), reverse=order == "desc")
        assert valued == expected
        assert all(r["owner"] is None for r in rows[len(valued):])  # empty values last
        empty = [r["key"] for r in rows[len(valued):]]
        assert empty == sorted(empty, reverse=order == "desc")

    by_name = _walk(any_api, "/items?sort=name&limit=5&location=Room%201")
    assert [r["name"] for r in by_name] == sorted(r["name"] for r in by_name)
    assert len(by_name) == 6

    first = any_api.get("/items?sort=owner&limit=4").get_json()
    cursor = first["next"].split("cursor=")[1]
    wrong = any_api.get(f"/items?sort=name&limit=4&cursor={cursor}")
    assert wrong.status_code == 422
