"""Imports and exports over the API: reconcile a file (nothing written), accept chosen differences
as one audit-correction change (once), bad files named by file/row/column, and downloads that are
the web's downloads."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from flask import Flask
from openpyxl import load_workbook

from tests.support.api import ApiClient, error_of
from tests.support.helpers import at, implement_normal_change, laptop
from tests.support.web import login, make_app
from usm.services import changes
from usm.services.platform import Database

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FOUND = (b"class,name,serial_number,owner\nhardware.laptop,Laptop SN-A-1,SN-A-1,carl\n"
         b"hardware.laptop,New,SN-A-9,\n")


@pytest.fixture(autouse=True)
def _instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USM_INSTANCE_PATH", str(tmp_path / "instance"))


@pytest.fixture
def web_app(db_url: str):  # type: ignore[no-untyped-def]
    """The app on each backend (not only SQLite): an accept by kind registers a large change set,
    which both databases must take."""
    app = make_app(db_url)
    yield app
    app.extensions["usm_db"].dispose()


@pytest.fixture
def api(web_app: Flask) -> ApiClient:
    return ApiClient(web_app)


@pytest.fixture
def two_laptops(web_db: Database) -> None:
    implement_normal_change(web_db, [
        laptop("a", "SN-A-1", owner="ann", status="in_use"),
        laptop("b", "SN-A-2", owner="bob", status="in_use")], at("2026-01-10"))


def _upload(api: ApiClient, body: bytes, user: str = "carol", name: str = "found.csv",
            **query: str):
    return api.post("/imports", user, query_string={"format": "csv", **query},
                    content_type="multipart/form-data",
                    data={"file": (io.BytesIO(body), name)})


def _uploads(tmp_path: Path) -> list[str]:
    folder = tmp_path / "instance" / "imports"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_reconcile_then_accept_registers_one_audit_correction(
        api: ApiClient, web_db: Database, two_laptops: None) -> None:
    response = _upload(api, FOUND, match="serial_number")
    assert response.status_code == 200, response.get_json()
    rec = response.get_json()
    assert (rec["file"], rec["rows"], rec["matched"]) == ("found.csv", 2, 1)
    assert rec["match_order"] == ["serial_number"]
    assert rec["counts"] == {"unregistered": 1, "not_seen": 1, "drift": 1}
    assert sorted(d["id"] for d in rec["differences"]) == [
        "drift:LAP-000001:owner", "missing:LAP-000002", "new:3"]
    drift = next(d for d in rec["differences"] if d["kind"] == "drift")
    assert (drift["registered"], drift["found"]) == ("ann", "carl")
    assert changes.list_changes(web_db, model="audit-correction") == []  # nothing written yet

    accepted = api.post(f"/imports/{rec['id']}/accept",
                        json={"accept": ["drift:LAP-000001:owner", "new:3"]})
    assert accepted.status_code == 201, accepted.get_json()
    body = accepted.get_json()
    assert body["accepted"] == 2 and body["operations"] == 2
    assert accepted.headers["Location"].endswith(f"/api/v1/changes/{body['key']}")
    change = api.get(f"/changes/{body['key']}").get_json()
    assert change["model"] == "audit-correction" and change["step"] == "registration"
    assert [(o["op"], o.get("item")) for o in change["operations"]] == [
        ("create_item", None), ("update_item", "LAP-000001")]
    assert change["operations"][1]["fields"] == {"owner": "carl"}
    # the register itself is untouched until the change is implemented
    assert api.get("/items/LAP-000001").get_json()["owner"] == "ann"

    again = api.post(f"/imports/{rec['id']}/accept", json={"accept": "all"})
    assert again.status_code == 409
    assert body["key"] in error_of(again)["message"]
    assert len(changes.list_changes(web_db, model="audit-correction")) == 1


def test_raw_body_and_accept_all(api: ApiClient, web_db: Database, two_laptops: None) -> None:
    response = api.post("/imports", query_string={"format": "csv", "name": "scan.csv"},
                        data=FOUND, content_type="text/csv")
    assert response.status_code == 200, response.get_json()
    rec = response.get_json()
    assert rec["file"] == "scan.csv" and rec["counts"]["unregistered"] == 1
    accepted = api.post(f"/imports/{rec['id']}/accept", json={"accept": "all",
                                                              "title": "Audit of March"})
    assert accepted.status_code == 201, accepted.get_json()
    change = changes.change_detail(web_db, accepted.get_json()["key"])
    assert change.summary.title == "Audit of March"
    assert sorted(o["op"] for o in change.operations) == ["create_item", "set_status",
                                                          "update_item"]


@pytest.mark.parametrize("user", ["sam", "pat", "ada"])
def test_only_coordinators_import(api: ApiClient, web_db: Database, user: str,
                                  tmp_path: Path) -> None:
    response = _upload(api, FOUND, user)
    assert response.status_code == 403 and error_of(response)["code"] == "forbidden"
    assert _uploads(tmp_path) == []
    token = _upload(api, FOUND).get_json()["id"]
    refused = api.post(f"/imports/{token}/accept", user, json={"accept": "all"})
    assert refused.status_code == 403
    assert changes.list_changes(web_db, model="audit-correction") == []


@pytest.mark.parametrize(("fmt", "body", "field", "text"), [
    ("csv", b"class,name,purchase_cost\nhardware.laptop,X,lots\n",
     "found.csv, row 2, column purchase_cost", ""),
    ("csv", b"class,name,colour\nhardware.laptop,X,red\n", "found.csv, row 2, column colour",
     "unknown column"),
    ("csv", b"class,name\nhardware.toaster,X\n", "found.csv, row 2, column class", ""),
    ("csv", b"class,name,serial_number\nhardware.laptop,X,SN-D\nhardware.laptop,Y,SN-D\n",
     "found.csv, row 3, column serial_number", "duplicate"),
    ("csv", b"class,name\nhardware.laptop,X,Y\n", "found.csv, row 2, column -", "fields"),
    ("csv", b"class,name,serial_number\nhardware.server,X,SN-1\n",
     "found.csv, row 2, column attributes.cores", "is required"),
    ("csv", b"", "found.csv, row 1, column -", "empty"),
    ("json", b'[{"class": "hardware.laptop", "name": "X"}, {"class"', "found.csv, row ",
     "not valid JSON"),
])
def test_bad_file_is_422_naming_file_row_and_column(api: ApiClient, web_db: Database,
                                                    tmp_path: Path, fmt: str, body: bytes,
                                                    field: str, text: str) -> None:
    response = _upload(api, body, format=fmt)
    assert response.status_code == 422, response.get_json()
    error = error_of(response)
    assert error["code"] == "import_failed"
    assert any(f["field"].startswith(field) and text in f["message"] for f in error["fields"]), \
        error["fields"]
    assert _uploads(tmp_path) == []  # nothing kept, nothing registered
    assert changes.list_changes(web_db, model="audit-correction") == []


def test_bad_requests_are_named(api: ApiClient, two_laptops: None) -> None:
    assert error_of(_upload(api, FOUND, match="colour"))["fields"][0]["field"] == "match"
    assert error_of(_upload(api, FOUND, format="xml"))["fields"][0]["field"] == "format"
    missing = api.post("/imports", query_string={"format": "csv"},
                       content_type="multipart/form-data", data={"other": "x"})
    assert missing.status_code == 422 and error_of(missing)["fields"][0]["field"] == "file"
    token = _upload(api, FOUND).get_json()["id"]
    unknown = api.post(f"/imports/{token}/accept", json={"accept": ["new:99"]})
    assert unknown.status_code == 422 and error_of(unknown)["fields"][0]["field"] == "accept"
    none = api.post(f"/imports/{token}/accept", json={"accept": []})
    assert none.status_code == 422
    assert api.post("/imports/" + "0" * 32 + "/accept",
                    json={"accept": "all"}).status_code == 404
    assert api.post("/imports/../accept", json={"accept": "all"}).status_code == 404
    # a refused accept leaves the upload acceptable
    assert api.post(f"/imports/{token}/accept", json={"accept": "all"}).status_code == 201


def _web_download(web_app: Flask, user: str, path: str) -> bytes:
    client = web_app.test_client()
    login(client, user)
    response = client.get(path)
    assert response.status_code == 200
    return response.data


def test_exports_are_the_web_downloads(web_app: Flask, api: ApiClient, web_db: Database,
                                       two_laptops: None) -> None:
    items = api.get("/exports/items", "sam", query_string={"q": "SN-A"})
    assert items.status_code == 200 and items.mimetype == "text/csv"
    assert items.headers["Content-Disposition"] == 'attachment; filename="register.csv"'
    assert items.data == _web_download(web_app, "sam", "/items/export.csv?q=SN-A")
    rows = list(csv.DictReader(io.StringIO(items.data.decode("utf-8-sig"))))
    assert [(r["key"], r["owner"]) for r in rows] == [("LAP-000001", "ann"), ("LAP-000002", "bob")]

    book = api.get("/exports/items", "pat", query_string={"format": "xlsx",
                                                          "status": "in_use"})
    assert book.mimetype == XLSX
    sheet = load_workbook(io.BytesIO(book.data)).worksheets[0]
    assert [r[0] for r in sheet.iter_rows(min_row=2, values_only=True)] == [
        "LAP-000001", "LAP-000002"]

    history = api.get("/exports/items/lap-000001/history", "carol")
    assert history.headers["Content-Disposition"] == \
        'attachment; filename="history-LAP-000001.csv"'
    assert history.data == _web_download(web_app, "carol", "/items/LAP-000001/history.csv")

    listing = api.get("/exports/changes", "sam", query_string={"open": "false"})
    assert listing.data == _web_download(web_app, "sam", "/changes/export.csv?all=1")
    assert [r["model"] for r in csv.DictReader(io.StringIO(
        listing.data.decode("utf-8-sig")))] == ["normal-change"]

    unknown = api.get("/exports/items", "sam", query_string={"class": "nope"})
    assert unknown.status_code == 422 and error_of(unknown)["fields"][0]["field"] == "class"
    assert api.get("/exports/items/NOPE-1/history", "sam").status_code == 404
    assert api.get("/exports/items", "sam", query_string={"format": "pdf"}).status_code == 422
    assert api.get("/exports/changes", "pat").status_code == 403


def test_round_trip_export_then_import_finds_no_differences(api: ApiClient,
                                                            two_laptops: None) -> None:
    exported = api.get("/exports/items").data
    response = api.post("/imports", query_string={"format": "csv"}, data=exported,
                        content_type="text/csv")
    assert response.status_code == 200, response.get_json()
    rec = response.get_json()
    assert (rec["rows"], rec["matched"], rec["differences"]) == (2, 2, [])


def _many_new(count: int) -> bytes:
    """SN-A-1 with a drifted owner (row 2), SN-A-2 not seen, ``count`` new laptops (rows 3...)."""
    return FOUND.splitlines(keepends=True)[0] + FOUND.splitlines(keepends=True)[1] + "".join(
        f"hardware.laptop,Found {n},SN-Z-{n:04},\n" for n in range(count)).encode()


def test_differences_come_in_pages_and_are_accepted_by_kind(
        api: ApiClient, web_db: Database, two_laptops: None) -> None:
    response = _upload(api, _many_new(250), match="serial_number")
    assert response.status_code == 200, response.get_json()
    rec = response.get_json()
    assert rec["counts"] == {"unregistered": 250, "not_seen": 1, "drift": 1}
    assert [d["id"] for d in rec["differences"]] == [
        "drift:LAP-000001:owner", *(f"new:{n}" for n in range(3, 102))]  # the first 100
    assert rec["next"] == f"/api/v1/imports/{rec['id']}/differences?page=2&limit=100"
    second = api.get(rec["next"]).get_json()
    assert (second["page"], second["pages"], second["total"]) == (2, 3, 252)
    assert [d["id"] for d in second["differences"]][:2] == ["new:102", "new:103"]
    assert second["next"].endswith("page=3&limit=100")
    third = api.get(second["next"]).get_json()
    assert [d["id"] for d in third["differences"]][-2:] == ["new:252", "missing:LAP-000002"]
    assert third["next"] is None
    kind = api.get(f"/imports/{rec['id']}/differences",
                   query_string={"kind": "unregistered", "page": "2", "limit": "200"}).get_json()
    assert (kind["kind"], kind["total"], len(kind["differences"]), kind["next"]) == (
        "unregistered", 250, 50, None)
    assert kind["differences"][0]["operations"][0]["op"] == "create_item"
    assert api.get(f"/imports/{rec['id']}/differences", "sam").status_code == 403
    assert api.get("/imports/" + "0" * 32 + "/differences").status_code == 404
    assert api.get(f"/imports/{rec['id']}/differences",
                   query_string={"kind": "sideways"}).status_code == 422

    accepted = api.post(f"/imports/{rec['id']}/accept",
                        json={"kinds": ["unregistered"], "accept": ["drift:LAP-000001:owner"]})
    assert accepted.status_code == 201, accepted.get_json()
    body = accepted.get_json()
    assert (body["accepted"], body["operations"]) == (251, 251)
    ops = changes.change_detail(web_db, body["key"]).operations
    assert [o["op"] for o in ops] == ["create_item"] * 250 + ["update_item"]
    assert api.get(rec["next"]).status_code == 404  # the upload is used up


def test_accept_by_an_unknown_kind_is_a_422_naming_it(api: ApiClient, web_db: Database,
                                                      two_laptops: None) -> None:
    token = _upload(api, FOUND, match="serial_number").get_json()["id"]
    unknown = api.post(f"/imports/{token}/accept", json={"kinds": ["drift", "unregisterd"]})
    assert unknown.status_code == 422
    [problem] = error_of(unknown)["fields"]
    assert problem["field"] == "kinds" and "'unregisterd'" in problem["message"]
    with_all = api.post(f"/imports/{token}/accept", json={"accept": "all", "kinds": ["x"]})
    assert with_all.status_code == 422 and "'x'" in error_of(with_all)["fields"][0]["message"]
    bad_id = api.post(f"/imports/{token}/accept", json={"kinds": ["drift"], "accept": ["new:9"]})
    assert error_of(bad_id)["fields"][0]["field"] == "accept"
    assert api.post(f"/imports/{token}/accept", json={}).status_code == 422
    assert changes.list_changes(web_db, model="audit-correction") == []
    only_drift = api.post(f"/imports/{token}/accept", json={"kinds": ["drift"]})
    assert only_drift.status_code == 201, only_drift.get_json()
    ops = changes.change_detail(web_db, only_drift.get_json()["key"]).operations
    assert [(o["op"], o.get("item")) for o in ops] == [("update_item", "LAP-000001")]
