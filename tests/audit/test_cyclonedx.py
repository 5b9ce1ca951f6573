"""CycloneDX documents as the tools write them, imported unchanged: an npm SBOM (cyclonedx-npm,
1.5, nested node_modules, scoped packages, duplicates), a cdxgen OBOM of a Windows host (1.6: the
OS as metadata.component, the host in its system_info, '+' names, services, processes, ports and
certificates) and a 1.4 document describing a device. Through the service, the CLI, the API and
the import screen each lands as one audit-correction change with the right installations on the
right host; what is not software is counted, not registered; a second import finds nothing."""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from datetime import date
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from bir.items import Item
from bir.relations import Relation
from tests.audit.test_services import walk
from tests.support.api import ApiClient, error_of
from tests.support.helpers import at, implement_normal_change, laptop
from tests.support.web import csrf_token, login, make_app
from usm.cli import main
from usm.services import changes
from usm.services.audit import ImportFailed, reconcile_file, register_correction
from usm.services.audit.cyclonedx import cyclonedx_rows
from usm.services.platform import Database
from usm.services.reports.licences import licence_position

FIXTURES = Path(__file__).parent / "fixtures"


@dataclass(frozen=True)
class Case:
    file: str
    host: str | None  # chosen (the document names none), else None
    device: str  # the registered device the software lands on
    installations: int
    repeated: int
    not_registered: dict[str, int]
    present: tuple[tuple[str, str | None], ...]  # (product, version) that must be installed
    absent: tuple[str, ...]  # names of components that must not become installations


NPM = Case("cyclonedx-npm-1.5.json", "app-01", "SRV-000001", 220, 5, {},
           (("@angular/core", "5.4.1"), ("@babel/core", "13.1.3"), ("debug", "2.6.9"),
            ("debug", "4.3.4"), ("ms", "2.0.0"), ("@types/lodash", "18.6.2"),
            ("acme-portal", "2.3.0")), ("core",))
WINDOWS = Case(
    "cyclonedx-windows-obom-1.6.json", None, "LAP-000001", 16, 1,
    {"certificate": 4, "data (etc_hosts)": 1, "device (logical_drives)": 1, "device driver": 3,
     "listening port": 5, "patch": 3, "process": 16, "service": 14, "system info": 1},
    (("Microsoft Windows 11 Pro", "23H2"), ("Notepad++ (64-bit x64)", "8.6.9"),
     ("Microsoft Visual C++ 2015-2022 Redistributable (x64) - 14.38.33135", "14.38.33135.0"),
     ("Mozilla Firefox (x64 en-US)", "133.0"), ("uBlock Origin", "1.61.2"), ("git", "2.47.1")),
    ("svchost.exe", "Dnscache", "ISRG Root X1", "WS-FIN-042", "KB5044285", "C:"))
SERVER = Case("cyclonedx-server-1.4.json", None, "SRV-000002", 13, 1,
              {"device": 1, "file": 1, "service": 2},
              (("openssl", "3.0.15-1~deb12u1"), ("curl", "7.88.1-10+deb12u8"),
               ("BIOS", "2.19.1")), ("PERC H755", "/etc/ssl/openssl.cnf", "PowerEdge R650"))
CASES = [NPM, WINDOWS, SERVER]
IDS = ["npm-1.5", "windows-obom-1.6", "server-1.4"]


def _hosts(db: Database) -> None:
    """The devices the documents' software is on (the Windows host's name in other case)."""
    implement_normal_change(db, [
        {"op": "create_item", "ref": "app", "class": "hardware.server", "name": "App server",
         "hostname": "app-01", "status": "in_use", "attributes": {"cores": 8}},
        laptop("ws", "7HX2QK3", hostname="ws-fin-042", status="in_use"),
        {"op": "create_item", "ref": "db", "class": "hardware.server", "name": "DB server",
         "hostname": "srv-db-01", "status": "in_use", "attributes": {"cores": 32}},
    ], at("2026-01-10"))


def _installed(db: Database, device: str) -> dict[tuple[str, str | None], str | None]:
    """(product, version) -> vendor of the present installations on ``device``, as registered."""
    with db.reading() as session:
        target = session.scalar(select(Item.id).where(Item.key == device))
        items = session.scalars(
            select(Item).join(Relation, Relation.source_id == Item.id)
            .where(Relation.target_id == target, Relation.kind == "installed_on",
                   Relation.valid_to.is_(None), Item.status == "in_use"))
        return {(i.attributes["product"], i.attributes.get("product_version")):
                i.attributes.get("vendor") for i in items}


def _check_registered(db: Database, case: Case) -> None:
    installed = _installed(db, case.device)
    assert len(installed) == case.installations
    for product_version in case.present:
        assert product_version in installed, product_version
    products = {p for p, _ in installed}
    assert not products & set(case.absent)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_the_service_registers_the_software_on_its_host_once(db: Database,
                                                             case: Case) -> None:
    _hosts(db)
    rec = reconcile_file(db, FIXTURES / case.file, "cyclonedx", host=case.host)
    assert rec.ok, rec.problems[:3]
    assert rec.sbom is not None
    assert (rec.sbom.repeated, rec.sbom.not_registered) == (case.repeated, case.not_registered)
    assert rec.counts() == {"unregistered": case.installations, "drift": 0, "not_seen": 0}
    key = register_correction(db, "carol", rec, [d.id for d in rec.differences]).key
    detail = changes.change_detail(db, key)
    assert detail.summary.model == "audit-correction"
    targets = {o["target"] for o in detail.operations if o["op"] == "add_relation"}
    assert targets == {case.device}
    if case.not_registered:  # the change says what the document listed and was left out
        assert "listed but not registered (not software): " in (detail.description or "")
    walk(db, key)
    _check_registered(db, case)
    again = reconcile_file(db, FIXTURES / case.file, "cyclonedx", host=case.host)
    assert again.ok and again.differences == []  # the register now matches the document


def test_scoped_packages_are_two_products_and_nested_copies_one(db: Database) -> None:
    """``@angular/core`` and ``@babel/core`` used to collapse into "core"; a package nested under
    three node_modules paths is one installation; two versions of it are two."""
    _hosts(db)
    rec = reconcile_file(db, FIXTURES / NPM.file, "cyclonedx", host="app-01")
    products = [op["attributes"]["product"] for d in rec.of_kind("unregistered")
                for op in d.operations if op["op"] == "create_item"]
    assert len(products) == 220
    assert {"@angular/core", "@babel/core"} <= set(products) and "core" not in products
    assert products.count("debug") == 2 and products.count("ms") == 2
    assert products.count("lodash") == 1  # listed twice at the top level
    new = next(op for d in rec.of_kind("unregistered") for op in d.operations
               if op["op"] == "create_item" and op["attributes"]["product"] == "@angular/core")
    assert new["name"] == "@angular/core on app-01" and new["status"] == "in_use"


def test_the_windows_host_comes_from_cdxgen_system_info_not_the_os(db: Database) -> None:
    _hosts(db)
    rec = reconcile_file(db, FIXTURES / WINDOWS.file, "cyclonedx")
    assert rec.sbom is not None
    assert (rec.sbom.host, rec.sbom.host_from) == ("WS-FIN-042", "system_info")
    assert rec.sbom.spec_version == "1.6" and rec.sbom.components == 65
    summaries = {d.found for d in rec.of_kind("unregistered")}
    assert "Microsoft Windows 11 Pro on WS-FIN-042" in summaries  # the OS is software on it
    assert "Notepad++ (64-bit x64) on WS-FIN-042" in summaries  # '+' for spaces decoded
    edge = [d for d in rec.of_kind("unregistered") if "Microsoft Edge" in str(d.found)]
    assert len(edge) == 1  # read from both registry views: one installation


def test_a_document_that_names_no_host_is_refused_naming_what_was_looked_for(
        db: Database) -> None:
    _hosts(db)
    with pytest.raises(ImportFailed) as failed:
        reconcile_file(db, FIXTURES / NPM.file, "cyclonedx")
    [problem] = failed.value.problems
    assert (problem.file, problem.row, problem.column) == (NPM.file, 0,
                                                           "metadata.component.name")
    assert problem.message.startswith("names no host: looked for metadata.component of type "
                                      "device")
    assert "cdxgen's system_info" in problem.message and "Choose the host" in problem.message
    rec = reconcile_file(db, FIXTURES / WINDOWS.file, "cyclonedx", host="no-such-host")
    assert [str(p) for p in rec.problems] == [  # once, not once per component
        f"{WINDOWS.file}, row 0, column installed_on: no device 'no-such-host' in the register "
        "(give its key or host name)"]


def test_an_upgrade_is_drift_and_another_version_beside_it_is_new(db: Database,
                                                                    tmp_path: Path) -> None:
    _hosts(db)
    path = tmp_path / "obom.json"
    bom = json.loads((FIXTURES / WINDOWS.file).read_text(encoding="utf-8"))
    path.write_text(json.dumps(bom), encoding="utf-8")
    rec = reconcile_file(db, path, "cyclonedx")
    walk(db, register_correction(db, "carol", rec, [d.id for d in rec.differences]).key)
    for component in bom["components"]:
        if component["name"] == "7-Zip+23.01+(x64)":
            component["version"] = "24.08"  # upgraded in place
        if component["name"] == "VLC+media+player":
            bom["components"].append({**component, "version": "3.0.20",
                                      "purl": "pkg:swid/VLC%2Bmedia%2Bplayer@3.0.20"})
            break
    path.write_text(json.dumps(bom), encoding="utf-8")
    rec = reconcile_file(db, path, "cyclonedx")
    assert rec.ok, rec.problems
    assert {(d.kind, d.field, d.registered, d.found) for d in rec.differences} == {
        ("drift", "attributes.product_version", "23.01", "24.08"),
        ("unregistered", None, None, "VLC media player on WS-FIN-042")}


def test_imported_products_count_against_licences_on_the_normalised_product(
        db: Database) -> None:
    """The licence position matches products case- and space-insensitively: the Office that
    cdxgen writes as 'Microsoft+Office+Professional+Plus+2021+-+en-us' consumes the
    entitlement registered as 'microsoft office  PROFESSIONAL plus 2021 - EN-US'."""
    _hosts(db)
    implement_normal_change(db, [{
        "op": "create_item", "ref": "e", "class": "licence.entitlement", "name": "Office",
        "status": "in_use", "currency": "EUR", "attributes": {
            "product": "microsoft office  PROFESSIONAL plus 2021 - EN-US",
            "vendor": "Microsoft", "metric": "device", "quantity": 5, "unit_price": "400.00"}}],
        at("2026-01-11"))
    rec = reconcile_file(db, FIXTURES / WINDOWS.file, "cyclonedx")
    walk(db, register_correction(db, "carol", rec, [d.id for d in rec.differences]).key)
    [office] = [p for p in licence_position(db, date(2026, 12, 31)).positions
                if p.product_key == "microsoft office professional plus 2021 - en-us"]
    assert (office.entitled, office.consumed) == (5, 1)


BROKEN = [  # (what is wrong, body, the problem's start)
    ("cut inside a component", b'{"bomFormat": "CycloneDX", "metadata": {"component": {"type": '
     b'"device", "name": "ws-fin-042"}}, "components": [{"type": "library", "name": "a"}, '
     b'{"type": "library", "name": "b", "version": ', "not valid JSON: "),
    ("stray comma", b'{"bomFormat": "CycloneDX", "components": [{"name": "a"}, '
     b'{"name": "b", "properties": [{"name": "x",, "value": "1"}]}]}',
     "not valid JSON: Unexpected symbol ',' at"),
]


@pytest.mark.parametrize("body,expected", [(b, e) for _, b, e in BROKEN],
                         ids=[n for n, _, _ in BROKEN])
def test_a_broken_document_is_named_where_it_broke(db: Database, tmp_path: Path, body: bytes,
                                                   expected: str) -> None:
    path = tmp_path / "broken.cdx.json"
    path.write_bytes(body)
    with pytest.raises(ImportFailed) as failed:
        reconcile_file(db, path, "cyclonedx")
    [problem] = failed.value.problems
    assert problem.message.startswith(expected), problem.message
    assert problem.message.endswith("(in components[1].version)") or \
        problem.message.endswith("(in components[1].properties[0].name)"), problem.message


def test_deeply_nested_components_are_read_within_the_depth_limit(tmp_path: Path) -> None:
    """Nesting is walked without recursion; deeper than the limit is refused, as before."""
    def nested(depth: int) -> dict[str, Any]:
        component: dict[str, Any] = {"type": "library", "name": f"p{depth}", "version": "1"}
        for n in range(depth - 1, 0, -1):
            component = {"type": "library", "name": f"p{n}", "version": "1",
                         "components": [component]}
        return component

    path = tmp_path / "deep.json"
    path.write_text(json.dumps({"bomFormat": "CycloneDX", "components": [nested(200)]}),
                    encoding="utf-8")
    with path.open("rb") as stream:
        rows = list(cyclonedx_rows(stream, path.name, host="h"))
    assert [r[1]["attributes.product"] for r in rows][:2] == ["p1", "p2"] and len(rows) == 200
    path.write_text(json.dumps({"bomFormat": "CycloneDX", "components": [nested(300)]}),
                    encoding="utf-8")
    with path.open("rb") as stream, pytest.raises(ImportFailed, match="nested too deeply"):
        list(cyclonedx_rows(stream, path.name, host="h"))


# -- the CLI ------------------------------------------------------------------------------------

@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_the_cli_imports_each_document_and_a_second_run_finds_nothing(
        db_url: str, db: Database, tmp_path: Path, case: Case) -> None:
    _hosts(db)
    runner = CliRunner()
    env = {"USM_DATABASE_URL": db_url, "USM_INSTANCE_PATH": str(tmp_path / "instance"),
           "USM_USER": ""}
    host = ["--host", case.host] if case.host else []
    result = runner.invoke(main, ["import", str(FIXTURES / case.file), "--format", "cyclonedx",
                                  *host, "--as", "carol"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert f"{case.installations} unregistered items found" in result.output
    for kind, count in case.not_registered.items():
        assert f"  {count} {kind}: not software, reported and not registered" in result.output
    key = re.search(r"registered (AUD-\d+|[A-Z]+-\d+) with", result.output).group(1)
    walk(db, key)
    _check_registered(db, case)
    again = runner.invoke(main, ["import", str(FIXTURES / case.file), "--format", "cyclonedx",
                                 *host, "--dry-run"], env=env, catch_exceptions=False)
    assert again.exit_code == 0, again.output
    assert "0 unregistered items found" in again.output and "0 drifted fields" in again.output
    assert "0 registered items not seen" in again.output


def test_the_cli_says_to_choose_the_host(db_url: str, db: Database, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["import", str(FIXTURES / NPM.file), "--format",
                                       "cyclonedx", "--dry-run"],
                                env={"USM_DATABASE_URL": db_url, "USM_USER": "",
                                     "USM_INSTANCE_PATH": str(tmp_path / "instance")})
    assert result.exit_code != 0
    assert "names no host" in result.output and "--host KEY-OR-HOSTNAME" in result.output


# -- the API ------------------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def _instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USM_INSTANCE_PATH", str(tmp_path / "instance"))


@pytest.fixture
def app(db_url: str):  # type: ignore[no-untyped-def]
    app = make_app(db_url)
    yield app
    app.extensions["usm_db"].dispose()


@pytest.fixture
def app_db(app: Flask) -> Database:
    database: Database = app.extensions["usm_db"]
    _hosts(database)
    return database


def _post(api: ApiClient, case: Case, **query: str):
    return api.post("/imports", query_string={"format": "cyclonedx", **query},
                    content_type="multipart/form-data",
                    data={"file": (io.BytesIO((FIXTURES / case.file).read_bytes()), case.file)})


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_the_api_imports_each_document_and_a_second_post_finds_nothing(
        app: Flask, app_db: Database, case: Case) -> None:
    api = ApiClient(app)
    response = _post(api, case, **({"host": case.host} if case.host else {}))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["counts"] == {"unregistered": case.installations, "drift": 0, "not_seen": 0}
    assert body["sbom"]["not_registered"] == case.not_registered
    assert body["sbom"]["repeated"] == case.repeated
    assert body["sbom"]["host_from"] == ("chosen" if case.host else body["sbom"]["host_from"])
    accepted = api.post(f"/imports/{body['id']}/accept", json={"kinds": ["unregistered"]})
    assert accepted.status_code == 201, accepted.get_json()
    walk(app_db, accepted.get_json()["key"])
    _check_registered(app_db, case)
    again = _post(api, case, **({"host": case.host} if case.host else {})).get_json()
    assert again["counts"] == {"unregistered": 0, "drift": 0, "not_seen": 0}


def test_the_api_names_the_missing_host(app: Flask, app_db: Database) -> None:
    response = _post(ApiClient(app), NPM)
    assert response.status_code == 422
    [detail] = error_of(response)["fields"]
    assert detail["field"] == f"{NPM.file}, row 0, column metadata.component.name"
    assert detail["message"].startswith("names no host")


# -- the import screen ------------------------------------------------------------------------

def _upload(client: FlaskClient, case: Case, host: str = ""):
    return client.post("/audit/import", content_type="multipart/form-data", data={
        "csrf_token": csrf_token(client, "/audit/import"), "format": "cyclonedx",
        "match": "hostname", "host": host,
        "file": (io.BytesIO((FIXTURES / case.file).read_bytes()), case.file)})


def _accept(client: FlaskClient, html: str):
    action = re.search(r'action="(/audit/import/[0-9a-f]+/accept)"', html).group(1)
    form = html[html.index(f'action="{action}"'):]
    hidden = dict(re.findall(r'type="hidden" name="([\w-]+)" value="([^"]*)"',
                             form[:form.index("</form>")]))
    return client.post(action, data={**hidden, "mode-unregistered": "all"})


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_the_screen_imports_each_document_and_shows_what_is_not_registered(
        app: Flask, app_db: Database, case: Case) -> None:
    client = app.test_client()
    login(client, "carol")
    response = _upload(client, case, case.host or "")
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 200, html[-3000:]
    for kind, count in case.not_registered.items():
        assert f'<th scope="row">{kind}</th><td data-kind="{kind}">{count}</td>' in html
    assert "Software on host" in html
    accepted = _accept(client, html)
    assert accepted.status_code == 302, unescape(accepted.get_data(as_text=True))[-2000:]
    walk(app_db, accepted.headers["Location"].rsplit("/", 1)[-1])
    _check_registered(app_db, case)
    again = unescape(_upload(client, case, case.host or "").get_data(as_text=True))
    assert "No differences: the register matches the file." in again


def test_the_screen_keeps_the_upload_while_the_host_is_chosen(app: Flask,
                                                              app_db: Database) -> None:
    client = app.test_client()
    login(client, "carol")
    response = _upload(client, NPM)
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    assert "names no host" in html and 'id="host-choice"' in html
    action = re.search(r'action="(/audit/import/[0-9a-f]+/host)"', html).group(1)
    token = action.split("/")[3]
    chosen = client.post(action, data={"csrf_token": csrf_token(client, "/audit/import"),
                                       "host": "app-01"})
    assert chosen.status_code == 302
    page = client.get(f"/audit/import/{token}")
    html = unescape(page.get_data(as_text=True))
    assert page.status_code == 200, html[-2000:]
    assert "Software on host app-01 (chosen at the import)" in html
    assert "5 components repeat a package already listed" in html
    assert _accept(client, html).status_code == 302
    assert len(_installed(app_db, "SRV-000001")) == 0  # registered as a change, not yet in
    # An unknown host is offered for choosing on the reconciliation page too.
    unknown = unescape(_upload(client, WINDOWS, "no-such-host").get_data(as_text=True))
    assert "no device 'no-such-host' in the register" in unknown and 'id="host-choice"' in unknown
