"""The service owner's register screens over HTTP: search, item detail, services and a service's
view; their empty states, bad input, 404s, who may open them, and their statement counts."""

from __future__ import annotations

import re
from html import unescape

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from tests.register.test_services import build_register
from tests.support.helpers import at, implement_normal_change, laptop
from tests.support.web import login
from usm.services.platform import Database

REGISTER_PAGES = ("/items", "/items/SRV-000001", "/services", "/services/SVC-000001")


@pytest.fixture
def sample(web_db: Database) -> dict[str, str]:
    return build_register(web_db)


@pytest.fixture
def sam(web_client: FlaskClient) -> FlaskClient:
    assert login(web_client, "sam").status_code == 302
    return web_client


def page(client: FlaskClient, path: str, expect: int = 200, **query: str) -> str:
    response = client.get(path, query_string=query or None)
    assert response.status_code == expect, response.get_data(as_text=True)[-3000:]
    return response.get_data(as_text=True)


def item_keys(html: str) -> list[str]:
    """The item keys in the result table, in order."""
    body = html.split('<table class="list results">', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<td class="col-key"><a href="/items/([A-Z]+-\d+)', body)


def link(html: str, rel: str) -> str | None:
    match = re.search(rf'<a href="([^"]+)" rel="{rel}">', html)
    return unescape(match.group(1)) if match else None


# Search


def test_search_page_lists_items_with_count_filters_and_help(sam: FlaskClient,
                                                              sample: dict[str, str]) -> None:
    html = page(sam, "/items")

    assert "15 items in the register." in html
    assert item_keys(html)[:3] == ["BLD-000001", "CI-000001", "LAP-000001"]
    assert "Laptop" in html and "€1,200.00" in html and "2025-05-12" in html
    assert 'name="q"' in html and "owner, manufacturer, model or location" in html  # help text
    for name in ("class", "status", "owner", "location", "cost_centre", "service", "as_of"):
        assert f'name="{name}"' in html, name
    assert '<option value="hardware">Hardware (all)</option>' in html
    assert '<option value="SVC-000001">E-mail (SVC-000001)</option>' in html
    assert '<option value="alice"></option>' in html  # owner suggestions
    assert 'type="datetime-local"' in html


def test_search_filters_and_says_how_many_match(sam: FlaskClient, sample: dict[str, str]) -> None:
    html = page(sam, "/items", q="laptop", owner="bob", location="Utrecht")
    assert item_keys(html) == ["LAP-000001", "LAP-000002", "LAP-000007"]
    assert "3 items match." in html
    assert 'value="bob"' in html  # the form keeps what was asked

    html = page(sam, "/items", service="SVC-000001")
    assert item_keys(html) == ["BLD-000001", "CI-000001", "SRV-000001", "VM-000001"]
    assert 'href="/services/SVC-000001">E-mail (SVC-000001)</a>' in html

    html = page(sam, "/items", **{"class": "hardware", "status": "in_stock"})
    assert item_keys(html) == ["LAP-000003"] and "1 item matches." in html


def test_sorting_by_a_header_and_back(sam: FlaskClient, sample: dict[str, str]) -> None:
    html = page(sam, "/items", sort="purchase_cost", order="desc", **{"class": "hardware"})

    assert item_keys(html)[:4] == ["SRV-000001", "LAP-000005", "LAP-000002", "LAP-000001"]
    assert item_keys(html)[-2:] == ["LAP-000006", "LAP-000004"]  # no cost: last, key descending
    assert 'aria-sort="descending"' in html
    # The header of the sorted column flips the order; the others sort ascending; filters stay.
    assert 'href="/items?class=hardware&amp;sort=purchase_cost"' in html
    assert 'href="/items?class=hardware&amp;sort=owner"' in html
    assert 'href="/items?class=hardware"' in html  # key, the default sort


def test_next_and_previous_pages_follow_cursors(sam: FlaskClient, sample: dict[str, str]) -> None:
    first = page(sam, "/items", sort="owner", limit="4")
    assert link(first, "prev") is None and "this page shows 4" in first

    seen, html, pages = [], first, 0
    while True:
        seen += item_keys(html)
        pages += 1
        following = link(html, "next")
        if following is None:
            break
        assert "sort=owner" in following and "limit=4" in following
        html = page(sam, following)
    assert len(seen) == 15 == len(set(seen)) and pages == 4
    assert "First page" in html

    back = page(sam, link(html, "prev") or "")
    assert item_keys(back) == seen[8:12]


def test_search_as_of_shows_the_register_then(sam: FlaskClient, sample: dict[str, str]) -> None:
    html = page(sam, "/items", as_of="2026-01-31", owner="alice")

    assert item_keys(html) == ["LAP-000001", "LAP-000004", "LAP-000008"]
    assert "The register as it stood at" in html and "2026-01-31 00:00 UTC" in html
    assert 'value="2026-01-31T00:00"' in html  # the picker shows the moment
    assert 'href="/items/LAP-000001?as_of=2026-01-31T00:00"' in html  # items open as of then
    assert 'href="/items?owner=alice"' in html  # back to now


def test_empty_states(sam: FlaskClient, web_db: Database) -> None:
    html = page(sam, "/items")
    assert "The register is empty. Items are registered when a change is implemented." in html
    assert "No services are registered yet." in page(sam, "/services")

    build_register(web_db)
    html = page(sam, "/items", owner="nobody")
    assert "No items match these filters." in html and "clear them all" in html
    assert "Nothing was registered yet at that moment." in page(sam, "/items", as_of="2020-01-01")


@pytest.mark.parametrize("query, message", [
    ({"sort": "colour"}, "cannot be sorted by &#39;colour&#39;"),
    ({"order": "sideways"}, "neither &#39;asc&#39;"),
    ({"limit": "1000"}, "from 1 to 200"),
    ({"status": "lost"}, "not a lifecycle status"),
    ({"class": "toaster"}, "no item class &#39;toaster&#39;"),
    ({"service": "SVC-999999"}, "no service SVC-999999"),
    ({"after": "garbage"}, "This page link is not valid"),
    ({"as_of": "31/01/2026"}, "YYYY-MM-DD"),
])
def test_bad_search_input_is_a_400_with_the_message_on_the_search_page(
        sam: FlaskClient, sample: dict[str, str], query: dict[str, str], message: str) -> None:
    html = page(sam, "/items", 400, **query)
    assert message in html
    assert 'role="alert"' in html and 'name="q"' in html  # the form is there to fix it
    assert 'name="sort"' not in html  # a bad sort does not stick to the next search


# Item detail


def test_item_page_shows_groups_relations_services_and_a_timeline(
        sam: FlaskClient, sample: dict[str, str]) -> None:
    html = page(sam, "/items/SRV-000001")

    for heading in ("Core", "Configuration", "Financial", "Server attributes"):
        assert f">{heading}</h2>" in html, heading
    assert "<dt>Status</dt><dd>In use</dd>" in html
    assert "located in" in html and "hosts" in html and "Virtual machine" in html
    assert 'href="/services/SVC-000001">E-mail</a>' in html
    assert f'href="/changes/{sample["pending"]}"' in html  # change in progress
    assert 'type="datetime-local"' in html
    assert 'href="/items/SRV-000001?as_of=2026-01-10T09:00"' in html  # as of version 1


def test_item_timeline_is_newest_first_with_links_to_changes(
        sam: FlaskClient, sample: dict[str, str]) -> None:
    html = page(sam, "/items/LAP-000001")
    timeline = html.split('<ol class="timeline">', 1)[1]

    assert timeline.index("Version 2") < timeline.index("Version 1")
    assert timeline.index(f'href="/changes/{sample["second"]}"') < timeline.index(
        f'href="/changes/{sample["first"]}"')
    assert "<del>alice</del> → <ins>bob</ins>" in timeline


def test_item_as_of_shows_the_version_and_relations_of_then(
        sam: FlaskClient, sample: dict[str, str]) -> None:
    html = page(sam, "/items/SRV-000001", as_of="2026-01-31T12:00")

    assert "Shown as registered at" in html and 'value="2026-01-31T12:00"' in html
    assert "VM-000001" in html and "VM-000002" not in html.split("History")[0]
    assert "Payroll" not in html.split("History")[0]  # VM-000002 supports it only later


def test_item_pages_404_and_400(sam: FlaskClient, sample: dict[str, str]) -> None:
    assert "No item LAP-999999 in the register." in page(sam, "/items/LAP-999999", 404)
    assert "was not registered yet" in page(sam, "/items/LAP-000001", 404, as_of="2025-01-01")
    assert "YYYY-MM-DD" in page(sam, "/items/LAP-000001", 400, as_of="soon")
    assert "LAP-000001" in page(sam, "/items/lap-000001")  # keys are case-insensitive
    assert "holds a NUL character" in page(sam, "/items/LAP%00", 400)  # bad input, not a key
    page(sam, "/items", 400, q="\x00")


# Services


def test_services_list_counts_and_links(sam: FlaskClient, sample: dict[str, str]) -> None:
    html = page(sam, "/services")

    assert 'href="/services/SVC-000001">E-mail</a>' in html
    assert 'href="/items?service=SVC-000001"' in html and ">4</a>" in html  # supporting items
    assert "gold" in html and "All staff" in html


def test_service_view_groups_items_by_class_with_paths_and_open_changes(
        sam: FlaskClient, sample: dict[str, str]) -> None:
    html = page(sam, "/services/SVC-000001")

    assert "<h1>E-mail" in html and "4 items support this service" in html
    headings = re.findall(r'<h3 id="class-[a-z_-]+">([^<]+) <span', html)
    assert headings == ["Building", "Cloud instance", "Server", "Virtual machine"]
    assert 'houses <a href="/items/SRV-000001">SRV-000001</a>' in html  # path of the building
    assert "supports service <strong>SVC-000001</strong>" in html
    assert f'href="/changes/{sample["pending"]}"' in html
    assert "18000.00" in html and "26.67" in html  # cost totals
    assert 'href="/items?service=SVC-000001"' in html


def test_service_view_as_of_and_not_found(sam: FlaskClient, sample: dict[str, str]) -> None:
    html = page(sam, "/services/SVC-000002", as_of="2026-01-31")
    assert "No item supports this service at that moment." in html
    assert "Shown as registered at" in html

    assert "No item SVC-999999 in the register." in page(sam, "/services/SVC-999999", 404)
    assert "not a service" in page(sam, "/services/LAP-000001", 404)
    assert "YYYY-MM-DD" in page(sam, "/services/SVC-000001", 400, as_of="later")


# Who may open them


@pytest.mark.parametrize("user, status", [("sam", 200), ("carol", 200), ("pat", 200),
                                          ("ada", 403)])
def test_register_readers_may_open_the_register_screens(
        web_client: FlaskClient, sample: dict[str, str], user: str, status: int) -> None:
    login(web_client, user)
    for path in REGISTER_PAGES:
        assert web_client.get(path).status_code == status, path


def test_anonymous_visitors_are_sent_to_sign_in(web_client: FlaskClient) -> None:
    for path in REGISTER_PAGES:
        response = web_client.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_a_designer_sees_change_keys_but_no_links_to_change_pages(
        web_client: FlaskClient, sample: dict[str, str]) -> None:
    login(web_client, "pat")  # pat may read the register, not the changes
    for path in ("/items/SRV-000001", "/services/SVC-000001"):
        html = page(web_client, path)
        assert sample["pending"] in html and 'href="/changes/' not in html, path


def test_navigation_offers_register_and_services(sam: FlaskClient) -> None:
    html = page(sam, "/items")
    assert 'href="/items" aria-current="page">Register</a>' in html
    assert 'href="/services">Services</a>' in html


def test_pages_have_no_inline_scripts_or_styles(sam: FlaskClient, sample: dict[str, str]) -> None:
    for path in (*REGISTER_PAGES, "/items?sort=colour"):
        html = sam.get(path).get_data(as_text=True)
        assert "style=" not in html and "<style" not in html, path
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), path
        assert "register.css" in html, path


# Statements per page: bounded, whatever the number of rows


def _statements(db: Database, client: FlaskClient, path: str) -> int:
    count = 0

    def counter(*_args: object) -> None:
        nonlocal count
        count += 1

    event.listen(db.engine, "before_cursor_execute", counter)
    try:
        assert client.get(path).status_code == 200, path
    finally:
        event.remove(db.engine, "before_cursor_execute", counter)
    return count


def test_register_pages_issue_a_fixed_number_of_statements(
        web_app: Flask, web_db: Database, sam: FlaskClient, sample: dict[str, str]) -> None:
    paths = (
        "/items", "/items?sort=owner&order=desc&class=hardware&q=lap",
        "/items?service=SVC-000001&sort=purchase_cost", "/items?as_of=2026-02-11&service=SVC-000002",
        "/items/SRV-000001", "/items/SRV-000001?as_of=2026-02-11", "/services",
        "/services/SVC-000001", "/services/SVC-000002?as_of=2026-02-11",
    )
    few = {path: _statements(web_db, sam, path) for path in paths}

    # Many more items at the same depths of the graph, more history and more open changes.
    ops = [laptop(f"n{i}", f"SN-N{i}", owner=f"owner{i}", location=f"Room {i}") for i in range(12)]
    ops += [{"op": "create_item", "ref": f"v{i}", "class": "virtual_machine", "name": f"vm-{i}",
             "status": "in_use"} for i in range(6)]
    ops += [{"op": "add_relation", "kind": "runs_on", "source": f"@v{i}", "target": "SRV-000001"}
            for i in range(6)]
    ops += [{"op": "add_relation", "kind": "supports", "source": f"@v{i}",
             "target": "SVC-000001" if i % 2 else "SVC-000002"} for i in range(6)]
    implement_normal_change(web_db, ops, at("2026-02-10", 11), title="Many more")
    for hour in (12, 13):
        implement_normal_change(web_db, [{"op": "update_item", "item": "SRV-000001",
                                          "owner": f"owner-{hour}"}], at("2026-02-10", hour))
    many = {path: _statements(web_db, sam, path) for path in paths}

    assert many == few
    # The item page is the heaviest: besides the item, its relations, services, pending changes
    # and history, it reads the names of its owner, location and cost centre (one statement),
    # its check-out panel (one transaction: the check-out and the bookings), its attachments
    # (one transaction: the files, those pending, and the history's file events) and its
    # failures recorded from incidents (one transaction, one query), each a fixed number of
    # statements.
    assert max(few.values()) <= 28
