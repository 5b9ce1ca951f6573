"""The search in the header over HTTP: the box on every page, the results page with its groups as
far as the user's roles reach, empty states, an exact key straight to its page, "see all" landing
on the same items in the register search, and bad input."""

from __future__ import annotations

import re
from html import unescape

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.register.test_web import item_keys
from tests.search.test_services import HP, JOOST, PRECISION, build_search_register
from tests.support.helpers import at, implement_normal_change, laptop
from tests.support.web import login
from usm.services.platform import Database


@pytest.fixture
def sample(web_db: Database) -> dict[str, str]:
    return build_search_register(web_db)


def signed_in(client: FlaskClient, user: str) -> FlaskClient:
    assert login(client, user).status_code == 302
    return client


def results(client: FlaskClient, text: str, expect: int = 200) -> str:
    response = client.get("/search", query_string={"q": text})
    assert response.status_code == expect, response.get_data(as_text=True)[-2000:]
    return response.get_data(as_text=True)


def section(html: str, heading_id: str) -> str | None:
    """The results group whose heading has ``heading_id``, or None when the page has none."""
    match = re.search(rf'<section aria-labelledby="{heading_id}".*?</section>', html, re.S)
    return match.group(0) if match else None


def links(html: str | None) -> list[str]:
    return [unescape(href) for href in re.findall(r'<a href="([^"]+)"', html or "")]


def test_every_page_has_the_labelled_search_box_for_a_signed_in_user(web_app: Flask) -> None:
    assert 'id="site-search"' not in web_app.test_client().get("/login").get_data(as_text=True)
    for user in ("carol", "sam", "pat", "ada"):
        html = signed_in(web_app.test_client(), user).get("/").get_data(as_text=True)
        form = re.search(r'<form class="site-search" role="search".*?</form>', html, re.S)
        assert form, user
        assert 'action="/search"' in form.group(0) and 'method="get"' in form.group(0)
        assert '<label for="site-search"' in form.group(0) and 'name="q"' in form.group(0)


def test_the_results_page_groups_items_changes_and_people(web_client: FlaskClient,
                                                          sample: dict[str, str]) -> None:
    carol = signed_in(web_client, "carol")
    html = results(carol, "Dell")

    assert links(section(html, "items-heading")) == [f"/items/{JOOST}", f"/items/{PRECISION}"]
    assert links(section(html, "changes-heading")) == [f"/changes/{sample['first']}"]
    assert "Hand out Dell laptops" in html
    assert "No people match." in (section(html, "people-heading") or "")
    assert 'value="Dell"' in html  # the header box keeps what was searched
    assert "Nothing matches" not in html

    people = section(results(carol, "anna"), "people-heading")
    assert links(people) == ["/items?owner=Anna+Bakker"] and "owns 2 items" in (people or "")


def test_the_owner_joost_the_make_dell_and_the_model_latitude_are_found(
        web_client: FlaskClient, sample: dict[str, str]) -> None:
    sam = signed_in(web_client, "sam")
    for text in ("Joost", "dell", "Latitude", "dell latitude"):
        assert f"/items/{JOOST}" in links(section(results(sam, text), "items-heading")), text


def test_nothing_found_says_so(web_client: FlaskClient, sample: dict[str, str]) -> None:
    html = results(signed_in(web_client, "sam"), "zebra")
    assert "Nothing matches “zebra”." in html
    assert "No items match." in html and "No changes match." in html


def test_an_exact_key_goes_straight_to_its_page(web_client: FlaskClient,
                                                 sample: dict[str, str]) -> None:
    carol = signed_in(web_client, "carol")
    item = carol.get("/search", query_string={"q": "lap-000001"})
    assert item.status_code == 302 and item.headers["Location"] == f"/items/{JOOST}"
    change = carol.get("/search", query_string={"q": sample["second"].lower()})
    assert change.status_code == 302
    assert change.headers["Location"] == f"/changes/{sample['second']}"


def test_each_role_sees_only_the_groups_it_may_open(web_app: Flask,
                                                    sample: dict[str, str]) -> None:
    pat = signed_in(web_app.test_client(), "pat")  # a designer reads the register, not changes
    html = results(pat, "dell")
    assert section(html, "items-heading") and section(html, "changes-heading") is None
    assert not any(href.startswith("/changes/") for href in links(html))
    assert "Nothing matches" in results(pat, sample["second"])  # no jump to a change either

    sam = signed_in(web_app.test_client(), "sam")
    assert "/admin/users/carol" not in links(results(sam, "carol"))

    ada = signed_in(web_app.test_client(), "ada")  # an administrator: people (users) only
    html = results(ada, "carol")
    assert links(section(html, "people-heading")) == ["/admin/users/carol"]
    assert section(html, "items-heading") is None and section(html, "changes-heading") is None
    assert "Nothing matches" in results(ada, "dell")
    assert ada.get("/search", query_string={"q": JOOST}).status_code == 200  # no jump


def test_see_all_lands_on_the_same_items_in_the_register_search(
        web_client: FlaskClient, web_db: Database, sample: dict[str, str]) -> None:
    implement_normal_change(web_db, [
        laptop(f"x{i}", f"SN-X{i}", manufacturer="Dell", model="Latitude 5440")
        for i in range(10)], at("2026-03-10"), title="More laptops")
    sam = signed_in(web_client, "sam")
    html = results(sam, "dell latitude")

    shown = [href for href in links(section(html, "items-heading")) if href.startswith("/items/")]
    assert len(shown) == 10 and shown[0] == f"/items/{JOOST}"
    assert "See all 11 items in the register" in html
    see_all = next(href for href in links(html) if href.startswith("/items?"))
    assert see_all == "/items?q=dell+latitude"
    register = sam.get(see_all).get_data(as_text=True)
    assert item_keys(register)[:10] == [href.removeprefix("/items/") for href in shown]
    assert len(item_keys(register)) == 11 and HP not in item_keys(register)


def test_no_text_asks_for_some_and_bad_text_is_refused(web_client: FlaskClient,
                                                        sample: dict[str, str]) -> None:
    sam = signed_in(web_client, "sam")
    assert "Type what you are looking for" in sam.get("/search").get_data(as_text=True)
    html = results(sam, "x" * 201, expect=400)
    assert 'role="alert"' in html and "longer than 200 characters" in html
    assert results(sam, "a\x00b", expect=400)
    html = results(sam, "<script>alert(1)</script>")
    assert "<script>alert" not in html and "&lt;script&gt;" in html


def test_the_results_page_needs_a_signed_in_user(web_client: FlaskClient) -> None:
    response = web_client.get("/search", query_string={"q": "dell"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
