"""NetBox's own device files import unchanged: its bulk-import columns and its "All data (CSV)"
export with display headers; roles by name or slug, roles beyond switches and servers, and the
core count NetBox does not hold given as the coordinator's default (or those rows left out);
through the service, the CLI, the API and the screen, as one audit-correction change, and a
second import of the same file finding nothing."""

from __future__ import annotations

import io
import re
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select

from bir.items import Item
from tests.audit.fixtures import netbox
from tests.audit.test_services import walk
from tests.audit.test_snipeit import accept_web, dry_run_cli, import_api, import_cli, upload_web
from tests.support.api import ApiClient
from tests.support.web import csrf_token, login, make_app
from usm.cli import main
from usm.services import changes
from usm.services.audit import ImportSettings, reconcile_file, register_correction
from usm.services.platform import Database

ROWS = netbox.devices()
SERVERS = [d for d in ROWS if d.role == "Server"]
FILL = ImportSettings(fill={"cores": "16"})


@pytest.fixture(autouse=True)
def _instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USM_INSTANCE_PATH", str(tmp_path / "instance"))


def write(tmp_path: Path, shape: str, rows: list[netbox.Device] = ROWS) -> Path:
    path = tmp_path / f"netbox-{shape}.csv"
    path.write_bytes(getattr(netbox, shape)(rows))
    return path


def registered(db: Database, serials: list[str]) -> dict[str, dict[str, Any]]:
    with db.reading() as session:
        return {item.serial_number: item.record() for item in session.scalars(
            select(Item).where(Item.serial_number.in_(serials)))}


def check_landed(db: Database, rows: list[netbox.Device]) -> None:
    records = registered(db, [d.serial for d in rows])
    assert len(records) == len(rows)
    for device in rows:
        record = records[device.serial]
        assert record["class_code"] == netbox.ROLES[device.role][1], device.name
        assert record["status"] == netbox.STATUSES[device.status][1], device.name
        assert record["name"] == record["hostname"] == device.name
        assert record["model"] == device.device_type
        assert record["manufacturer"] == device.manufacturer
        assert record["location"] == device.site
        assert (record["owner"] or "") == device.tenant
        assert (record["asset_tag"] or "") == device.asset_tag
        if device.role == "Server":  # the coordinator's default, not a value NetBox gave
            assert record["attributes"]["cores"] == 16


@pytest.mark.parametrize("shape", ["import_csv", "all_data"])
def test_netbox_file_lands_as_one_change_and_reimports_clean(db: Database, tmp_path: Path,
                                                             shape: str) -> None:
    path = write(tmp_path, shape)
    rec = reconcile_file(db, path, "netbox", settings=FILL)
    assert rec.ok, [str(p) for p in rec.problems[:5]]
    assert len(rec.of_kind("unregistered")) == len(ROWS)
    [gap] = rec.missing_attributes
    assert (gap.class_code, gap.attribute, gap.rows, gap.filled) == \
        ("hardware.server", "cores", len(SERVERS), "16")
    assert "Rack" in rec.ignored_columns or "rack" in rec.ignored_columns
    key = register_correction(db, "carol", rec, [d.id for d in rec.differences]).key
    assert f"cores of {len(SERVERS)} new hardware.server item(s) is the default 16" in \
        str(changes.change_detail(db, key).description)
    walk(db, key)
    check_landed(db, ROWS)
    again = reconcile_file(db, path, "netbox", settings=FILL)
    assert again.ok and again.differences == [], [d.summary for d in again.differences[:5]]
    # Without the default the matched servers are fine: the default is for new items only.
    assert reconcile_file(db, path, "netbox").differences == []


def test_servers_without_a_core_count_are_one_problem_not_one_per_row(db: Database,
                                                                      tmp_path: Path) -> None:
    rec = reconcile_file(db, write(tmp_path, "all_data"), "netbox")
    assert not rec.ok
    [problem] = rec.problems
    assert problem.column == "attributes.cores"
    assert f"is required for a new hardware.server, and {len(SERVERS)} row(s) do not give it" \
        in problem.message and "give a default value for cores" in problem.message


def test_servers_can_be_left_out_and_are_listed(db: Database, tmp_path: Path) -> None:
    rec = reconcile_file(db, write(tmp_path, "import_csv"), "netbox",
                         settings=ImportSettings(skip_gaps=True))
    assert rec.ok, [str(p) for p in rec.problems[:5]]
    assert len(rec.of_kind("unregistered")) == len(ROWS) - len(SERVERS)
    [gap] = rec.missing_attributes
    assert len(gap.left_out) == len(SERVERS) and gap.filled is None
    key = register_correction(db, "carol", rec, [d.id for d in rec.differences]).key
    assert f"{len(SERVERS)} hardware.server row(s) without cores were left out" in \
        str(changes.change_detail(db, key).description)


def test_a_default_the_class_refuses_is_named_once(db: Database, tmp_path: Path) -> None:
    rec = reconcile_file(db, write(tmp_path, "all_data"), "netbox",
                         settings=ImportSettings(fill={"cores": "many"}))
    [problem] = rec.problems
    assert problem.column == "attributes.cores" and "the default 'many'" in problem.message


# -- the same file through the CLI, the API and the screen ----------------------------------------

@pytest.fixture
def web_app(db_url: str):  # type: ignore[no-untyped-def]
    app = make_app(db_url)
    yield app
    app.extensions["usm_db"].dispose()


def test_netbox_import_columns_through_the_cli(db_url: str, db: Database,
                                               tmp_path: Path) -> None:
    path = write(tmp_path, "import_csv")
    refused = CliRunner().invoke(main, ["import", str(path), "--format", "netbox", "--dry-run"],
                                 env={"USM_DATABASE_URL": db_url})
    assert refused.exit_code == 1
    assert f"{len(SERVERS)} row(s) do not give it: give a default value for cores" in \
        refused.output
    key, output = import_cli(db_url, path, "netbox", "--default", "cores=16")
    assert f"cores of {len(SERVERS)} new hardware.server item(s): the default 16" in output
    walk(db, key)
    check_landed(db, ROWS)
    again = dry_run_cli(db_url, path, "netbox")
    assert f"{len(ROWS)} matched" in again and "0 unregistered items found" in again
    assert "0 drifted fields" in again


def test_netbox_export_through_the_api(web_app: Flask, tmp_path: Path) -> None:
    db: Database = web_app.extensions["usm_db"]
    path = write(tmp_path, "all_data")
    key, rec = import_api(web_app, path, "netbox", default="cores=16")
    assert rec["counts"]["unregistered"] == len(ROWS)
    assert rec["missing_attributes"] == [{"class_code": "hardware.server", "attribute": "cores",
                                          "rows": len(SERVERS), "default": "16", "left_out": []}]
    assert {"Rack", "Platform", "Created"} <= set(rec["ignored_columns"])
    walk(db, key)
    check_landed(db, ROWS)
    again = ApiClient(web_app).post(
        "/imports", query_string={"format": "netbox"}, content_type="multipart/form-data",
        data={"file": (io.BytesIO(path.read_bytes()), path.name)}).get_json()
    assert again["counts"] == {"unregistered": 0, "drift": 0, "not_seen": 0}


def test_netbox_export_on_the_screen_with_a_default_chosen_there(web_app: Flask,
                                                                 tmp_path: Path) -> None:
    db: Database = web_app.extensions["usm_db"]
    client = web_app.test_client()
    login(client, "carol")
    path = write(tmp_path, "all_data")
    html = upload_web(client, path, "netbox")
    # The screen names the gap once and offers a default for it, saying why.
    assert "Class attributes the file does not give" in html
    assert "The register refuses a new item without an attribute its class requires" in html
    assert 'name="fill-attribute" value="cores"' in html
    assert html.count("is required for a new hardware.server") == 1
    token = re.search(r'action="/audit/import/([0-9a-f]+)/settings"', html).group(1)
    chosen = client.post(f"/audit/import/{token}/settings", data={
        "csrf_token": csrf_token(client, f"/audit/import/{token}"),
        "fill-attribute": "cores", "fill-value": "16"})
    assert chosen.status_code == 302
    html = unescape(client.get(chosen.headers["Location"]).get_data(as_text=True))
    assert "Nothing can be accepted" not in html
    walk(db, accept_web(client, html))
    check_landed(db, ROWS)
    again = upload_web(client, path, "netbox")
    assert f"{len(ROWS)} rows read, {len(ROWS)} matched" in again
    assert "No differences: the register matches the file." in again


def test_netbox_servers_left_out_on_the_screen(web_app: Flask, tmp_path: Path) -> None:
    client = web_app.test_client()
    login(client, "carol")
    html = upload_web(client, write(tmp_path, "import_csv"), "netbox")
    token = re.search(r'action="/audit/import/([0-9a-f]+)/settings"', html).group(1)
    chosen = client.post(f"/audit/import/{token}/settings", data={
        "csrf_token": csrf_token(client, f"/audit/import/{token}"),
        "fill-attribute": "cores", "fill-value": "", "skip_gaps": "1"})
    html = unescape(client.get(chosen.headers["Location"]).get_data(as_text=True))
    assert f"left out: rows {', '.join(str(n) for n in [4 + 10 * i for i in range(20)])}" in html
    assert re.search(rf'data-kind="unregistered">{len(ROWS) - len(SERVERS)}<', html)
