"""Unknown values are one fix, not a hundred errors: categories, statuses or roles the mapping
does not know are each listed once with their count and a ready-to-paste mapping line; the
coordinator maps them on the screen (a select per value), with ``--value`` or ``values=``, and
takes the choices along as the YAML mapping file the CLI reads."""

from __future__ import annotations

import re
from dataclasses import replace
from html import unescape
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from flask import Flask

from tests.audit.fixtures import netbox, snipeit
from tests.audit.test_services import walk
from tests.audit.test_snipeit import (
    accept_web,
    check_landed,
    dry_run_cli,
    import_cli,
    upload_web,
)
from tests.support.api import ApiClient, error_of
from tests.support.helpers import reference_values
from tests.support.web import csrf_token, login, make_app
from usm.cli import main
from usm.services.audit import ImportSettings, MappingError, load_mapping, reconcile_file
from usm.services.platform import Database

# Snipe-IT assets of categories and a status label the shipped mapping does not know
ODD = {"Smartwatches": 30, "Headsets": 12}
BASE = snipeit.assets(200)
ROWS = [replace(a, category=list(ODD)[0] if n < 30 else list(ODD)[1])
        if n < sum(ODD.values()) else a for n, a in enumerate(BASE)]
LOANED = 7  # rows with the custom label "Loaned (deployable)"
ROWS = [replace(a, label="Loaned") if 100 <= n < 100 + LOANED else a for n, a in enumerate(ROWS)]
CLASSES = {"Smartwatches": "client.phone", "Headsets": "client.tablet"}
# A checked-out asset's "Loaned (deployed)" says in use whatever the label: not unknown.
UNKNOWN_LOANED = sum(1 for a in ROWS if a.label == "Loaned" and not a.assignee)


@pytest.fixture(autouse=True)
def _instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USM_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setitem(snipeit.LABELS, "Loaned", ("deployable", "in_use"))
    for name, code in CLASSES.items():
        monkeypatch.setitem(snipeit.CATEGORIES, name, code)


@pytest.fixture
def web_app(db_url: str):  # type: ignore[no-untyped-def]
    app = make_app(db_url)
    yield app
    app.extensions["usm_db"].dispose()


def report(tmp_path: Path) -> Path:
    path = tmp_path / "custom-assets-report.csv"
    path.write_bytes(snipeit.custom_report(ROWS))
    return path


def test_each_unknown_value_is_listed_once_with_its_count_and_mapping_line(
        db: Database, tmp_path: Path) -> None:
    rec = reconcile_file(db, report(tmp_path), "snipeit")
    assert not rec.ok
    assert [(u.target, u.column, u.value, u.rows) for u in rec.unknown_values] == [
        ("class", "Category", "Smartwatches", 30), ("class", "Category", "Headsets", 12),
        ("status", "Status", "Loaned", UNKNOWN_LOANED)]
    assert 0 < UNKNOWN_LOANED < LOANED
    # one problem per value, not one per row
    assert len(rec.problems) == 3 and rec.problem_count == 3
    assert str(rec.problems[0]).startswith(
        "custom-assets-report.csv, row 2, column Category: 'Smartwatches' (30 row(s)) is not a "
        "value the mapping knows")
    snippet = rec.unknown_values[0].snippet
    assert snippet == 'values: {class: {"Smartwatches": <class code>}}'
    assert snippet in rec.problems[0].message
    assert yaml.safe_load(snippet) == {"values": {"class": {"Smartwatches": "<class code>"}}}


def test_a_value_of_a_like_name_is_suggested(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "nb.csv"
    path.write_bytes(netbox.all_data([replace(d, role="Printers") for d in netbox.devices(3)]))
    [unknown] = reconcile_file(db, path, "netbox").unknown_values
    assert (unknown.column, unknown.value, unknown.rows) == ("Role", "Printers", 3)
    assert unknown.snippet == 'values: {class: {"Printers": hardware.printer}}'


def test_chosen_values_import_the_file(db: Database, tmp_path: Path) -> None:
    settings = ImportSettings(currency="EUR", values={"class": CLASSES,
                                                      "status": {"Loaned": "in_use"}})
    rec = reconcile_file(db, report(tmp_path), "snipeit", settings=settings)
    assert rec.ok and rec.unknown_values == []
    assert len(rec.of_kind("unregistered")) == len(ROWS)


def test_values_on_the_command_line_and_the_mapping_line_in_a_file(
        db_url: str, db: Database, tmp_path: Path) -> None:
    path = report(tmp_path)
    result = CliRunner().invoke(main, ["import", str(path), "--format", "snipeit", "--dry-run"],
                                env={"USM_DATABASE_URL": db_url})
    assert result.exit_code == 1
    assert "Category 'Smartwatches': 30 row(s); values: {class: {\"Smartwatches\": " \
           "<class code>}}" in result.output
    assert result.output.count("is not a value the mapping knows") == 3
    key, _ = import_cli(db_url, path, "snipeit", "--currency", "EUR",
                        "--value", "class:Smartwatches=client.phone",
                        "--value", "class:Headsets=client.tablet",
                        "--value", "status:Loaned=in_use")
    walk(db, key)
    check_landed(db, ROWS, "EUR")
    # The same choices as lines pasted into a copy of the shipped mapping.
    shipped = Path("usm/services/audit/mappings/snipeit.yaml").read_text(encoding="utf-8")
    mapping = tmp_path / "ours.yaml"
    mapping.write_text(shipped.replace("    Laptops: hardware.laptop\n", "".join(
        f"    {name}: {code}\n" for name, code in CLASSES.items()) + "    Laptops: hardware."
        "laptop\n").replace("    Deployed: in_use\n", "    Deployed: in_use\n    Loaned: in_use\n"),
        encoding="utf-8")
    again = dry_run_cli(db_url, path, "snipeit", "--mapping", str(mapping), "--currency", "EUR")
    assert "0 unregistered items found" in again and "0 drifted fields" in again


def test_the_api_names_each_value_once_and_takes_the_choices(web_app: Flask,
                                                             tmp_path: Path) -> None:
    api = ApiClient(web_app)
    body = report(tmp_path).read_bytes()
    refused = api.post("/imports", query_string={"format": "snipeit"}, data=body,
                       content_type="text/csv")
    assert refused.status_code == 422
    fields = error_of(refused)["fields"]
    assert len(fields) == 3
    assert 'values: {class: {"Headsets": <class code>}}' in fields[1]["message"]
    bad = api.post("/imports", query_string={"format": "snipeit", "values": "Headsets"},
                   data=body, content_type="text/csv")
    assert bad.status_code == 422 and error_of(bad)["fields"][0]["field"] == "values"
    values = "class:Smartwatches=client.phone;class:Headsets=client.tablet;status:Loaned=in_use"
    taken = api.post("/imports", query_string={"format": "snipeit", "values": values,
                                               "currency": "EUR"},
                     data=body, content_type="text/csv")
    assert taken.status_code == 200, taken.get_json()
    assert taken.get_json()["counts"]["unregistered"] == len(ROWS)
    accepted = api.post(f"/imports/{taken.get_json()['id']}/accept",
                        json={"kinds": ["unregistered"]})
    assert accepted.status_code == 201  # the accept reconciles with the same choices
    walk(web_app.extensions["usm_db"], accepted.get_json()["key"])
    check_landed(web_app.extensions["usm_db"], ROWS, "EUR")


def test_the_screen_maps_each_value_with_a_select_and_gives_the_mapping_file(
        web_app: Flask, tmp_path: Path) -> None:
    db: Database = web_app.extensions["usm_db"]
    client = web_app.test_client()
    login(client, "carol")
    path = report(tmp_path)
    html = upload_web(client, path, "snipeit", currency="EUR")
    assert "Values the mapping does not know" in html
    assert html.count('name="u-value"') == 3  # one select per value, not per row
    assert 'aria-label="What Headsets stands for"' in html
    assert '<option value="client.phone">client.phone</option>' in html
    assert '<option value="in_use">in_use</option>' in html
    token = re.search(r'action="/audit/import/([0-9a-f]+)/settings"', html).group(1)
    chosen = client.post(f"/audit/import/{token}/settings", data={
        "csrf_token": csrf_token(client, f"/audit/import/{token}"),
        "u-target": ["class", "class", "status", "class"],
        "u-source": ["Smartwatches", "Headsets", "Loaned", "Pagers"],
        "u-value": ["client.phone", "client.tablet", "in_use", "hardware.toaster"]})
    assert chosen.status_code == 302
    html = unescape(client.get(chosen.headers["Location"]).get_data(as_text=True))
    assert "Values the mapping does not know" not in html
    assert re.search(rf'data-kind="unregistered">{len(ROWS)}<', html)
    # The choices, kept for next time as the mapping file usm import reads.
    download = client.get(f"/audit/import/{token}/mapping.yaml")
    assert download.status_code == 200 and download.mimetype == "application/yaml"
    saved = tmp_path / "snipeit-mapping.yaml"
    saved.write_bytes(download.data)
    mapping = load_mapping(saved)
    assert mapping.values["class"]["Headsets"] == "client.tablet"
    assert mapping.values["status"]["Loaned"] == "in_use"
    assert "Pagers" not in mapping.values["class"]  # only what the selects offer is kept
    assert mapping.amounts == "display" and mapping.checked_out == "in_use"
    service_owner = web_app.test_client()
    login(service_owner, "sam")  # not a coordinator: neither the mapping nor the choices
    assert service_owner.get(f"/audit/import/{token}/mapping.yaml").status_code == 403
    assert service_owner.post(f"/audit/import/{token}/settings", data={
        "csrf_token": csrf_token(client, f"/audit/import/{token}")}).status_code in (400, 403)
    walk(db, accept_web(client, html))
    check_landed(db, ROWS, "EUR")
    again = reconcile_file(db, path, "csv", mapping=mapping,
                           settings=ImportSettings(currency="EUR"))
    assert again.ok and again.differences == []
    assert client.get(f"/audit/import/{'0' * 32}/mapping.yaml").status_code == 404


def test_a_plain_file_still_names_an_unknown_class_per_row(db: Database,
                                                           tmp_path: Path) -> None:
    """BIR columns have no values table: a class code is checked per row, as before."""
    path = tmp_path / "plain.csv"
    path.write_bytes(b"class,name\nhardware.toaster,A\nhardware.toaster,B\n")
    rec = reconcile_file(db, path, "csv")
    assert rec.unknown_values == [] and len(rec.problems) == 2


def test_ignored_columns_are_reported_once(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_bytes(snipeit.hardware_list(BASE[40:60]))
    rec = reconcile_file(db, path, "snipeit")
    assert rec.ignored_columns == ["ID", "Company", "Device Image", "Model No.", "Age",
                                   "Warranty", "Notes", "Checkouts", "Created At",
                                   "Checkin/Checkout"]


def test_a_location_the_reference_data_lacks_is_one_problem(db: Database,
                                                            tmp_path: Path) -> None:
    reference_values(db, "location", "Utrecht HQ", "Amsterdam DC")  # not "Remote"
    path = tmp_path / "list.csv"
    path.write_bytes(snipeit.hardware_list(BASE))
    rec = reconcile_file(db, path, "snipeit")
    remote = sum(1 for a in BASE if a.location == "Remote")
    [problem] = rec.problems
    assert problem.column == "location" and problem.row == 4  # the first row that gives it
    assert problem.message.startswith("'Remote' is not a known location")
    assert problem.message.endswith(f"({remote} row(s) give it; add it to the reference data "
                                    "first)")


def test_the_import_choices_are_documented(web_app: Flask) -> None:
    document = ApiClient(web_app).client.get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/api/v1/imports"]["post"]
    names = {p["name"] for p in operation.get("parameters", [])}
    assert {"currency", "default", "skip_gaps", "values"} <= names
    assert "mapping line" in operation["description"]


@pytest.mark.parametrize(("entry", "reason"), [
    ("amounts: loose", "amounts: 'loose' is not one of plain, display"),
    ("dates: us", "dates: 'us' is not one of iso, display"),
    ("status_suffix: [deployed]", "'status_suffix' maps a bracketed kind to a status or null"),
])
def test_a_mapping_with_a_bad_reading_option_is_named(tmp_path: Path, entry: str,
                                                      reason: str) -> None:
    path = tmp_path / "tool.yaml"
    path.write_text(f"columns: {{Tag: asset_tag}}\n{entry}\n", encoding="utf-8")
    with pytest.raises(MappingError, match=re.escape(f"tool.yaml: {reason}")):
        load_mapping(path)
