"""The audit log over the API and the command line: administrators only; filters, pages and the
export; API exports are recorded as the web's are."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask

from tests.support.api import ApiClient, error_of
from usm.cli import main
from usm.services import audit_log
from usm.services.audit_log import AuditQuery, Origin
from usm.services.platform import Database


@pytest.fixture
def api(web_app: Flask) -> ApiClient:
    return ApiClient(web_app)


def _seed(db: Database, count: int = 5) -> None:
    with db.transaction() as session:
        for n in range(count):
            audit_log.record(session, Origin("sam", address="192.0.2.8", via="web"),
                             "sign_in", f"#{n}")


def test_administrators_read_the_log_a_page_at_a_time(api: ApiClient) -> None:
    _seed(api.db)
    first = api.get("/audit-log?action=sign_in&actor=sam&limit=3", "ada")
    assert first.status_code == 200
    body = first.get_json()
    assert [e["target"] for e in body["entries"]] == ["#4", "#3", "#2"]
    assert body["entries"][0]["via"] == "web" and body["entries"][0]["address"] == "192.0.2.8"
    second = api.get(body["next"], "ada").get_json()
    assert [e["target"] for e in second["entries"]] == ["#1", "#0"] and second["next"] is None
    everything = api.get("/audit-log", "ada").get_json()["entries"]
    assert {"token.created", "token.used"} <= {e["action"] for e in everything}, \
        "ada's token was made and used"


def test_bad_filters_are_a_422_naming_them(api: ApiClient) -> None:
    for query, field in (("action=nope", "action"), ("from=someday", "from"),
                         ("to=2026-02-30", "to"), ("cursor=garbage", "cursor")):
        response = api.get(f"/audit-log?{query}", "ada")
        assert response.status_code == 422, query
        assert field in {f["field"] for f in error_of(response)["fields"]}, query


@pytest.mark.parametrize("user", ["carol", "sam", "pat"])
def test_only_administrators_read_it(api: ApiClient, user: str) -> None:
    assert api.get("/audit-log", user).status_code == 403
    assert api.get("/exports/audit-log", user).status_code == 403


def test_the_export_and_api_exports_are_recorded(api: ApiClient) -> None:
    _seed(api.db, 2)
    exported = api.get("/exports/audit-log?format=csv&action=sign_in", "ada")
    assert exported.status_code == 200
    assert exported.headers["Content-Disposition"] == 'attachment; filename="audit-log.csv"'
    assert exported.get_data(as_text=True).count("sign_in,") == 2
    assert api.get("/exports/items?format=xlsx", "sam").status_code == 200

    exports = audit_log.audit_entries(api.db, AuditQuery(action="export")).rows
    assert [(e.actor, e.via, e.target) for e in exports] == [
        ("sam", "api", "/api/v1/exports/items?format=xlsx"),
        ("ada", "api", "/api/v1/exports/audit-log?format=csv&action=sign_in")]


def test_the_command_line_shows_and_writes_the_log(db_url: str, tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"USM_DATABASE_URL": db_url, "USM_INSTANCE_PATH": str(tmp_path / "instance")}
    db = Database.connect(db_url)
    try:
        _seed(db, 3)
    finally:
        db.dispose()
    shown = runner.invoke(main, ["audit-log", "--actor", "sam", "--limit", "2"], env=env)
    assert shown.exit_code == 0, shown.output
    assert "#2" in shown.output and "#1" in shown.output and "#0" not in shown.output
    out = tmp_path / "log.csv"
    written = runner.invoke(main, ["audit-log", "--action", "sign_in", "-o", str(out)], env=env)
    assert written.exit_code == 0, written.output
    assert out.read_text(encoding="utf-8-sig").count("sign_in,") == 3
    bad = runner.invoke(main, ["audit-log", "--from", "someday"], env=env)
    assert bad.exit_code == 1 and "from" in bad.output

    exported = runner.invoke(main, ["export", "changes", "-o", str(tmp_path / "c.csv")], env=env)
    assert exported.exit_code == 0, exported.output
    db = Database.connect(db_url)
    try:
        (row,) = audit_log.audit_entries(db, AuditQuery(action="export")).rows
    finally:
        db.dispose()
    assert row.via == "cli" and row.target.startswith("main export changes")
