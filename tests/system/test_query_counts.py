"""N+1 guards: the statements a list page sends must not grow with the rows it shows. Each page is
counted with few rows and with a full page; the counts must be equal and stay small."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from tests.support.helpers import at, implement_normal_change, laptop
from tests.support.web import login
from usm.services import changes, register
from usm.services.platform import Database

REGISTER_PAGE = "/items?class=hardware.laptop&status=in_stock&sort=name"
# The most a page may send, whatever it shows (the session's user, the filter choices, the page,
# its count, the transaction's BEGIN): a new per-row query pushes a page over it.
# Every page's header adds the My work badge for people who work on changes: its transaction's
# BEGIN, the change models, one count, and for a coordinator the count of their check-outs due
# back (tests/home/test_my_work_services.py keeps it at that).
HEADER_BADGE = 4
MOST_STATEMENTS = {"register": 8 + HEADER_BADGE, "queue": 7 + HEADER_BADGE}


def statements_for(app: Flask, client: FlaskClient, path: str) -> tuple[int, str]:
    """How many statements one GET of ``path`` sends, and the page it returns."""
    engine = app.extensions["usm_db"].engine
    seen: list[str] = []

    def count(_conn: object, _cursor: object, sql: str, *_rest: object) -> None:
        seen.append(sql)

    event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get(path)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200
    return len(seen), response.get_data(as_text=True)


def laptops(first: int, count: int) -> list[dict[str, object]]:
    return [laptop(f"l{n}", f"SN-Q{n:04d}", status="in_stock") for n in range(first, first + count)]


def test_register_list_page_sends_as_many_statements_for_2_rows_as_for_50(
        web_app: Flask, web_client: FlaskClient, web_db: Database) -> None:
    implement_normal_change(web_db, laptops(0, 2), at("2026-02-02"))
    assert login(web_client, "sam").status_code == 302
    few, html = statements_for(web_app, web_client, REGISTER_PAGE)
    assert len(set(re.findall(r"/items/(LAP-\d{6})", html))) == 2

    implement_normal_change(web_db, laptops(2, 58), at("2026-02-03"))
    full, html = statements_for(web_app, web_client, REGISTER_PAGE)
    assert len(set(re.findall(r"/items/(LAP-\d{6})", html))) == 50  # one full page of the 60
    assert full == few
    assert full <= MOST_STATEMENTS["register"]


def test_change_queue_page_sends_as_many_statements_for_1_change_as_for_30(
        web_app: Flask, web_client: FlaskClient, web_db: Database) -> None:
    def register_some(first: int, count: int) -> None:
        for n in range(first, first + count):
            changes.register_change(web_db, "carol", model="normal-change", title=f"Change {n}",
                                    operations=laptops(n * 3, 3), coordinator="carol")

    register_some(0, 1)
    assert login(web_client, "carol").status_code == 302
    few, html = statements_for(web_app, web_client, "/changes")
    assert len(set(re.findall(r"/changes/(CHG-\d{6})", html))) == 1

    register_some(1, 29)
    many, html = statements_for(web_app, web_client, "/changes")
    assert len(set(re.findall(r"/changes/(CHG-\d{6})", html))) == 30
    assert many == few
    assert many <= MOST_STATEMENTS["queue"], many


@pytest.mark.parametrize("deep", [False, True])
def test_a_register_page_takes_at_most_five_statements(db: Database, deep: bool) -> None:
    implement_normal_change(db, laptops(0, 120), at("2026-02-02"))
    query = register.search_query({"class": "hardware.laptop", "status": "in_stock",
                                   "sort": "name"})
    if deep:
        second = register.search_items(db, query).next_cursor
        query = register.search_query({"class": "hardware.laptop", "status": "in_stock",
                                       "sort": "name", "after": second or ""})
    seen: list[str] = []

    def count(_conn: object, _cursor: object, sql: str, *_rest: object) -> None:
        seen.append(sql)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        page = register.search_items(db, query)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(page.rows) == 50 and page.total == 120
    assert len(seen) <= 5, seen
