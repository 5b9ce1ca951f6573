"""The licence report pages over HTTP: the position table with its shortfalls and costs as of days
before and after a change, a product's drill-down, the audit export (CSV and XLSX), bad input,
the empty state and who may open them; products installed without any entitlement apart, free
software that needs no licence, and the one-click change that marks a product."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from html import unescape

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook

from tests.reports.test_licences import build_licences
from tests.reports.test_licences_free_software import build_discovery, implement_registered
from tests.support.web import login, post_form
from usm.services import changes
from usm.services.platform import Database

PAGE = "/reports/licences"


@pytest.fixture
def sam(web_client: FlaskClient) -> FlaskClient:
    assert login(web_client, "sam").status_code == 302
    return web_client


@pytest.fixture
def built(web_db: Database) -> Database:
    build_licences(web_db)
    return web_db


def page(client: FlaskClient, path: str, expect: int = 200, **query: str) -> str:
    response = client.get(path, query_string=query or None)
    assert response.status_code == expect, response.get_data(as_text=True)[-3000:]
    return response.get_data(as_text=True)


def rows(html: str) -> dict[str, list[str]]:
    """The position table as {product / metric: [cells as text]}, shortfall rows marked '!'."""
    body = html.split('<table class="list licences">', 1)[1].split("</table>", 1)[0]
    found = {}
    for klass, cells in re.findall(r'<tr class="(\w+)">(.*?)</tr>', body, re.S):
        texts = [" ".join(unescape(re.sub(r"<[^>]+>", " ", c)).split())
                 for c in re.findall(r"<td[^>]*>(.*?)</td>", cells, re.S)]
        found[f"{texts[0]} / {texts[2]}" + ("!" if klass == "shortfall" else "")] = texts
    return found


def test_position_page_shows_shortfalls_with_their_cost_before_and_after_a_change(
        sam: FlaskClient, built: Database) -> None:
    html = page(sam, PAGE, as_of="2026-03-01")
    table = rows(html)
    # Acrobat: devices lap1, lap2, lap3 against 2 entitled: short 1 x 200.00.
    assert table["Adobe Acrobat / device!"][3:8] == ["2", "3", "1 short", "€200.00",
                                                     "€200.00"]
    # SQL Server: 16 + 4 + 8 = 28 cores against 20, short 8 x 1250.00 (the dearest price).
    assert table["SQL Server / core!"][3:8] == ["20", "28", "8 short", "€1,250.00",
                                                "€10,000.00"]
    # vm2 has no vCPU count: its installation is flagged (and not counted in the 28).
    assert table["SQL Server / core!"][8] == "1 installation flagged"
    # Total: 200.00 + 120.50 + 10000.00 + 300.00 + 5000.00 + 160.00 = 15780.50 EUR.
    assert "€15,780.50" in html
    assert "7 positions (product and metric), 7 in shortfall" in unescape(html)
    assert "2026-03-01" in html and 'type="date"' in html
    assert "How consumption is counted" in html and "Distinct owners of those devices" in html

    after = rows(page(sam, PAGE, as_of="2026-04-01"))
    # Both Acrobat installations on lap3 retired: lap1, lap2 against 2, balanced, no cost.
    assert after["Adobe Acrobat / device"][3:8] == ["2", "2", "balanced", "€200.00", "—"]
    # Office: alice, bob, lap4 (no owner) and carol = 4 users against 2: short 2 x 120.50.
    assert after["Office / user!"][3:8] == ["2", "4", "2 short", "€120.50", "€241.00"]


def test_product_drill_down_lists_entitlements_and_installations(sam: FlaskClient,
                                                                built: Database) -> None:
    html = unescape(page(sam, "/reports/licences/products/sql server", as_of="2026-03-01"))
    assert "<h1>SQL Server" in html
    assert "Entitled <strong>20</strong> · consumed <strong>28</strong>" in html
    assert "shortfall cost <strong>€10,000.00</strong> (8 × €1,250.00)" in html
    assert "Counted: LAP-000001: 8 cores, SRV-000001: 16 cores, VM-000001: 4 cores." in html
    assert "device VM-000002 has no core count: not counted" in html
    for key in ("SRV-000001", "VM-000001", "VM-000002", "LAP-000001"):
        assert f'href="/items/{key}?as_of=2026-03-01"' in html
    assert html.count('href="/items/ENT-') == 2
    assert "format=xlsx&as_of=2026-03-01&product=SQL+Server" in html


def test_bad_input_is_explained_on_the_page(sam: FlaskClient, built: Database) -> None:
    html = page(sam, PAGE, expect=400, as_of="31-03-2026")
    assert "as_of: &#39;31-03-2026&#39; is not a date; give YYYY-MM-DD, e.g. 2026-03-31" in html
    assert 'value="31-03-2026"' in html
    product = page(sam, "/reports/licences/products/Office", expect=400, as_of="2026-13-01")
    assert "is not a date" in product
    missing = page(sam, "/reports/licences/products/Nothing", expect=404)
    assert "No licence entitlement or installation of" in unescape(missing)
    assert "format: must be csv or xlsx" in unescape(
        page(sam, f"{PAGE}/export", expect=400, format="pdf"))
    assert "table: must be one of" in page(sam, f"{PAGE}/export", expect=400, format="csv",
                                           table="x")
    assert "is not a date" in page(sam, f"{PAGE}/export", expect=400, as_of="yesterday")


def test_empty_register_shows_the_empty_state(sam: FlaskClient) -> None:
    html = page(sam, PAGE)
    assert "No licence entitlements or software installations were registered" in html
    assert 'class="list licences"' not in html


def test_csv_export_lists_every_installation_behind_the_figures(sam: FlaskClient,
                                                                built: Database) -> None:
    response = sam.get(f"{PAGE}/export", query_string={
        "format": "csv", "table": "installations", "as_of": "2026-04-01"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="licence-installations-2026-04-01.csv"')
    lines = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    header, body = lines[0], lines[1:]
    assert header[:4] == ["As of", "Position product", "Metric", "Installation"]
    # 4 Acrobat + 5 Office + 4 SQL Server + 2 Photoshop + 3 CAD + 3 Project + 1 Visio = 22.
    assert len(body) == 22
    lap5 = next(r for r in body if r[1] == "Office" and r[18] == "carol")
    assert lap5[9] == "yes" and lap5[19] == "Utrecht" and lap5[17] == "8"


def test_xlsx_export_has_positions_entitlements_and_installations(sam: FlaskClient,
                                                                  built: Database) -> None:
    response = sam.get(f"{PAGE}/export", query_string={"as_of": "2026-03-01"})
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="licence-audit-2026-03-01.xlsx"')
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["Licence positions", "Entitlements", "Installations"]
    positions = {(r[1], r[3]): r for r in book["Licence positions"].iter_rows(min_row=2,
                                                                             values_only=True)}
    # Entitled 1, consumed 2 (Utrecht, Amsterdam), short 1 x 5000.00 = 5000.00, as a number.
    cad = positions[("CAD Suite", "site")]
    assert cad[4:8] == (1, 2, 0, 1) and Decimal(str(cad[10])) == Decimal("5000.00")
    assert book["Entitlements"].max_row == 1 + 7
    # Before lap5: 4 Acrobat + 4 Office + 4 SQL + 2 Photoshop + 3 CAD + 3 Project + 1 Visio.
    assert book["Installations"].max_row == 1 + 21


def test_reports_index_lists_the_licence_topic(sam: FlaskClient) -> None:
    html = page(sam, "/reports/")
    assert 'href="/reports/licences"' in html and "Licences" in html


def test_designer_may_not_open_the_licence_report(web_client: FlaskClient) -> None:
    assert login(web_client, "pat").status_code == 302
    assert web_client.get(PAGE).status_code == 403
    assert web_client.get(f"{PAGE}/export").status_code == 403


def _section(html: str, heading_id: str) -> str:
    """The text of the section whose heading has ``heading_id``, tags removed."""
    part = html.split(f'id="{heading_id}"', 1)[1].split("</section>", 1)[0]
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", part)).split())


def test_free_software_needs_no_licence_and_unlicensed_products_have_their_own_section(
        sam: FlaskClient, web_db: Database) -> None:
    build_discovery(web_db)
    html = page(sam, PAGE, as_of="2026-05-05")
    # The positions table holds the products with entitlements only: Office, 1 short x 10.00.
    assert list(rows(html)) == ["Office / device!"]
    assert "€10.00" in _section(html, "cost-heading")
    # Git, Node.js and WinZip: installed without any entitlement, one line each, with the
    # software product to mark (Node.js and WinZip are not in the catalogue).
    unlicensed = _section(html, "unlicensed-heading")
    assert "Git — 2 2 SWP-000001" in unlicensed
    assert "Node.js — 2 2 not in the catalogue" in unlicensed
    assert "WinZip — 1 1 not in the catalogue" in unlicensed
    assert "Python —" not in unlicensed
    # A service owner reads how a product is marked; only a coordinator gets the button.
    assert "A change coordinator marks a product" in unlicensed
    assert "Mark as needing no licence" not in html
    # Python's software product says open source: listed apart, never a shortfall.
    assert "Python — device Open source 2 SWP-000002" in _section(html, "no-licence-heading")
    assert ("3 products are installed without any entitlement. 1 position needs no licence."
            in unescape(html))
    assert "needs no licence: its installations are never a shortfall" in html

    python = unescape(page(sam, "/reports/licences/products/python", as_of="2026-05-05"))
    assert "Needs no licence: its installations are listed and counted" in python
    assert "Software product: SWP-000002 · Open source" in _section(python, "licensing-heading")
    git = page(sam, "/reports/licences/products/Git", as_of="2026-05-05")
    assert "Installed without any entitlement: every counted device is a shortfall" in unescape(
        git)
    refused = post_form(sam, PAGE, f"{PAGE}/licensing", {"product": "Git",
                                                          "licensing": "open_source"})
    assert refused.status_code == 403


def test_a_coordinator_marks_a_product_with_one_click_through_a_change(
        web_client: FlaskClient, web_db: Database) -> None:
    build_discovery(web_db)
    assert login(web_client, "carol").status_code == 302
    html = page(web_client, PAGE, as_of="2026-05-05")
    assert html.count('action="/reports/licences/licensing"') == 4  # 3 unlicensed, Python
    assert '<option value="open_source" selected>Open source</option>' in html
    done = post_form(web_client, PAGE, f"{PAGE}/licensing", {
        "product": "Node.js", "licensing": "open_source", "vendor": ""})
    assert done.status_code == 302 and done.location.startswith("/changes/CHG-")
    key = done.location.rsplit("/", 1)[1]
    detail = unescape(page(web_client, done.location))
    assert f"Registered {key} “Mark Node.js as needing no licence (open source)”" in detail
    [create] = changes.change_detail(web_db, key).operations
    assert (create["class"], create["attributes"]) == (
        "software.product", {"product": "Node.js", "licensing": "open_source"})
    # Nothing moves until the change is implemented; then Node.js needs no licence.
    assert "Node.js —" in _section(page(web_client, PAGE), "unlicensed-heading")
    implement_registered(web_db, key, "2026-05-08")
    today = page(web_client, PAGE)
    assert "Node.js —" not in _section(today, "unlicensed-heading")
    assert "Node.js — device Open source 2 SWP-000003" in _section(today, "no-licence-heading")

    bad = post_form(web_client, PAGE, f"{PAGE}/licensing", {"product": "Git",
                                                             "licensing": "gratis"})
    assert bad.status_code == 302 and bad.location.endswith("#unlicensed-heading")
    assert ("licensing: must be one of commercial, free, open_source, bundled, not 'gratis'"
            in unescape(page(web_client, bad.location)))
