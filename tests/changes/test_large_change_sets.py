"""A change of thousands of operations stays readable: its detail page reads one page of the change
set against the register (statements and rows read do not grow with the change), pages through the
rest, and still names the keys the implementation gave its new items. On SQLite and PostgreSQL."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from tests.support.helpers import at, counted, implement_normal_change, laptop
from tests.support.web import login
from usm.services import changes
from usm.services.platform import Database


def _bulk_receipt(db: Database, count: int) -> str:
    return implement_normal_change(db, [laptop(f"l{i}", f"SN-BIG-{i:05d}") for i in range(count)],
                                   at("2026-02-02"))


def test_the_detail_reads_one_page_of_a_large_change_set(db: Database) -> None:
    key = _bulk_receipt(db, 450)
    first = changes.change_detail(db, key)
    assert len(first.operations) == 450 and len(first.diff) == changes.DIFF_PAGE
    assert first.diff[0].item is not None and first.diff[0].item.key == "LAP-000001"
    last = changes.change_detail(db, key, operations_from=400)
    assert [d.position for d in last.diff] == list(range(401, 451))
    # the 401st create got the 401st key of the change, as the implementation drew them
    assert last.diff[0].item is not None and last.diff[0].item.key == "LAP-000401"
    assert last.diff[-1].item is not None and last.diff[-1].item.key == "LAP-000450"
    whole = changes.change_detail(db, key, operations_shown=None)
    assert [d.item.key for d in whole.diff if d.item] == [f"LAP-{n:06d}" for n in range(1, 451)]


def test_reading_a_page_costs_the_same_for_a_small_and_a_large_change(db: Database) -> None:
    small = _bulk_receipt(db, 5)
    large = _bulk_receipt(db, 600)

    def statements(key: str) -> int:
        with counted(db) as seen:
            changes.change_detail(db, key)
        return len(seen)

    assert statements(large) <= statements(small) + 2


def test_the_page_links_to_the_next_operations(web_app: Flask, web_client: FlaskClient,
                                               web_db: Database) -> None:
    key = _bulk_receipt(web_db, 250)
    login(web_client, "carol")
    html = web_client.get(f"/changes/{key}").get_data(as_text=True)
    assert "Operations 1 to 200 of 250." in html
    assert f"/changes/{key}?operations_from=200#change-set" in html
    html = web_client.get(f"/changes/{key}?operations_from=200").get_data(as_text=True)
    assert "Operations 201 to 250 of 250." in html and "SN-BIG-00249" in html
