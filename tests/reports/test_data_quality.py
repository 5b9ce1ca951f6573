"""Amounts registered without a currency (imports and data from before the register required one):
never totalled, listed under data quality, and fixed by one audit-correction change."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask.testing import FlaskClient
from sqlalchemy import select, update

from tests.support.helpers import at, laptop, to_realisation
from tests.support.web import csrf_token, login
from usm.services import audit, changes, register
from usm.services.platform import Database
from usm.services.reports import finance, lifecycle_report
from workflows.models import ChangeOperation


def _older_item_without_currency(db: Database) -> str:
    """An item registered before amounts needed a currency: its stored operation lacks one."""
    key = changes.register_change(db, "carol", model="normal-change", title="Old laptop",
                                  operations=[laptop("a", "SN-OLD", purchase_cost="800.00",
                                                     currency="EUR", status="in_use",
                                                     owner="alice", cost_centre="CC-1")],
                                  now=at("2026-01-01")).key
    with db.transaction() as session:
        op = session.scalar(select(ChangeOperation).where(ChangeOperation.seq == 0))
        payload = dict(op.payload)
        payload["fields"] = {k: v for k, v in payload["fields"].items() if k != "currency"}
        session.execute(update(ChangeOperation).where(ChangeOperation.id == op.id)
                        .values(payload=payload))
    to_realisation(db, key, at("2026-01-01"))
    changes.move_change(db, key, "implement", "carol", now=at("2026-01-01", 10))
    [item] = register.list_items(db)[0]
    assert item.currency is None and item.purchase_cost is not None
    return item.key


def test_an_amount_without_currency_is_listed_and_not_totalled(db: Database) -> None:
    key = _older_item_without_currency(db)
    book = finance.book_values(db, datetime(2026, 6, 30, tzinfo=UTC))
    assert book.items == [] and book.without_currency == 1
    assert all(g.currency for g in (*book.totals, *book.by_class, *book.by_cost_centre))

    quality = lifecycle_report(db, date(2026, 6, 30)).data_quality
    assert [(m.item.key, m.missing) for m in quality] == [(key, ("currency",))]
    assert audit.amounts_without_currency(db) == [key]


def test_one_change_fixes_them_through_the_change_process(db: Database) -> None:
    key = _older_item_without_currency(db)
    summary = audit.register_currency_correction(db, "carol", "EUR")
    detail = changes.change_detail(db, summary.key)
    assert detail.summary.model == "audit-correction" and detail.summary.step == "registration"
    assert detail.operations == [{"op": "update_item", "item": key, "fields": {"currency": "EUR"},
                                  "attributes": {}, "base_version": 1}]
    assert register.item_view(db, key).financial["currency"] is None, "not before implementation"
    from tests.audit.test_services import walk
    walk(db, summary.key)
    assert register.item_view(db, key).financial["currency"] == "EUR"
    assert audit.amounts_without_currency(db) == []
    assert finance.book_values(db, datetime.now(UTC)).without_currency == 0


def test_the_lifecycle_page_offers_the_correction_and_finance_says_what_it_leaves_out(
        web_client: FlaskClient, web_db: Database) -> None:
    _older_item_without_currency(web_db)
    login(web_client)  # carol, a coordinator
    page = "/reports/lifecycle?as_of=2026-06-30"
    html = web_client.get(page).get_data(as_text=True)
    assert "Register the change that sets the currency of 1 item to EUR" in html
    finance_page = web_client.get("/reports/finance?as_of=2026-06-30").get_data(as_text=True)
    assert "1 item with a cost but no currency is left out of these figures." in finance_page
    assert "no currency" not in web_client.get("/").get_data(as_text=True).replace(
        "with a cost but no currency", "")
    done = web_client.post("/audit/currency-correction",
                           data={"csrf_token": csrf_token(web_client, page)})
    assert done.status_code == 302 and done.headers["Location"] == "/changes/CHG-000002"
    assert changes.change_detail(web_db, "CHG-000002").summary.model == "audit-correction"
