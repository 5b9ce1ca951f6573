"""Bulk actions on the register page over HTTP: the checkboxes and action bar (coordinators only),
"all N matching" posting the filter and no keys, the confirmation that says what will happen, the
one click that registers the change, refusals, CSRF and roles."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qsl

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import MultiDict

from tests.register.test_bulk_services import fill, status_of
from tests.support.web import csrf_token, login
from usm.services import changes
from usm.services.platform import Database


@pytest.fixture
def carol(web_client: FlaskClient) -> FlaskClient:
    assert login(web_client, "carol").status_code == 302
    return web_client


def html_of(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def bulk_form(html: str) -> str:
    return html.split('<form method="post" action="/items/bulk"', 1)[1].split("</form>", 1)[0]


def test_coordinators_get_checkboxes_and_an_action_bar_with_the_filter_not_the_keys(
        carol: FlaskClient, web_db: Database) -> None:
    fill(web_db, 30, status="in_stock", location="AMS")
    html = html_of(carol.get("/items?location=AMS&limit=25&sort=name"))

    assert html.count('name="keys"') == 25 and 'form="bulk"' in html
    form = bulk_form(html)
    assert 'name="csrf_token"' in form
    assert 'name="filter" value="location=AMS"' in form  # the filter, never a page or sort
    assert "Select all 30 items matching this filter" in form
    assert 'name="keys"' not in form  # keys are the rows' own checkboxes, never copied here
    for action in ("status", "owner", "location", "retire", "form"):
        assert f'<option value="{action}">' in form
    assert "bulk.js" in html and "<script>" not in html and 'style="' not in html


def test_others_and_past_views_see_no_checkboxes(web_app: Flask, web_db: Database) -> None:
    fill(web_db, 3, status="in_stock")
    sam, carol = web_app.test_client(), web_app.test_client()
    login(sam, "sam")
    html = html_of(sam.get("/items"))
    assert 'name="keys"' not in html and 'id="bulk"' not in html
    login(carol, "carol")
    past = html_of(carol.get("/items?as_of=2099-01-01T00:00"))
    assert 'name="keys"' not in past


def test_all_matching_confirms_then_one_click_registers_one_change(
        carol: FlaskClient, web_db: Database) -> None:
    fill(web_db, 60, status="in_stock", location="AMS")
    fill(web_db, 2, status="in_stock", location="RTM")
    token = csrf_token(carol, "/items")
    form = {"csrf_token": token, "all": "1", "filter": "location=AMS&status=in_stock",
            "action": "status", "to_status": "in_use", "to_owner": "", "to_location": ""}

    confirm = carol.post("/items/bulk", data=form)

    assert confirm.status_code == 200
    page = unescape(html_of(confirm))
    assert "Set the status of 60 items to in use: one standard change." in page
    assert "60 items match the filter." in page
    hidden = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page)
    assert ("all", "1") in hidden
    assert sorted(parse_qsl(dict(hidden)["filter"])) == [("location", "AMS"),
                                                         ("status", "in_stock")]
    assert not any(name == "keys" for name, _value in hidden)  # the filter, never 60 keys

    done = carol.post("/items/bulk/run", data=dict(hidden))
    assert done.status_code == 302 and "location=AMS" in done.headers["Location"]
    after = unescape(html_of(carol.get(done.headers["Location"])))
    key = re.search(r'<a href="/changes/(CHG-\d+)">', after).group(1)  # type: ignore[union-attr]
    assert (f'<a href="/changes/{key}">{key}</a> registered for 60 items and carried through '
            "to Closed.") in after
    detail = changes.change_detail(web_db, key)
    assert len(detail.operations) == 60
    assert [row.to_step for row in detail.log][-1] == "closed" and len(detail.log) == 8
    assert set(status_of(web_db, location="AMS").values()) == {"in_use"}
    assert set(status_of(web_db, location="RTM").values()) == {"in_stock"}


def test_ticked_keys_retire_stops_where_a_person_must_act(carol: FlaskClient,
                                                         web_db: Database) -> None:
    keys = fill(web_db, 3, status="in_use")
    token = csrf_token(carol, "/items")
    confirm = carol.post("/items/bulk", data={"csrf_token": token, "keys": keys[:2],
                                              "action": "retire"})
    page = unescape(html_of(confirm))
    assert "Retire 2 items: one asset retirement change." in page
    assert "waits where a person must act" in page
    hidden = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page)
    assert [v for n, v in hidden if n == "keys"] == keys[:2]
    done = carol.post("/items/bulk/run", data=MultiDict(hidden))
    after = unescape(html_of(carol.get(done.headers["Location"])))
    assert "registered for 2 items; it stopped at Assessing dependencies and data" in after


def test_refused_moves_are_named_and_nothing_is_registered(carol: FlaskClient,
                                                          web_db: Database) -> None:
    keys = fill(web_db, 2, status="in_use")
    token = csrf_token(carol, "/items")
    response = carol.post("/items/bulk", data={"csrf_token": token, "keys": keys,
                                               "action": "status", "to_status": "ordered"})
    assert response.status_code == 422
    page = unescape(html_of(response))
    assert "2 of 2 selected items cannot take status ordered" in page
    assert f"{keys[0]} cannot move from in_use to ordered" in page
    assert "Register the change" not in page
    forced = carol.post("/items/bulk/run", data={"csrf_token": token, "keys": keys,
                                                 "action": "status", "to_status": "ordered"})
    assert forced.status_code == 422
    empty = carol.post("/items/bulk", data={"csrf_token": token, "action": "status",
                                            "to_status": "in_use"})
    assert empty.status_code == 422 and "select at least one item" in html_of(empty)
    past = carol.post("/items/bulk", data={"csrf_token": token, "all": "1", "action": "retire",
                                           "filter": "as_of=2026-01-01"})
    assert past.status_code == 422 and "as it is now" in html_of(past)
    assert changes.list_changes(web_db, open_only=False, limit=500)[0].title == "Receive laptops"


def test_the_change_form_and_check_out_take_the_keys(carol: FlaskClient,
                                                     web_db: Database) -> None:
    keys = fill(web_db, 3, status="in_use", location="UTR")
    token = csrf_token(carol, "/items")
    opened = carol.post("/items/bulk", data={"csrf_token": token, "keys": keys,
                                             "action": "form"})
    assert opened.status_code == 302 and "/changes/new/normal-change" in opened.headers["Location"]
    form = html_of(carol.get(opened.headers["Location"]))
    for key in keys:
        assert f'value="{key}"' in form
    by_filter = carol.post("/items/bulk", data={"csrf_token": token, "all": "1",
                                                "filter": "location=UTR", "action": "form"})
    assert by_filter.status_code == 302 and by_filter.headers["Location"].count("item=") == 3


def test_roles_and_csrf(web_app: Flask, web_db: Database) -> None:
    keys = fill(web_db, 1, status="in_stock")
    data = {"keys": keys, "action": "status", "to_status": "in_use"}
    anonymous, sam, carol = (web_app.test_client() for _ in range(3))
    assert anonymous.post("/items/bulk", data=data).status_code in (302, 400)  # signed out
    login(sam, "sam")
    token = csrf_token(sam, "/items")
    assert sam.post("/items/bulk", data={**data, "csrf_token": token}).status_code == 403
    assert sam.post("/items/bulk/run", data={**data, "csrf_token": token}).status_code == 403
    login(carol, "carol")
    assert carol.post("/items/bulk/run", data=data).status_code == 400  # no CSRF token
    assert set(status_of(web_db).values()) == {"in_stock"}
