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
from werkzeug.datastructures import MultiDict

from tests.support.helpers import at, implement_normal_change, laptop
from tests.support.web import csrf_token, login, make_app
from usm.services import changes
from usm.services.audit import claim_upload, release_claim
from usm.services.platform import Database


@pytest.fixture(autouse=True)
def _instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USM_INSTANCE_PATH", str(tmp_path / "instance"))


@pytest.fixture
def web_app(db_url: str):  # type: ignore[no-untyped-def]
    """The web app on each backend (not only SQLite): accepting a reconciliation of thousands of
    rows registers one large change set, which both databases must take."""
    app = make_app(db_url)
    yield app
    app.extensions["usm_db"].dispose()


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
    claim = claim_upload(action.group(2))  # another request is accepting it right now
    assert claim is not None
    refused = web_client.post(action.group(1), data={**hidden, "accept": ["new:2"]})
    assert refused.status_code == 409
    assert len(changes.list_changes(web_db, open_only=False)) == before
    release_claim(claim)  # that request failed: this one may try again
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


def _big_file(unregistered: int) -> bytes:
    """One drifted laptop (SN-W-1's owner), SN-W-2 not seen, and ``unregistered`` new rows
    (rows 3 onwards, so their differences are new:3, new:4, ...)."""
    lines = ["class,name,serial_number,owner", "hardware.laptop,Laptop SN-W-1,SN-W-1,carl"]
    lines += [f"hardware.laptop,Found {n},SN-X-{n:05},ann" for n in range(unregistered)]
    return ("\n".join(lines) + "\n").encode()


def _posted_form(html: str) -> list[tuple[str, str]]:
    """What a browser posts from the accept form as rendered: hidden fields, the selected option
    of each select, ticked boxes and the title."""
    form = html[html.index('<form method="post" action="/audit/import/'):]
    form = form[:form.index("</form>")]
    fields = re.findall(r'<input type="hidden" name="([\w-]+)" value="([^"]*)"', form)
    for name, options in re.findall(r'<select id="[^"]+" name="([\w-]+)">(.*?)</select>', form,
                                    re.S):
        fields.append((name, re.search(r'value="(\w+)" selected', options).group(1)))
    fields += [("accept", v) for v in re.findall(
        r'type="checkbox" name="accept" value="([^"]+)"[^>]* checked', form)]
    return fields


def _with(fields: list[tuple[str, str]], **changes: str) -> list[tuple[str, str]]:
    names = {k.replace("_", "-", 1) for k in changes}
    return [f for f in fields if f[0] not in names] + [
        (k.replace("_", "-", 1), v) for k, v in changes.items()]


def _ids_shown(html: str, kind: str) -> list[str]:
    section = html[html.index(f'<section aria-labelledby="h-{kind}"'):]
    section = section[:section.index("</section>")]
    return re.findall(r'type="checkbox" name="accept" value="([^"]+)"', section)


def test_a_large_reconciliation_shows_counts_pages_and_accepts_a_whole_kind(
        web_client: FlaskClient, web_db: Database, two_laptops: None) -> None:
    login(web_client, "carol")
    response = _upload(web_client, _big_file(2500))
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 200, html[-2000:]
    counts = dict(re.findall(r'<td data-kind="(\w+)">([\d,]+)</td>', html))
    assert counts == {"unregistered": "2,500", "drift": "1", "not_seen": "1", "duplicates": "0"}
    shown = _ids_shown(html, "unregistered")
    assert shown == [f"new:{n}" for n in range(3, 103)]  # 100 per page, not 2,500
    assert "Page 1 of 25; differences 1 to 100." in html
    token = re.search(r'action="/audit/import/([0-9a-f]+)/accept"', html).group(1)

    # the page buttons post the form to the reconciliation page; GET ?page-<kind>= works too
    buttons = re.findall(r'formaction="(/audit/import/[0-9a-f]+)#s-unregistered" name="show" '
                         r'value="(unregistered:\d+)"', html)
    assert [v for _, v in buttons] == ["unregistered:2", "unregistered:3", "unregistered:25",
                                       "unregistered:2"]  # 2, 3, ... 25, Next
    second = web_client.post(buttons[0][0],
                             data=MultiDict([*_posted_form(html), ("show", buttons[0][1])]))
    second_html = unescape(second.get_data(as_text=True))
    assert second.status_code == 200
    assert _ids_shown(second_html, "unregistered") == [f"new:{n}" for n in range(103, 203)]
    assert "Page 2 of 25; differences 101 to 200." in second_html
    last = web_client.get(f"/audit/import/{token}", query_string={"page-unregistered": "25"})
    assert _ids_shown(unescape(last.get_data(as_text=True)), "unregistered")[-1] == "new:2502"

    fields = _with(_posted_form(html), mode_unregistered="all", mode_drift="ignore",
                   mode_not_seen="ignore")
    assert len(fields) < 20  # the form stays small whatever the file's size
    accepted = web_client.post(f"/audit/import/{token}/accept", data=MultiDict(fields))
    assert accepted.status_code == 302, unescape(accepted.get_data(as_text=True))[-2000:]
    detail = changes.change_detail(web_db, accepted.headers["Location"].rsplit("/", 1)[-1])
    assert detail.summary.model == "audit-correction"
    assert len(detail.operations) == 2500
    assert {o["op"] for o in detail.operations} == {"create_item"}


def test_mixed_choice_accepts_a_whole_kind_and_the_ids_ticked_on_several_pages(
        web_client: FlaskClient, web_db: Database, two_laptops: None) -> None:
    login(web_client, "carol")
    html = unescape(_upload(web_client, _big_file(2500)).get_data(as_text=True))
    token = re.search(r'action="/audit/import/([0-9a-f]+)/accept"', html).group(1)
    choice = _with(_posted_form(html), mode_unregistered="choose", mode_drift="all",
                   mode_not_seen="ignore")
    # tick new:5 on page 1, go to page 3: the tick travels along, the choices stay selected
    third = web_client.post(f"/audit/import/{token}",
                            data=MultiDict([*choice, ("accept", "new:5"),
                                           ("show", "unregistered:3")]))
    third_html = unescape(third.get_data(as_text=True))
    assert _ids_shown(third_html, "unregistered")[0] == "new:203"
    assert '<input type="hidden" name="accept" value="new:5">' in third_html
    assert '<option value="choose" selected>' in third_html
    # tick new:210 there, and tick a not-seen item too: its kind is ignored, so it stays out
    fields = [*_posted_form(third_html), ("accept", "new:210"), ("accept", "missing:LAP-000002")]
    assert len(fields) < 20
    accepted = web_client.post(f"/audit/import/{token}/accept", data=MultiDict(fields))
    assert accepted.status_code == 302, unescape(accepted.get_data(as_text=True))[-2000:]
    detail = changes.change_detail(web_db, accepted.headers["Location"].rsplit("/", 1)[-1])
    assert [(o["op"], o.get("item"), o.get("fields", {}).get("serial_number"))
            for o in detail.operations] == [
        ("create_item", None, "SN-X-00002"), ("create_item", None, "SN-X-00207"),
        ("update_item", "LAP-000001", None)]
    assert detail.operations[2]["fields"] == {"owner": "carl"}


def test_a_page_of_an_unknown_or_used_upload_is_gone(web_client: FlaskClient,
                                                     two_laptops: None) -> None:
    login(web_client, "carol")
    assert web_client.get("/audit/import/" + "0" * 32).status_code == 404
    assert web_client.get("/audit/import/not-a-token").status_code == 404
    html = unescape(_upload(web_client, _big_file(1)).get_data(as_text=True))
    token = re.search(r'action="/audit/import/([0-9a-f]+)/accept"', html).group(1)
    assert web_client.post(f"/audit/import/{token}",  # paging posts the form: CSRF applies
                           data={"show": "drift:1"}).status_code == 400
    bad = web_client.post(f"/audit/import/{token}/accept",
                          data=MultiDict(_with(_posted_form(html), mode_drift="sometimes")))
    assert bad.status_code == 400 and "mode-drift" in bad.get_data(as_text=True)
    assert web_client.post(f"/audit/import/{token}/accept",
                           data=MultiDict(_posted_form(html))).status_code == 302
    assert web_client.get(f"/audit/import/{token}").status_code == 404


def test_counts_are_true_and_items_not_seen_are_not_retired_by_default(
        web_client: FlaskClient, web_db: Database, two_laptops: None) -> None:
    login(web_client, "carol")
    html = unescape(_upload(web_client, b"class,name,serial_number\n"
                            + b"hardware.laptop,L1,SN-W-1\n" * 707).get_data(as_text=True))
    counts = dict(re.findall(r'<td data-kind="(\w+)">([\d,]+)</td>', html))
    assert counts["duplicates"] == "706"  # not the 200 the page lists
    assert "706 problem(s)" in html and "(the first 200 are listed)" in html
    assert len(re.findall(r"duplicate key 'SN-W-1'", html)) == 200

    ok = unescape(_upload(web_client, b"class,name,serial_number\nhardware.laptop,L1,SN-W-1\n"
                          ).get_data(as_text=True))
    selected = dict(re.findall(r'name="mode-(\w+)">.*?<option value="(\w+)" selected', ok, re.S))
    assert selected["not_seen"] == "ignore"  # LAP-000002 is offered, not retired unasked
