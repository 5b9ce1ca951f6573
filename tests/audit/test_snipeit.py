"""Snipe-IT's own files import unchanged: the asset list export and the Custom Asset Report,
with thousands separators, display dates, default categories and status labels, and a
checked-out asset in use by its assignee; through the service, the CLI, the API and the screen,
landing as one audit-correction change, and a second import of the same file finding nothing."""

from __future__ import annotations

import io
import re
from decimal import Decimal
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from bir.items import Item
from tests.audit.fixtures import snipeit
from tests.audit.test_services import walk
from tests.support.api import ApiClient
from tests.support.web import csrf_token, login, make_app
from usm.cli import main
from usm.services import changes
from usm.services.audit import ImportSettings, reconcile_file, register_correction
from usm.services.platform import Database

ROWS = snipeit.assets()


@pytest.fixture(autouse=True)
def _instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USM_INSTANCE_PATH", str(tmp_path / "instance"))


def _write(tmp_path: Path, body: bytes, name: str) -> Path:
    path = tmp_path / name
    path.write_bytes(body)
    return path


def registered(db: Database, tags: list[str]) -> dict[str, dict[str, Any]]:
    """Asset tag -> the register's record of it (class included)."""
    with db.reading() as session:
        return {item.asset_tag: item.record() for item in session.scalars(
            select(Item).where(Item.asset_tag.in_(tags)))}


def check_landed(db: Database, rows: list[snipeit.Asset], currency: str) -> None:
    """Every asset registered with the right class, cost to the cent, status, owner, end of
    life and other dates."""
    records = registered(db, [a.tag for a in rows])
    assert len(records) == len(rows)
    for asset in rows:
        record = records[asset.tag]
        assert record["class_code"] == snipeit.CATEGORIES[asset.category], asset.tag
        assert record["purchase_cost"] == asset.cost.quantize(Decimal("0.01")), \
            (asset.tag, record["purchase_cost"], asset.cost)
        assert record["currency"] == currency
        assert record["status"] == asset.status, (asset.tag, asset.label, asset.assignee)
        assert (record["owner"] or "") == asset.assignee
        assert record["end_of_life"] == asset.eol
        assert record["acquired_on"] == asset.purchased
        assert record["warranty_end"] == asset.warranty_end
        assert record["invoice"] == asset.order and record["serial_number"] == asset.serial
        assert record["location"] == asset.location and record["name"] == asset.name


@pytest.mark.parametrize("shape", ["hardware_list", "custom_report"])
@pytest.mark.parametrize("comma", [False, True], ids=["point", "comma"])
def test_snipeit_file_lands_as_one_change_and_reimports_clean(db: Database, tmp_path: Path,
                                                              shape: str, comma: bool) -> None:
    path = _write(tmp_path, getattr(snipeit, shape)(ROWS, comma), f"{shape}.csv")
    settings = ImportSettings(currency="USD")
    rec = reconcile_file(db, path, "snipeit", settings=settings)
    assert rec.ok, [str(p) for p in rec.problems[:5]]
    assert rec.rows == len(ROWS) and len(rec.of_kind("unregistered")) == len(ROWS)
    # Columns with no field in the register are named once, never dropped silently.
    assert "Notes" in rec.ignored_columns and "Company" in rec.ignored_columns
    assert "Asset Tag" not in rec.ignored_columns
    key = register_correction(db, "carol", rec, [d.id for d in rec.differences]).key
    assert [c.key for c in changes.list_changes(db, open_only=False)] == [key]
    walk(db, key)
    check_landed(db, ROWS, "USD")
    again = reconcile_file(db, path, "snipeit", settings=settings)
    assert again.ok and again.differences == [], [d.summary for d in again.differences[:5]]


# -- the same file through the CLI, the API and the screen ----------------------------------------

@pytest.fixture
def web_app(db_url: str):  # type: ignore[no-untyped-def]
    app = make_app(db_url)
    yield app
    app.extensions["usm_db"].dispose()


def import_cli(db_url: str, path: Path, fmt: str, *options: str) -> tuple[str, str]:
    """``usm import`` as an operator runs it; the change key and the output."""
    result = CliRunner().invoke(main, ["import", str(path), "--format", fmt, *options,
                                       "--as", "carol"], env={"USM_DATABASE_URL": db_url},
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output[-3000:]
    key = re.search(r"^registered (CHG-\d+) with", result.output, re.M)
    assert key, result.output[-3000:]
    return key.group(1), result.output


def dry_run_cli(db_url: str, path: Path, fmt: str, *options: str) -> str:
    result = CliRunner().invoke(main, ["import", str(path), "--format", fmt, *options,
                                       "--dry-run"], env={"USM_DATABASE_URL": db_url},
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output[-3000:]
    return result.output


def import_api(app: Flask, path: Path, fmt: str, **query: str) -> tuple[str, dict[str, Any]]:
    """``POST /imports`` then accept every new item: the change key and the reconciliation."""
    api = ApiClient(app)
    response = api.post("/imports", query_string={"format": fmt, **query},
                        content_type="multipart/form-data",
                        data={"file": (io.BytesIO(path.read_bytes()), path.name)})
    assert response.status_code == 200, response.get_json()
    rec = response.get_json()
    accepted = api.post(f"/imports/{rec['id']}/accept", json={"kinds": ["unregistered"]})
    assert accepted.status_code == 201, accepted.get_json()
    return accepted.get_json()["key"], rec


def upload_web(client: FlaskClient, path: Path, fmt: str, **fields: str) -> str:
    response = client.post("/audit/import", content_type="multipart/form-data", data={
        "csrf_token": csrf_token(client, "/audit/import"), "format": fmt, "match": "",
        "file": (io.BytesIO(path.read_bytes()), path.name), **fields})
    html = unescape(response.get_data(as_text=True))
    assert response.status_code in (200, 400), html[-2000:]
    return html


def accept_web(client: FlaskClient, html: str) -> str:
    """Accept every new item from the reconciliation page: the change key."""
    action = re.search(r'action="(/audit/import/[0-9a-f]+/accept)"', html)
    assert action, html[-3000:]
    form = html[html.index(action.group(0)):]
    hidden = dict(re.findall(r'type="hidden" name="([\w-]+)" value="([^"]*)"', form))
    accepted = client.post(action.group(1), data={**hidden, "mode-unregistered": "all",
                                                  "mode-drift": "all",
                                                  "mode-not_seen": "ignore"})
    assert accepted.status_code == 302, unescape(accepted.get_data(as_text=True))[-3000:]
    return accepted.headers["Location"].rsplit("/", 1)[-1]


def test_snipeit_report_through_the_cli(db_url: str, db: Database, tmp_path: Path) -> None:
    path = _write(tmp_path, snipeit.custom_report(ROWS, comma=True), "custom-assets-report.csv")
    key, output = import_cli(db_url, path, "snipeit", "--currency", "EUR")
    assert f"{len(ROWS)} unregistered items found" in output
    assert "columns not read (the register has no field for them): ID, Company, " in output
    walk(db, key)
    check_landed(db, ROWS, "EUR")
    again = dry_run_cli(db_url, path, "snipeit", "--currency", "EUR")
    assert f"{len(ROWS)} matched" in again and "0 unregistered items found" in again
    assert "0 drifted fields" in again


def test_snipeit_list_through_the_api(web_app: Flask, tmp_path: Path) -> None:
    db: Database = web_app.extensions["usm_db"]
    path = _write(tmp_path, snipeit.hardware_list(ROWS), "assets.csv")
    key, rec = import_api(web_app, path, "snipeit", currency="GBP")
    assert rec["counts"]["unregistered"] == len(ROWS)
    assert "Notes" in rec["ignored_columns"] and "Device Image" in rec["ignored_columns"]
    walk(db, key)
    check_landed(db, ROWS, "GBP")
    again = ApiClient(web_app).post(
        "/imports", query_string={"format": "snipeit", "currency": "GBP"},
        content_type="multipart/form-data",
        data={"file": (io.BytesIO(path.read_bytes()), path.name)}).get_json()
    assert again["counts"] == {"unregistered": 0, "drift": 0, "not_seen": 0}


def test_snipeit_report_on_the_screen(web_app: Flask, tmp_path: Path) -> None:
    db: Database = web_app.extensions["usm_db"]
    client = web_app.test_client()
    login(client, "carol")
    path = _write(tmp_path, snipeit.custom_report(ROWS), "custom-assets-report.csv")
    html = upload_web(client, path, "snipeit", currency="usd")
    assert f"{len(ROWS)} rows read, 0 matched" in html
    assert "Columns not read" in html and "<code>Model No.</code>" in html
    walk(db, accept_web(client, html))
    check_landed(db, ROWS, "USD")
    again = upload_web(client, path, "snipeit", currency="USD")
    assert f"{len(ROWS)} rows read, {len(ROWS)} matched" in again
    assert "No differences: the register matches the file." in again
