"""Attachments over the API: attach a file to an item (a change carried through), list it now
and as of before, download it, remove it (a change), files kept with a change; roles,
refusals and the OpenAPI document."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from flask import Flask

from tests.attachments import files
from tests.support.api import ApiClient, error_of
from tests.support.helpers import at, implement_normal_change, laptop
from usm.services import changes
from usm.services.platform import Database

ITEM = "/items/LAP-000001/attachments"


@pytest.fixture
def api(web_app: Flask, web_db: Database) -> ApiClient:
    implement_normal_change(web_db, [laptop("a", "SN-API-1")], at("2026-01-10"))
    return ApiClient(web_app)


def _post(api: ApiClient, data: bytes, name: str, user: str = "carol", path: str = ITEM,
          **form: str):  # type: ignore[no-untyped-def]
    return api.post(path, user, data={"file": (io.BytesIO(data), name), **form},
                    content_type="multipart/form-data")


def test_attach_list_download_and_remove(api: ApiClient) -> None:
    pdf = files.pdf()
    made = _post(api, pdf, "invoice.pdf", title="Invoice 2026-114")
    assert made.status_code == 201, made.get_data(as_text=True)
    body = made.get_json()
    assert body["filename"] == "invoice.pdf" and body["change"]["reached"] is True
    assert body["change"]["step"] == "closed" and body["change"]["blocked"] == []
    log = api.get(f"/changes/{body['change']['key']}/log").get_json()["entries"]
    assert [entry["to_step"] for entry in log] == [
        "registration", "assessment", "authorisation", "planning", "realisation",
        "implementation", "evaluation", "closed"]

    listed = api.get(ITEM, "sam").get_json()
    [attachment] = listed["attachments"]
    assert (attachment["filename"], attachment["title"], attachment["content_type"],
            attachment["size"], attachment["change"]) == (
        "invoice.pdf", "Invoice 2026-114", "application/pdf", len(pdf), body["change"]["key"])
    before = api.get(ITEM, query_string={"as_of": "2026-01-11"}).get_json()
    assert before["attachments"] == []

    content = api.get(attachment["content"], "pat")
    assert content.status_code == 200 and content.data == pdf
    assert content.headers["Content-Type"] == "application/pdf"
    assert content.headers["Content-Disposition"].startswith('attachment; filename="invoice.pdf"')
    assert content.headers["X-Content-Type-Options"] == "nosniff"

    removed = api.delete(f"{ITEM}/{attachment['id']}")
    assert removed.status_code == 201 and removed.get_json()["change"]["reached"]
    assert api.get(ITEM).get_json()["attachments"] == []
    assert api.get(attachment["content"]).data == pdf  # the history keeps it
    history = api.get("/items/LAP-000001/history").get_json()["versions"]
    assert [c for v in history for c in v["changes"] if c["field"] == "attachment"] == [
        {"field": "attachment", "old": None, "new": "invoice.pdf"},
        {"field": "attachment", "old": "invoice.pdf", "new": None}]


def test_refusals(api: ApiClient) -> None:
    html = _post(api, files.HTML, "invoice.pdf")
    assert html.status_code == 422
    problem = error_of(html)["fields"][0]
    assert problem["field"] == "file" and problem["message"].startswith("invoice.pdf: it is HTML")
    assert _post(api, files.pdf(), "a.pdf", "sam").status_code == 403
    assert _post(api, files.pdf(), "a.pdf", "ada").status_code == 403
    assert api.get(ITEM, None).status_code == 401
    assert api.get(ITEM, "ada").status_code == 403
    assert api.get("/items/NOPE-000001/attachments").status_code == 404
    assert _post(api, files.pdf(), "a.pdf", path="/items/NOPE-000001/attachments"
                 ).status_code == 404
    assert api.get(f"{ITEM}/5/content").status_code == 404
    assert api.delete(f"{ITEM}/5").status_code == 404
    missing = api.post(ITEM, data={"title": "no file"}, content_type="multipart/form-data")
    assert missing.status_code == 422


def test_files_kept_with_a_change(api: ApiClient, web_db: Database) -> None:
    key = changes.register_change(web_db, "carol", model="normal-change", title="Replace",
                                  operations=[laptop("b", "SN-API-2")],
                                  now=at("2026-01-11")).key
    path = f"/changes/{key}/attachments"
    quote = files.pdf("Quote")
    added = _post(api, quote, "quote.pdf", "sam", path=path)
    assert added.status_code == 201, added.get_data(as_text=True)
    listed = api.get(path, "sam").get_json()
    assert listed["open"] and [f["filename"] for f in listed["files"]] == ["quote.pdf"]
    assert api.get(listed["files"][0]["content"]).data == quote
    assert api.get(path, "pat").status_code == 403
    changes.move_change(web_db, key, "withdraw", "carol", comment="no",
                        now=at("2026-01-11") + timedelta(hours=1))
    closed = _post(api, files.CSV, "late.csv", path=path)
    assert closed.status_code == 409


def test_the_operations_are_documented(api: ApiClient) -> None:
    document = api.get("/openapi.json", None).get_json()
    operations = {op["operationId"] for path in document["paths"].values()
                  for op in path.values() if isinstance(op, dict) and "operationId" in op}
    assert {"listItemAttachments", "attachToItem", "getItemAttachmentContent", "detachFromItem",
            "listChangeFiles", "addChangeFile", "getChangeFileContent"} <= operations
