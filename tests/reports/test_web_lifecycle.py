"""The lifecycle and spares report pages over HTTP: the figures a service owner sees (worked out in
tests/test_lifecycle.py and tests/test_spares.py), charts, help, empty states, bad input on the
page (400), CSV/XLSX downloads, and who may open them."""

from __future__ import annotations

import csv
import io
import re
from html import unescape

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook

from bir.queries import ItemFilter
from tests.reports.test_lifecycle import build_estate
from tests.reports.test_spares import UTRECHT, build_pool, receive, retire
from tests.support.helpers import at, implement_normal_change, laptop
from tests.support.web import login
from usm.services import register
from usm.services.platform import Database


@pytest.fixture
def sam(web_client: FlaskClient) -> FlaskClient:
    assert login(web_client, "sam").status_code == 302
    return web_client


def page(client: FlaskClient, path: str, expect: int = 200, **query: str) -> str:
    response = client.get(path, query_string=query or None)
    assert response.status_code == expect, response.get_data(as_text=True)[-3000:]
    return response.get_data(as_text=True)


def text_of(html: str) -> str:
    """The visible text, without the charts' SVG, in single spaces."""
    html = re.sub(r"<svg.*?</svg>", " ", html, flags=re.S)
    html = re.sub(r'<div class="visually-hidden"><table>.*?</table></div>', " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


# -- lifecycle --------------------------------------------------------------------------------------

def test_lifecycle_page_shows_the_figures_charts_and_help(sam: FlaskClient, web_db: Database
                                                          ) -> None:
    k = build_estate(web_db)
    html = page(sam, "/reports/lifecycle", as_of="2026-02-01", days="60")
    text = text_of(html)

    assert "As of 2026-02-01" in text and "Expiring by 2026-04-02 3" in text
    assert f"{k['L2']} Laptop L2 Laptop In use — — warranty 2026-02-20 19" in text
    assert f"{k['L6']} Laptop L6" in text and "2025-12-31 32" in text  # past end of life
    assert "Laptop Store A 2 Laptop Store B 1 Total 3" in text  # stock
    assert "owner" in text and "cost centre" in text  # data quality
    # Two charts: expiries per month (stacked) and items by status, drawn in the page.
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart-svg" role="img"') == 2
    assert "<td>2026-03</td><td>2</td><td>0</td><td>2</td>" in html  # March: L6 + L1 warranties
    assert "<td>In use</td><td>4</td>" in html
    assert "style=" not in html and "<script>" not in html
    assert "Days left counts from the as-of day." in text  # help text per figure


def test_lifecycle_before_and_after_the_retirement(sam: FlaskClient, web_db: Database) -> None:
    k = build_estate(web_db)
    before = text_of(page(sam, "/reports/lifecycle", as_of="2026-02-09", days="60"))
    after = text_of(page(sam, "/reports/lifecycle", as_of="2026-02-10", days="60"))
    assert f"{k['L6']} Laptop L6" in before and "2025-12-31 40" in before
    assert f"{k['L6']} Laptop L6" not in after
    assert "Past end of life 1" in after


def test_lifecycle_empty_states(sam: FlaskClient, web_db: Database) -> None:
    text = text_of(page(sam, "/reports/lifecycle", as_of="2026-01-01"))
    assert "No warranty or lease ends in this period." in text
    assert "No item in the estate is past its end of life." in text
    assert "Nothing is in stock." in text
    assert "Every item in use has an owner and a cost centre, and every amount its currency." in text


@pytest.mark.parametrize(("query", "message"), [
    ({"days": "0"}, "days: give a whole number from 1 to 3650, not 0"),
    ({"days": "ninety"}, "days: 'ninety' is not a whole number"),
    ({"as_of": "2026-02-30"}, "as_of: '2026-02-30' is not a date"),
])
def test_lifecycle_bad_input_is_shown_on_the_page(sam: FlaskClient, query: dict[str, str],
                                                  message: str) -> None:
    html = page(sam, "/reports/lifecycle", 400, **query)
    assert "This report cannot run:" in html and message in unescape(html)


def test_lifecycle_tables_download_as_csv_and_xlsx(sam: FlaskClient, web_db: Database) -> None:
    k = build_estate(web_db)
    response = sam.get("/reports/lifecycle/export",
                       query_string={"table": "expiring", "format": "csv", "as_of": "2026-02-01",
                                     "days": "60"})
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="lifecycle-expiring-2026-02-01.csv"')
    rows = csv_rows(response.data)
    assert rows[0][-3:] == ["Expires", "Ends on", "Days left"]
    assert [(r[0], r[-1]) for r in rows[1:]] == [(k["L2"], "19"), (k["L6"], "28"), (k["L1"], "42")]

    xlsx = sam.get("/reports/lifecycle/export", query_string={
        "table": "expiries-by-month", "format": "xlsx", "as_of": "2026-02-01"})
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0] == ("Month", "Warranties", "Leases", "Total")
    assert values[2] == ("2026-03", 2, 0, 2) and len(values) == 13
    assert sam.get("/reports/lifecycle/export", query_string={"table": "nope"}).status_code == 400
    assert sam.get("/reports/lifecycle/export", query_string={"format": "pdf"}).status_code == 400


# -- spares -----------------------------------------------------------------------------------------

def test_spares_page_explains_the_calculation_and_compares_with_stock(
        sam: FlaskClient, web_db: Database) -> None:
    build_pool(web_db)
    text = text_of(page(sam, "/reports/spares", **{
        "class": "hardware.laptop", "location": UTRECHT, "as_of": "2026-06-30",
        "window_days": "100"}))
    # Worked in tests/test_spares.py: N 10, R 4, r 0.004, L 50, lambda 2 -> S 5; 2 in stock.
    assert "Laptop at Utrecht office, as of 2026-06-30" in text
    assert "Spares needed for 95% 5" in text and "Stock on hand (in stock) 2" in text
    assert "Still to buy 3" in text and "The stock is 3 short" in text
    assert "Installed base N 10" in text and "Replacements R 4" in text
    assert "Observed days 100 The look-back window, from 2026-03-22 to 2026-06-30." in text
    assert "R ÷ (N × observed days) = 4 ÷ (10 × 100)" in text
    assert "Lead time L (days) 50.00" in text
    assert "λ = N × r × L × (1 + g) = 10 × 0.004 × 50.00 × 1" in text
    assert "4 94.73% no" in text and "5 98.34% yes — the smallest, so S = 5" in text
    assert "Service level the stock on hand gives 67.67%" in text  # P(X<=2) = 5 e^-2


def test_spares_overrides_and_as_of_before_a_change(sam: FlaskClient, web_db: Database) -> None:
    build_pool(web_db)
    base = {"class": "hardware.laptop", "location": UTRECHT, "window_days": "100"}
    before = text_of(page(sam, "/reports/spares", **base, as_of="2026-06-14"))
    assert "Spares needed for 95% 3" in before  # lambda 1 before the June 15 retirements
    given = text_of(page(sam, "/reports/spares", **base, as_of="2026-06-30",
                         rate_percent="36.5", lead_time_days="100", growth_percent="50",
                         service_level="90"))
    # lambda = 10 x 0.001 x 100 x 1.5 = 1.5; P(<=3) = 0.934358 >= 0.90 -> S = 3
    assert "Spares needed for 90% 3" in given
    assert "Given: 36.5% per year ÷ 100 ÷ 365 (measured: 0.004)" in given


@pytest.mark.parametrize(("query", "message"), [
    ({"class": "hardware.toaster"}, "class: there is no item class 'hardware.toaster'"),
    ({"service_level": "100"}, "service_level: give a number from 50 up to 99.99, not 100"),
    ({"window_days": "3"}, "window_days: give a whole number from 7 to 3650, not 3"),
    ({"lead_time_days": "soon"}, "lead_time_days: 'soon' is not a number"),
])
def test_spares_bad_input_is_shown_on_the_page(sam: FlaskClient, query: dict[str, str],
                                               message: str) -> None:
    html = page(sam, "/reports/spares", 400, **query)
    assert "This calculation cannot run:" in html and message in unescape(html)


def test_spares_download(sam: FlaskClient, web_db: Database) -> None:
    keys = build_pool(web_db)
    query = {"class": "hardware.laptop", "location": UTRECHT, "as_of": "2026-06-30",
             "window_days": "100"}
    response = sam.get("/reports/spares/export", query_string={**query, "format": "csv"})
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="spares-hardware.laptop-Utrecht-office-2026-06-30.csv"')
    figures = dict(tuple(row) for row in csv_rows(response.data)[1:])
    assert figures["Demand during lead time (lambda)"] == "2.0000"
    assert figures["Spares needed"] == "5" and figures["Still to buy"] == "3"
    xlsx = sam.get("/reports/spares/export", query_string={**query, "format": "xlsx"})
    book = load_workbook(io.BytesIO(xlsx.data))
    assert book.sheetnames == ["Spares calculation", "Poisson P(X <= k)", "Replacements",
                               "Retirements not counted", "Deliveries", "Agreed service levels"]
    assert [(row[0], row[2], row[4], row[6])
            for row in book["Deliveries"].iter_rows(values_only=True)][1:] == [
        (keys["receipt 1"], 1, "order date on the receipt", 40),
        (keys["receipt 2"], 1, "order date on the receipt", 60)]
    assert [row[2] for row in book["Replacements"].iter_rows(values_only=True)][-2:] == [
        keys["failures"]] * 2
    assert list(book["Poisson P(X <= k)"].iter_rows(values_only=True))[4:6] == [
        (4, "94.73"), (5, "98.34")]


def test_spares_page_shows_each_measured_input_with_the_changes_it_came_from(
        sam: FlaskClient, web_db: Database) -> None:
    keys = build_pool(web_db)
    planned = retire(web_db, [keys["U06"]], at("2026-06-20"), "end_of_life", title="Refresh")
    silent = implement_normal_change(web_db, [{"op": "set_status", "item": keys["U07"],
                                               "status": "retired"}], at("2026-06-21"))
    implement_normal_change(web_db, [
        {"op": "create_item", "ref": "desk", "class": "service", "name": "Workplace",
         "status": "in_use", "attributes": {"spares_service_level": "99"}},
        {"op": "add_relation", "kind": "supports", "source": keys["U10"], "target": "@desk"},
    ], at("2026-06-01"))
    service = register.list_items(web_db, ItemFilter(text="Workplace"))[0][0].key
    html = page(sam, "/reports/spares", **{"class": "hardware.laptop", "location": UTRECHT,
                                           "as_of": "2026-06-30", "window_days": "100"})
    text = text_of(html)

    # Failures only, each with the change that recorded it, linked.
    assert "Replacements R 4" in text and "2 retirements from use without such a reason" in text
    assert f'<a href="/changes/{keys["failures"]}">{keys["failures"]}</a>' in html
    assert f"{keys['U04']} Laptop U04 {keys['failures']} 2026-06-15 09:00 UTC Retired failure" \
        in text
    # The planned refresh and the retirement without a reason: shown, not counted.
    assert f"{keys['U06']} Laptop U06 {planned} 2026-06-20 09:00 UTC end of life" in text
    assert f"{keys['U07']} Laptop U07 {silent} 2026-06-21 09:00 UTC reason not recorded" in text
    assert f'<a href="/changes/{silent}">{silent}</a>' in html
    # Lead time from the order and delivery dates the receipts record, each receipt linked.
    assert (f"{keys['receipt 1']} Laptops delivered 1 2026-03-01 the receipt's order date "
            "2026-04-10 40.00") in text
    assert f'<a href="/changes/{keys["receipt 2"]}">{keys["receipt 2"]}</a>' in html
    assert "mean time from order to delivery of 2 delivered devices" in text
    # The service level is the agreed one of the service the pool's laptops support.
    assert f"Service level 99% The agreed spares service level of {service} Workplace" in text
    assert f'<a href="/items/{service}">{service}</a>' in html
    assert "Spares needed for 99% 6" in text  # lambda 8 x 4/(8 x 100) x 50 = 2 at 99%
    assert "Observed days 100" in text and "A short observation" not in text


def test_spares_page_says_when_the_observation_is_short_and_a_receipt_has_no_dates(
        sam: FlaskClient, web_db: Database) -> None:
    implement_normal_change(web_db, [laptop(f"l{n}", f"L{n}", status="in_use", location="Lab")
                                     for n in range(1, 11)], at("2026-06-21"))
    undated = receive(web_db, [laptop("n1", "N1", status="in_stock", location="Lab")],
                      at("2026-06-22", 15))
    text = text_of(page(sam, "/reports/spares", **{"class": "hardware.laptop", "location": "Lab",
                                                   "as_of": "2026-06-30"}))
    assert ("A short observation: the pool's first device was registered on 2026-06-21, so the "
            "replacement rate is measured over 10 days, not the 365 days of the window.") in text
    assert "Observed days 10 From 2026-06-21" in text
    assert f"{undated} Laptops delivered 1 — the receipt's order date — no order date recorded" \
        in text
    assert "Not measurable: no delivery of this class records when it was ordered." in text
    assert "Service level 95% Default: no service the pool's devices support" in text


def test_reports_index_lists_both_topics_and_designers_are_refused(web_app: Flask) -> None:
    carol, pat = web_app.test_client(), web_app.test_client()
    assert login(carol, "carol").status_code == 302
    text = text_of(page(carol, "/reports/"))
    assert "Lifecycle Warranties and leases" in text and "Spares How many spare devices" in text
    assert login(pat, "pat").status_code == 302
    assert pat.get("/reports/lifecycle").status_code == 403
    assert pat.get("/reports/spares/export").status_code == 403
