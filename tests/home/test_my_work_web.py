"""My work on the home page and the badge in the header, as each role sees them; the favicon."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient

from bir.base import utcnow
from tests.support.helpers import laptop
from tests.support.web import login
from tests.system.test_query_counts import statements_for
from usm.services import changes
from usm.services.platform import Database

BADGE = re.compile(r'<a class="waiting-badge" href="/#my-work" aria-label="([^"]+)"[^>]*>'
                   r'<span aria-hidden="true">(\d+)</span></a>')


def _register(db: Database, title: str, *, hours_ago: float = 0, n: int = 0) -> str:
    return changes.register_change(
        db, "carol", model="normal-change", title=title, coordinator="carol",
        operations=[laptop(f"l{n}", f"SN-MWW{n:05d}")],
        now=utcnow() - timedelta(hours=hours_ago)).key


def _to_authorisation(db: Database, key: str) -> None:
    changes.move_change(db, key, "assess", "carol")
    changes.update_change(db, key, "carol", {"risk": "low", "impact": "none"})
    changes.move_change(db, key, "submit_for_approval", "carol")


def _section(html: str, section_id: str) -> str:
    match = re.search(rf'<section class="work-list[^"]*" aria-labelledby="{section_id}-heading" '
                      rf'id="{section_id}">(.*?)</section>', html, re.S)
    assert match, f"no {section_id} list"
    return match.group(1)


def test_a_service_owner_sees_the_approval_waiting_and_the_badge(
        web_client: FlaskClient, web_db: Database) -> None:
    key = _register(web_db, "Replace the core switch")
    _to_authorisation(web_db, key)
    login(web_client, "sam")
    html = web_client.get("/").get_data(as_text=True)

    assert html.index('id="my-work-heading"') < html.index('id="changes-heading"')  # first
    approvals = _section(html, "awaiting-approval")
    assert f'href="/changes/{key}"' in approvals and "Replace the core switch" in approvals
    assert 'href="/changes?awaiting=1"' in approvals
    assert "None of your changes is past its time target." in _section(html, "my-overdue")
    assert "Nothing waits for you." not in html
    assert BADGE.findall(html) == [("1 thing waits for you", "1")]
    # The badge is on every page, not only the home page.
    assert BADGE.findall(web_client.get("/items").get_data(as_text=True)) == [
        ("1 thing waits for you", "1")]

    # "See all" shows in the queue exactly what was counted.
    queue = web_client.get("/changes?awaiting=1").get_data(as_text=True)
    assert set(re.findall(r'href="/changes/(CHG-\d+)"', queue)) == {key}


def test_after_deciding_nothing_waits_and_the_badge_is_gone(
        web_client: FlaskClient, web_db: Database) -> None:
    key = _register(web_db, "Replace the core switch")
    _to_authorisation(web_db, key)
    changes.approve_change(web_db, key, "sam")
    login(web_client, "sam")
    html = web_client.get("/").get_data(as_text=True)
    assert "Nothing waits for you." in html
    assert "No change awaits your approval." in _section(html, "awaiting-approval")
    assert "waiting-badge" not in html
    assert web_client.get("/changes?awaiting=1").get_data(as_text=True).count(
        'href="/changes/CHG-') == 0


def test_a_coordinator_sees_their_overdue_changes_and_their_next_moves(
        web_client: FlaskClient, web_db: Database) -> None:
    late = _register(web_db, "Registered two days ago", hours_ago=48)
    fresh = _register(web_db, "Registered just now", n=1)
    login(web_client, "carol")
    html = web_client.get("/").get_data(as_text=True)

    overdue = _section(html, "my-overdue")
    assert f'/changes/{late}"' in overdue and f'/changes/{fresh}"' not in overdue
    assert 'href="/changes?mine=1&amp;overdue=1"' in overdue
    moves = _section(html, "my-next-move")
    assert f'/changes/{late}"' in moves and f'/changes/{fresh}"' in moves
    assert 'id="awaiting-approval"' not in html  # coordinators approve nothing here
    assert BADGE.findall(html) == [("1 thing waits for you", "1")]  # the overdue one
    queue = web_client.get("/changes?next=1").get_data(as_text=True)
    assert set(re.findall(r'href="/changes/(CHG-\d+)"', queue)) == {late, fresh}


def test_designers_and_administrators_get_their_own_empty_states(
        web_client: FlaskClient) -> None:
    login(web_client, "pat")
    html = web_client.get("/").get_data(as_text=True)
    assert "You have no unpublished drafts." in _section(html, "my-drafts")
    assert "Nothing waits for you." in html and "waiting-badge" not in html
    web_client.post("/logout", data={"csrf_token": re.search(
        r'name="csrf_token" value="([^"]+)"', html).group(1)})  # type: ignore[union-attr]
    login(web_client, "ada")
    html = web_client.get("/").get_data(as_text=True)
    assert "No failed sign-ins in the last 24 hours." in _section(html, "sign-in-problems")


def test_an_administrator_sees_failed_sign_ins_with_a_link_to_the_audit_log(
        web_app: Flask) -> None:
    mallory = web_app.test_client()
    assert login(mallory, "carol", "wrong-password-1").status_code == 200
    admin = web_app.test_client()
    login(admin, "ada")
    problems = _section(admin.get("/").get_data(as_text=True), "sign-in-problems")
    assert "1 failed sign-in" in problems
    assert "/admin/audit-log?action=sign_in.failed&amp;from=" in problems


def test_no_badge_and_no_query_for_it_on_the_sign_in_page(web_client: FlaskClient) -> None:
    html = web_client.get("/login").get_data(as_text=True)
    assert "waiting-badge" not in html and 'rel="icon"' in html


def test_the_home_page_sends_as_many_statements_for_100_changes_as_for_10(
        web_app: Flask, web_client: FlaskClient, web_db: Database) -> None:
    def add(first: int, count: int) -> None:
        for n in range(first, first + count):
            key = _register(web_db, f"Change number {n}", hours_ago=48, n=n)
            if n % 3 == 0:
                _to_authorisation(web_db, key)

    add(0, 10)
    login(web_client, "sam")
    few, _html = statements_for(web_app, web_client, "/")
    add(10, 90)
    many, html = statements_for(web_app, web_client, "/")
    assert many == few
    assert BADGE.findall(html) == [("34 things wait for you", "34")]
    assert "See all 34 in the change queue" in _section(html, "awaiting-approval")


def test_the_favicon_is_linked_and_served_without_signing_in(web_client: FlaskClient) -> None:
    def fetch(path: str) -> tuple[int, str, bytes]:
        response = web_client.get(path)
        try:
            return response.status_code, response.mimetype or "", response.data
        finally:
            response.close()

    status, mimetype, data = fetch("/favicon.ico")
    assert status == 200 and mimetype in ("image/vnd.microsoft.icon", "image/x-icon")
    assert data[:4] == b"\x00\x00\x01\x00"  # an ICO file
    status, _mimetype, data = fetch("/static/favicon.svg")
    assert status == 200 and b"<svg" in data
    assert fetch("/static/favicon.png")[2][:8] == b"\x89PNG\r\n\x1a\n"
    login(web_client, "carol")
    html = web_client.get("/").get_data(as_text=True)
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in html
