"""The scan audit page over HTTP, as without JavaScript (each Enter posts the form) and as
``scan.js`` posts it; finishing opens the import's reconciliation, whose accept registers the
one audit-correction change."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from tests.support.helpers import at, implement_normal_change, laptop
from tests.support.web import csrf_token, login
from usm.services import changes
from usm.services.platform import Database

ROOM = "Store room"


@pytest.fixture(autouse=True)
def _instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USM_INSTANCE_PATH", str(tmp_path / "instance"))


@pytest.fixture
def store_room(web_db: Database) -> None:
    implement_normal_change(web_db, [
        laptop("a", "SN-W-1", location=ROOM, status="in_use"),
        laptop("b", "SN-W-2", location=ROOM, status="in_use"),
        laptop("c", "SN-W-3", location=ROOM, status="in_use"),
        laptop("d", "SN-W-4", location="Office", status="in_use")], at("2026-01-10"))


def _start(client: FlaskClient) -> str:
    response = client.post("/audit/scan", data={"csrf_token": csrf_token(client, "/audit/scan"),
                                                "location": ROOM})
    assert response.status_code == 302, response.get_data(as_text=True)[-1500:]
    return response.headers["Location"]


def _counts(html: str) -> dict[str, str]:
    return dict(re.findall(r'<td data-kind="(\w+)">([^<]*)</td>', html))


def test_scan_without_javascript_then_finish_accept_and_the_change(
        web_client: FlaskClient, web_db: Database, store_room: None) -> None:
    login(web_client, "carol")
    page = _start(web_client)
    token = csrf_token(web_client, page)
    for value, message in (("LAP-000001", "LAP-000001 Laptop SN-W-1: found"),
                           ("SN-W-4", "LAP-000004 Laptop SN-W-4: unexpected, registered at "
                                      "Office"),
                           ("ABC-404", "ABC-404: unknown"), ("lap-000001", "already scanned")):
        posted = web_client.post(page, data={"csrf_token": token, "value": value})
        assert posted.status_code == 302 and posted.headers["Location"].endswith("#scan")
        html = unescape(web_client.get(page).get_data(as_text=True))
        assert message in html
    assert _counts(html) == {"found": "1", "unexpected": "1", "unknown": "1", "missing": "2"}
    missing = html[html.index('id="s-missing"'):]
    assert "LAP-000002" in missing and "LAP-000003" in missing and "LAP-000001" not in missing

    finished = web_client.post(f"{page}/finish", data={"csrf_token": token, "new_class": ""})
    assert finished.status_code == 302
    reconciliation = finished.headers["Location"]
    assert re.fullmatch(r"/audit/import/[0-9a-f]{32}", reconciliation)
    html = unescape(web_client.get(reconciliation).get_data(as_text=True))
    assert f"Reconciliation of scan at {ROOM}" in html
    assert sorted(re.findall(r'name="accept" value="([^"]+)"', html)) == [
        "drift:LAP-000004:location", "missing:LAP-000002", "missing:LAP-000003"]
    hidden = dict(re.findall(r'type="hidden" name="([\w-]+)" value="([^"]*)"', html))
    accepted = web_client.post(f"{reconciliation}/accept", data={
        **hidden, "mode-drift": "all", "mode-not_seen": "choose", "mode-unregistered": "all",
        "accept": ["missing:LAP-000003"]})
    assert accepted.status_code == 302
    key = accepted.headers["Location"].rsplit("/", 1)[-1]
    detail = changes.change_detail(web_db, key)
    assert detail.summary.model == "audit-correction"
    assert [(o["op"], o["item"]) for o in detail.operations] == [
        ("update_item", "LAP-000004"), ("set_status", "LAP-000003")]
    assert [(row.actor, row.trigger, row.to_step) for row in detail.log] == [
        ("carol", "register", "registration")]
    change_page = web_client.get(f"/changes/{key}").get_data(as_text=True)
    assert "Audit correction from scan at Store room" in unescape(change_page)

    done = unescape(web_client.get(page).get_data(as_text=True))
    assert f"This scan was registered as {key}." in done and 'name="value"' not in done
    again = web_client.post(page, data={"csrf_token": token, "value": "LAP-000002"})
    assert again.status_code == 400 and f"registered as {key}" in unescape(
        again.get_data(as_text=True))


def test_the_script_posts_a_scan_and_gets_the_lists(web_client: FlaskClient,
                                                    store_room: None) -> None:
    login(web_client, "carol")
    page = _start(web_client)
    token = csrf_token(web_client, page)
    answer = web_client.post(f"{page}/scans", data={"csrf_token": token, "value": "SN-W-2"},
                             headers={"Accept": "application/json"})
    assert answer.status_code == 200 and answer.json["kind"] == "found"
    assert answer.json["message"] == "LAP-000002 Laptop SN-W-2: found"
    assert _counts(answer.json["lists"]) == {"found": "1", "unexpected": "0", "unknown": "0",
                                             "missing": "2"}
    empty = web_client.post(f"{page}/scans", data={"csrf_token": token, "value": " "})
    assert empty.status_code == 400 and "type or scan" in empty.json["error"]
    no_token = web_client.post(f"{page}/scans", data={"value": "SN-W-1"})
    assert no_token.status_code == 400  # CSRF: the script posts the form's token


def test_scans_are_for_coordinators_and_name_their_problems(  # type: ignore[no-untyped-def]
        web_client: FlaskClient, web_app, store_room: None) -> None:
    login(web_client, "carol")
    page = _start(web_client)
    other = web_app.test_client()
    login(other, "sam")
    assert other.get("/audit/scan").status_code == 403
    assert other.get(page).status_code == 403
    assert web_client.get(page.replace(page[-32:], "0" * 32)).status_code == 404
    bad = web_client.post("/audit/scan", data={"csrf_token": csrf_token(web_client, page),
                                               "location": ""})
    assert bad.status_code == 400 and "choose the location" in bad.get_data(as_text=True)
