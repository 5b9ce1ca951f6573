"""The finance report pages over HTTP: figures as a user reads them, exports, empty states, bad
input on the page, and the link from an item's financial attributes to its schedule."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook

from tests.reports.test_finance import build_finance_register
from tests.support.web import login
from usm.services.platform import Database


@pytest.fixture
def sam(web_client: FlaskClient) -> FlaskClient:
    assert login(web_client, "sam").status_code == 302
    return web_client


def page(client: FlaskClient, path: str, expect: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == expect, response.get_data(as_text=True)[-2000:]
    return response.get_data(as_text=True)


def rows(html: str, heading_id: str, part: str = "tbody") -> list[list[str]]:
    """The body (or ``tfoot``) rows of the first table after a heading, as cell texts."""
    section = html.split(f'id="{heading_id}"', 1)[1].split("</table>", 1)[0]
    body = section.split(f"<{part}>", 1)[1].split(f"</{part}>", 1)[0]
    return [[re.sub(r"<[^>]+>", "", cell).strip()
             for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]


def test_the_page_shows_book_values_costs_and_disposals(web_db: Database, sam: FlaskClient
                                                        ) -> None:
    keys = build_finance_register(web_db)
    html = page(sam, "/reports/finance?as_of=2026-03-31&from=2026-03-01&to=2026-06-01")
    assert "at the end of 2026-03-31" in html
    # By class at 31 March: laptop FIN-1 1200 - 2 x 100 = 1000.00 EUR; FIN-2 1000.00 USD; server
    # 3600 - 100 = 3500.00 EUR. Columns: class, items, cost, depreciated, book value.
    assert rows(html, "book-class") == [
        ["Laptop", "1", "€1,200.00", "€200.00", "€1,000.00"],
        ["Laptop", "1", "$1,000.00", "$0.00", "$1,000.00"],
        ["Server", "1", "€3,600.00", "€100.00", "€3,500.00"]]
    # Totals per currency, never EUR and USD together: 1200 + 3600 = 4800; 1000 + 3500 = 4500.
    assert rows(html, "book-class", "tfoot") == [
        ["Total", "2", "€4,800.00", "€300.00", "€4,500.00"],
        ["Total", "1", "$1,000.00", "$0.00", "$1,000.00"]]
    assert rows(html, "book-cost-centre")[0] == [
        "CC-A", "1", "€1,200.00", "€200.00", "€1,000.00"]
    # March to May, Mail: server 3 x 50 = 150.00; cloud VM 3 x 300 x 0.25 = 225.00 and
    # subscription 3 x 30 = 90.00: recurring 315.00, total 465.00.
    tco = {r[0].split()[0]: r for r in rows(html, "tco-heading")}
    assert tco["Mail"][1:] == ["3", "€150.00", "€315.00", "€465.00"]
    # Disposal of FIN-1 on 20 May: 900.00 proceeds - 960.00 book value = -60.00.
    disposal = rows(html, "disposal-heading")[0]
    assert disposal[0].startswith(keys["Laptop FIN-1"])
    assert disposal[-3:] == ["€960.00", "€900.00", "-€60.00"]
    assert "a negative figure is a loss" in html


def test_as_of_before_and_after_a_correction_on_the_page(web_db: Database, sam: FlaskClient
                                                         ) -> None:
    build_finance_register(web_db)
    before = rows(page(sam, "/reports/finance?as_of=2026-04-09"), "book-cost-centre")[0]
    after = rows(page(sam, "/reports/finance?as_of=2026-04-30"), "book-cost-centre")[0]
    # FIN-1: 1200 - 200 = 1000.00 before the correction; 1440 - 3 x 120 = 1080.00 after.
    assert before[-1] == "€1,000.00" and after[-1] == "€1,080.00"


def test_exports_of_each_table(web_db: Database, sam: FlaskClient) -> None:
    build_finance_register(web_db)
    csv = sam.get("/reports/finance/export/service-tco.csv?from=2026-03-01&to=2026-05-01")
    assert csv.status_code == 200
    assert csv.headers["Content-Disposition"] == (
        'attachment; filename="finance-service-tco-2026-03-01-to-2026-05-01.csv"')
    lines = csv.get_data(as_text=True).lstrip("\ufeff").splitlines()
    # March and April: Mail 100.00 + 150 + 60 = 310.00; Portal 100.00 + 450 = 550.00.
    assert lines[0] == "Service,Name,Currency,Items,Depreciation,Recurring cost,Total"
    assert lines[1:] == ["SVC-000001,Mail,EUR,3,100.00,210.00,310.00",
                         "SVC-000002,Portal,EUR,2,100.00,450.00,550.00"]
    xlsx = sam.get("/reports/finance/export/book-by-class.xlsx?as_of=2026-03-31")
    assert xlsx.headers["Content-Disposition"].endswith('finance-book-by-class-2026-03-31.xlsx"')
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0] == ("Class", "Currency", "Items", "Cost", "Depreciated", "Book value")
    assert values[3][0] == "Server" and Decimal(str(values[3][5])) == Decimal("3500")
    for table in ("book-by-cost-centre", "book-items", "cost-centres", "disposals"):
        assert sam.get(f"/reports/finance/export/{table}.csv").status_code == 200
    assert sam.get("/reports/finance/export/nothing.csv").status_code == 404


def test_item_schedule_page_and_link_from_the_item(web_db: Database, sam: FlaskClient) -> None:
    keys = build_finance_register(web_db)
    server = keys["Server"]
    item_page = page(sam, f"/items/{server}")
    assert f'href="/reports/finance/items/{server}"' in item_page
    html = page(sam, f"/reports/finance/items/{server}?as_of=2026-04-15")
    # 3600.00 / 36 = 100.00 a month from 1 Feb: booked 1 Mar and 1 Apr -> 3400.00.
    assert "€3,400.00" in html
    periods = rows(html, "as_of")  # the first table after the form
    assert periods[0] == ["1", "2026-02-01", "2026-03-01", "€3,600.00", "€100.00",
                          "€3,500.00"]
    assert len(periods) == 36
    csv = sam.get(f"/reports/finance/items/{server}/schedule.csv?as_of=2026-04-15")
    assert csv.get_data(as_text=True).splitlines()[36].startswith("36,2029-01-01,2029-02-01,")
    assert "No item LAP-999999 in the register" in page(sam, "/reports/finance/items/LAP-999999", 404)


def test_bad_input_is_shown_on_the_page(web_db: Database, sam: FlaskClient) -> None:
    html = page(sam, "/reports/finance?as_of=31-03-2026", 400)
    assert "as_of: &#39;31-03-2026&#39; is not a date" in html
    html = page(sam, "/reports/finance?from=2026-01-15", 400)
    assert "from: 2026-01-15 is not the 1st of a month" in html
    assert "at most 36 months" in page(sam, "/reports/finance?from=2020-01-01&to=2026-01-01", 400)
    assert "as_of: give a date between the years 1900 and 2999" in page(
        sam, "/reports/finance?as_of=9999-12-31", 400)
    assert sam.get("/reports/finance/export/disposals.csv?to=x").status_code == 400


def test_empty_register_shows_empty_states(sam: FlaskClient) -> None:
    html = page(sam, "/reports/finance")
    assert "No item with a purchase cost was held" in html
    assert "No service carried any cost in that period." in html
    assert "No item was disposed of in that period." in html


def test_only_report_readers_open_it(web_client: FlaskClient) -> None:
    assert login(web_client, "pat").status_code == 302
    assert web_client.get("/reports/finance").status_code == 403


def test_an_item_that_does_not_depreciate_says_why(web_db: Database, sam: FlaskClient) -> None:
    from tests.support.helpers import at, implement_normal_change, laptop

    implement_normal_change(web_db, [laptop("a", "SN-ND", purchase_cost="1200.00",
                                            currency="EUR", acquired_on="2026-01-05")],
                            at("2026-01-10"))
    html = page(sam, "/reports/finance/items/LAP-000001")
    assert "Does not depreciate: no depreciation method is registered." in html
    assert "Method" not in html.split("Does not depreciate")[0].split("Residual value")[-1]
    assert "Depreciation starts" not in html and "None" not in html
