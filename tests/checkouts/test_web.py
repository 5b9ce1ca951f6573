"""Check-out, check-in and bookings over HTTP: from the item page, one form and one submit each;
the flash says it is done (or where the change waits); who may do it; CSRF; refusals by name in
the reader's language; the list with overdue first; the home panel's context."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.support.helpers import at, implement_normal_change, laptop
from tests.support.web import csrf_token, login, post_form
from usm.services import change_models, checkouts, register
from usm.services.platform import Database

PERSON = "Iris van Dijk"
TODAY = datetime.now(UTC).date()


@pytest.fixture
def stock(web_db: Database) -> Database:
    implement_normal_change(web_db, [
        laptop("a", "SN-W-1", status="in_stock", location="IT store room, floor 0"),
        laptop("b", "SN-W-2", status="in_stock", location="IT store room, floor 0"),
        laptop("c", "SN-W-3", status="retired")], at("2026-01-10"))
    return web_db


def text(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def page(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def test_check_out_from_the_item_page_and_back_in(web_client: FlaskClient, stock: Database
                                                  ) -> None:
    login(web_client, "carol")
    item = page(web_client, "/items/LAP-000001")
    assert 'href="/checkouts/new?key=LAP-000001"' in item and "Not checked out." in text(item)
    form = page(web_client, "/checkouts/new?key=LAP-000001")
    assert 'name="key" value="LAP-000001"' in form and 'name="to_person"' in form
    due = (TODAY + timedelta(days=7)).isoformat()
    response = post_form(web_client, "/checkouts/new?key=LAP-000001", "/checkouts/new",
                         {"key": "LAP-000001", "to_person": PERSON, "expected_return": due})
    assert response.status_code == 302 and response.headers["Location"] == "/items/LAP-000001"
    item = page(web_client, "/items/LAP-000001")
    row = checkouts.current_checkout(stock, "LAP-000001")
    assert row is not None and row.state == "out"
    shown = text(item)
    assert f"Checked out LAP-000001 to {PERSON}. Change {row.change_key} ran through every " \
           "step and is closed." in shown
    assert f'<a href="/changes/{row.change_key}">{row.change_key}</a>' in item
    assert f"Checked out to {PERSON} (a person)" in shown and due in shown
    assert 'href="/checkouts/check-in?key=LAP-000001"' in item
    assert register.item_view(stock, "LAP-000001").core["owner"] == PERSON

    confirm = page(web_client, "/checkouts/check-in?key=LAP-000001")
    assert PERSON in text(confirm)
    response = post_form(web_client, "/checkouts/check-in?key=LAP-000001", "/checkouts/check-in",
                         {"key": "LAP-000001", "location": "Service desk"})
    assert response.status_code == 302
    shown = text(page(web_client, "/items/LAP-000001"))
    assert "Checked in LAP-000001." in shown and "Not checked out." in shown
    core = register.item_view(stock, "LAP-000001").core
    assert (core["owner"], core["status"], core["location"]) == (None, "in_stock", "Service desk")


def test_several_items_from_a_selection_link(web_client: FlaskClient, stock: Database) -> None:
    login(web_client, "carol")
    form = page(web_client, "/checkouts/new?key=LAP-000001&key=lap-000002")
    assert "2 items" in text(form)
    response = post_form(web_client, "/checkouts/new?key=LAP-000001", "/checkouts/new",
                         {"key": ["LAP-000001", "LAP-000002"], "to_location": "Lab 3"})  # type: ignore[dict-item]
    assert response.status_code == 302 and response.headers["Location"] == "/checkouts"
    listing = text(page(web_client, "/checkouts"))
    assert "Checked out LAP-000001, LAP-000002 to Lab 3." in listing
    assert listing.count("Lab 3") >= 2


def test_too_many_items_are_refused_with_a_clear_message(web_client: FlaskClient,
                                                         stock: Database) -> None:
    login(web_client, "carol")
    query = "&".join(f"key=LAP-{n:06d}" for n in range(1, 502))
    response = web_client.get(f"/checkouts/new?{query}")
    assert response.status_code == 400
    assert "At most 500 items can be handled at a time; 501 were selected." in \
        text(response.get_data(as_text=True))


def test_refusals_are_named_and_the_form_kept(web_client: FlaskClient, stock: Database) -> None:
    login(web_client, "carol")
    checkouts.check_out(stock, "carol", ["LAP-000001"], to_person=PERSON)
    response = post_form(web_client, "/checkouts/new?key=LAP-000001", "/checkouts/new",
                         {"key": "LAP-000001", "to_person": "Tom Bos"})
    assert response.status_code == 409
    shown = text(response.get_data(as_text=True))
    assert f"LAP-000001 is already checked out to {PERSON} since" in shown
    assert 'value="Tom Bos"' in response.get_data(as_text=True)
    retired = post_form(web_client, "/checkouts/new?key=LAP-000003", "/checkouts/new",
                        {"key": "LAP-000003", "to_person": "Tom Bos"})
    assert retired.status_code == 400
    assert "LAP-000003 is Retired: only an item in stock or in use can be checked out" in \
        text(retired.get_data(as_text=True))
    nobody = post_form(web_client, "/checkouts/new?key=LAP-000002", "/checkouts/new",
                       {"key": "LAP-000002"})
    assert nobody.status_code == 400 and "give one of" in text(nobody.get_data(as_text=True))
    back = post_form(web_client, "/checkouts/check-in?key=LAP-000002", "/checkouts/check-in",
                     {"key": "LAP-000002"})
    assert back.status_code == 409
    assert "LAP-000002 is not checked out." in text(back.get_data(as_text=True))
    unknown = web_client.get("/checkouts/new?key=LAP-000404")
    assert unknown.status_code == 404 and "LAP-000404" in text(unknown.get_data(as_text=True))


def test_a_blocked_check_out_says_where_its_change_waits(web_client: FlaskClient,
                                                         stock: Database) -> None:
    model = Path(__file__).resolve().parents[2] / "workflows" / "change_models" / "check-out.yaml"
    saved = change_models.save_new_draft(stock, model.read_text(encoding="utf-8").replace(
        "required_fields: {fields: [impact]}", "required_fields: {fields: [impact, description]}"))
    change_models.publish(stock, saved.code, saved.version)
    login(web_client, "carol")
    post_form(web_client, "/checkouts/new?key=LAP-000001", "/checkouts/new",
              {"key": "LAP-000001", "to_person": PERSON})
    item = page(web_client, "/items/LAP-000001")
    row = checkouts.current_checkout(stock, "LAP-000001")
    assert row is not None and row.state == "pending"
    shown = text(item)
    assert f"Change {row.change_key} is registered but waits at Checking fit with the model: " \
           "fill in description first." in shown
    assert "which waits at Assessment" in shown
    assert f'href="/changes/{row.change_key}"' in item
    assert 'id="check-out-button"' not in item and 'id="check-in-button"' not in item


def test_a_service_owner_sees_but_cannot_check_out(web_app: Flask, web_client: FlaskClient,
                                                   stock: Database) -> None:
    login(web_client, "sam")
    item = page(web_client, "/items/LAP-000001")
    assert "Check-out and bookings" in item and 'id="check-out-button"' not in item
    assert web_client.get("/checkouts/new?key=LAP-000001").status_code == 403
    assert web_client.get("/checkouts/check-in?key=LAP-000001").status_code == 403
    refused = web_client.post("/checkouts/new", data={
        "key": "LAP-000001", "to_person": PERSON, "csrf_token": csrf_token(web_client, "/")})
    assert refused.status_code == 403
    assert checkouts.current_checkout(stock, "LAP-000001") is None
    assert page(web_client, "/checkouts")  # the list is theirs to read
    designer = web_app.test_client()
    login(designer, "pat")  # a designer reads the register, not the check-outs
    assert 'id="check-out-button"' not in page(designer, "/items/LAP-000001")
    assert designer.get("/checkouts").status_code == 403


def test_forms_need_their_csrf_token(web_client: FlaskClient, stock: Database) -> None:
    login(web_client, "carol")
    response = web_client.post("/checkouts/new", data={"key": "LAP-000001",
                                                       "to_person": PERSON})
    assert response.status_code == 400
    response = web_client.post("/checkouts/reservations", data={
        "key": "LAP-000001", "person": PERSON, "starts_on": TODAY.isoformat(),
        "ends_on": TODAY.isoformat()})
    assert response.status_code == 400
    assert checkouts.current_checkout(stock, "LAP-000001") is None
    assert checkouts.upcoming(stock) == []


def test_book_and_cancel_from_the_item_page(web_client: FlaskClient, stock: Database) -> None:
    login(web_client, "sam")
    first, last = TODAY + timedelta(days=10), TODAY + timedelta(days=12)
    booked = post_form(web_client, "/items/LAP-000001", "/checkouts/reservations", {
        "key": "LAP-000001", "person": PERSON, "starts_on": first.isoformat(),
        "ends_on": last.isoformat(), "note": "Sales fair"})
    assert booked.status_code == 302
    shown = text(page(web_client, "/items/LAP-000001"))
    assert f"LAP-000001 is booked for {PERSON}." in shown and "Sales fair" in shown
    post_form(web_client, "/items/LAP-000001", "/checkouts/reservations", {
        "key": "LAP-000001", "person": "Tom Bos", "starts_on": last.isoformat(),
        "ends_on": (last + timedelta(days=1)).isoformat()})
    shown = text(page(web_client, "/items/LAP-000001"))
    assert (f"LAP-000001 is already booked for {PERSON} from {first.isoformat()} to "
            f"{last.isoformat()}.") in shown
    # Dutch dates in Dutch.
    dutch = web_client.get("/items/LAP-000001", headers={"Accept-Language": "nl"})
    assert first.strftime("%d-%m-%Y") in dutch.get_data(as_text=True)
    (reservation,) = checkouts.upcoming(stock)
    post_form(web_client, "/items/LAP-000001",
              f"/checkouts/reservations/{reservation.id}/cancel", {"key": "LAP-000001"})
    assert "No bookings from today on." in text(page(web_client, "/items/LAP-000001"))


def test_the_list_shows_overdue_first(web_client: FlaskClient, stock: Database) -> None:
    long_ago = datetime.now(UTC) - timedelta(days=10)
    checkouts.check_out(stock, "carol", ["LAP-000001"], to_person=PERSON,
                        expected_return=(long_ago + timedelta(days=2)).date(), now=long_ago)
    checkouts.check_out(stock, "carol", ["LAP-000002"], to_person="Tom Bos")
    login(web_client, "carol")
    html = page(web_client, "/checkouts")
    overdue = html[html.index('id="overdue-heading"'):html.index('id="current-heading"')]
    assert "LAP-000001" in overdue and "LAP-000002" not in overdue
    current = html[html.index('id="current-heading"'):html.index('id="bookings-heading"')]
    assert "LAP-000001" in current and "LAP-000002" in current
    assert "Tom Bos" not in text(page(web_client, "/checkouts?q=iris"))
    assert 'href="/checkouts"' in page(web_client, "/")  # the navigation's entry


def test_the_home_panel_lists_my_check_outs_due_back(web_app: Flask, stock: Database) -> None:
    from flask import render_template
    from flask_login import UserMixin, login_user

    from web.checkouts.panels import due_panel_context

    class Signed(UserMixin):
        def __init__(self, username: str, roles: list[str]):
            self.id, self.username, self.roles = username, username, roles

    checkouts.check_out(stock, "carol", ["LAP-000001"], to_person=PERSON,
                        expected_return=TODAY + timedelta(days=3))
    checkouts.check_out(stock, "carol", ["LAP-000002"], to_person=PERSON,
                        expected_return=TODAY + timedelta(days=30))
    with web_app.test_request_context("/"):
        login_user(Signed("carol", ["change_coordinator"]))
        context = due_panel_context()
        html = render_template("checkouts/_due_panel.html", **context)
    assert [r.item_key for r in context["due_checkouts"]["rows"]] == ["LAP-000001"]
    assert "My check-outs due back" in html and "LAP-000001" in html and "LAP-000002" not in html
    with web_app.test_request_context("/"):
        login_user(Signed("sam", ["service_owner"]))
        assert due_panel_context() == {"due_checkouts": None}
    with web_app.test_request_context("/"):
        login_user(Signed("ada", ["change_coordinator"]))
        html = render_template("checkouts/_due_panel.html", **due_panel_context())
    assert "Nothing you checked out is due back this week." in html


def badge(html: str) -> int:
    found = re.search(r'class="waiting-badge"[^>]*><span aria-hidden="true">(\d+)</span>', html)
    return int(found.group(1)) if found else 0


def test_a_check_out_due_back_today_counts_in_the_header_badge(web_client: FlaskClient,
                                                              stock: Database) -> None:
    login(web_client, "carol")
    before = badge(page(web_client, "/checkouts"))
    checkouts.check_out(stock, "carol", ["LAP-000001"], to_person=PERSON,
                        expected_return=TODAY + timedelta(days=3))
    assert badge(page(web_client, "/checkouts")) == before  # not due yet
    checkouts.check_out(stock, "carol", ["LAP-000002"], to_person=PERSON, expected_return=TODAY)
    assert badge(page(web_client, "/checkouts")) == before + 1  # due back today
