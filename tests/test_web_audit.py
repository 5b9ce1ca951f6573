"""The coordinator's import screen and the download links, over HTTP: upload, reconcile, tick,
accept -> one audit-correction change; bad files and oversize uploads are named, nothing stored."""

from __future__ import annotations

import csv
import io
import re
from html import unescape
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook

from tests.helpers import at, implement_normal_change, laptop
from tests.web_support import csrf_token, login
from usm.services import changes
from usm.services.audit.uploads import claim_upload, release_claim
from usm.services.database import Database


@pytest.fixture(autouse=True)
def _instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USM_INSTANCE_PATH", str(tmp_path / "instance"))


@pytest.fixture
def two_laptops(web_db: Database) -> None:
    implement_normal_change(web_db, [
        laptop("a", "SN-W-1", owner="ann", status="in_use"),
        laptop("b", "SN-W-2", owner="bob", status="in_use")], at("2026-01-10"))


def _upload(client: FlaskClient, body: bytes, name: str = "found.csv", fmt: str = "csv"):
    return client.post("/audit/import", content_type="multipart/form-data", data={
        "csrf_token": csrf_token(client, "/audit/import"), "format": fmt,
        "match": "serial_number", "file": (io.BytesIO(body), name)})


def test_upload_reconcile_tick_and_accept(web_client: FlaskClient, web_db: Database,
                                          two_laptops: None) -> None:
    login(web_client, "carol")
    found = b"class,name,serial_number,owner\nhardware.laptop,L1,SN-W-1,carl\n" \
            b"hardware.laptop,New,SN-W-9,\n"
    response = _upload(web_client, found)
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 200, html[-2000:]
    assert "2 rows read, 1 matched" in html
    boxes = re.findall(r'name="accept" value="([^"]+)"', html)
    assert sorted(boxes) == ["drift:LAP-000001:name", "drift:LAP-000001:owner",
                             "missing:LAP-000002", "new:3"]
    action = re.search(r'action="(/audit/import/[0-9a-f]+/accept)"', html).group(1)
    hidden = dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', html))
    accepted = web_client.post(action, data={**hidden, "accept": ["drift:LAP-000001:owner",
                                                                  "new:3"]})
    assert accepted.status_code == 302
    key = accepted.headers["Location"].rsplit("/", 1)[-1]
    detail = changes.change_detail(web_db, key)
    assert detail.summary.model == "audit-correction"
    assert [(o["op"], o.get("item")) for o in detail.operations] == [
        ("create_item", None), ("update_item", "LAP-000001")]
    assert detail.operations[1]["fields"] == {"owner": "carl"}
    again = web_client.post(action, data={**hidden, "accept": ["new:3"]})
    assert again.status_code == 404  # the upload is used up: no second change from it


def test_an_accept_already_running_is_refused(web_client: FlaskClient, web_db: Database,
                                              two_laptops: None) -> None:
    login(web_client, "carol")
    html = _upload(web_client, b"class,name,serial_number\nhardware.laptop,New,SN-W-9\n"
                   ).get_data(as_text=True)
    action = re.search(r'action="(/audit/import/([0-9a-f]+)/accept)"', html)
    hidden = dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', html))
    before = len(changes.list_changes(web_db, open_only=False))
    assert claim_upload(action.group(2))  # another request is accepting it right now
    refused = web_client.post(action.group(1), data={**hidden, "accept": ["new:2"]})
    assert refused.status_code == 409
    assert len(changes.list_changes(web_db, open_only=False)) == before
    release_claim(action.group(2))  # that request failed: this one may try again
    assert web_client.post(action.group(1), data={**hidden, "accept": ["new:2"]}
                           ).status_code == 302
    assert len(changes.list_changes(web_db, open_only=False)) == before + 1


def test_bad_file_names_row_and_column_and_accepts_nothing(web_client: FlaskClient,
                                                           web_db: Database) -> None:
    login(web_client, "carol")
    response = _upload(web_client, b"class,name,purchase_cost\nhardware.laptop,X,lots\n")
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    assert "found.csv, row 2, column purchase_cost:" in html
    assert 'name="accept"' not in html
    assert changes.list_changes(web_db, model="audit-correction") == []


def test_oversize_upload_is_refused_with_a_clear_error(web_app: Flask,
                                                       web_client: FlaskClient) -> None:
    login(web_client, "carol")
    web_app.config["MAX_CONTENT_LENGTH"] = 2000
    response = _upload(web_client, b"class,name\n" + b"hardware.laptop,X\n" * 500)
    assert response.status_code == 413
    assert "the upload is larger than" in response.get_data(as_text=True)


def test_only_coordinators_import(web_client: FlaskClient) -> None:
    login(web_client, "sam")
    assert web_client.get("/audit/import").status_code == 403
    assert web_client.post("/audit/import/" + "0" * 32 + "/accept",
                           data={"format": "csv"}).status_code in (400, 403)


def test_download_links_give_the_whole_result(web_app: Flask, web_client: FlaskClient,
                                              two_laptops: None) -> None:
    login(web_client, "sam")
    search = web_client.get("/items", query_string={"q": "SN-W", "limit": "25"})
    link = re.search(r'href="(/items/export\.xlsx[^"]*)"', search.get_data(as_text=True))
    assert link is not None
    book = load_workbook(io.BytesIO(web_client.get(unescape(link.group(1))).data))
    rows = [[c.value for c in r] for r in book.worksheets[0].iter_rows()]
    assert [r[0] for r in rows[1:]] == ["LAP-000001", "LAP-000002"]
    history = web_client.get("/items/LAP-000001/history.csv")
    assert history.headers["Content-Disposition"] == \
        'attachment; filename="history-LAP-000001.csv"'
    fields = [r["field"] for r in csv.DictReader(io.StringIO(history.data.decode("utf-8-sig")))]
    assert "owner" in fields and "serial_number" in fields
    assert web_client.get("/items/export.csv", query_string={"class": "nope"}).status_code == 400
    assert web_client.get("/items/NOPE-1/history.csv").status_code == 404
    assert web_client.get("/changes/export.pdf").status_code == 404
    web_client = web_app.test_client()
    login(web_client, "carol")
    queue = web_client.get("/changes", query_string={"all": "1"}).get_data(as_text=True)
    link = re.search(r'href="(/changes/export\.csv[^"]*)"', queue)
    assert link is not None and "all=1" in unescape(link.group(1))
    listing = web_client.get(unescape(link.group(1))).data.decode("utf-8-sig")
    assert [r["model"] for r in csv.DictReader(io.StringIO(listing))] == ["normal-change"]
