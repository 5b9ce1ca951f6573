"""The ``usm`` command line on a temporary database, as an operator would use it."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select, update

from bir.class_versions import ItemClassVersion
from bir.classes import ItemClass
from tests.support.helpers import at, implement_normal_change, laptop
from usm.cli import main
from usm.services.platform import Database


@pytest.fixture
def run(db_url: str, tmp_path: Path):
    """Invoke ``usm`` against a fresh database, on SQLite and on PostgreSQL."""
    runner = CliRunner()
    env = {"USM_DATABASE_URL": db_url, "USM_INSTANCE_PATH": str(tmp_path / "instance"),
           "USM_USER": ""}

    def invoke(*args: str, user: str | None = None) -> Result:
        return runner.invoke(main, list(args), env={**env, "USM_USER": user or ""},
                             catch_exceptions=False)

    return invoke


@pytest.fixture
def register_two_versions(db_url: str) -> str:
    db = Database.connect(db_url)
    try:
        implement_normal_change(db, [laptop("a", "SN-CLI-1", owner="alice", purchase_cost="800",
                                            currency="EUR")], at("2026-01-10"), title="Receive")
        return implement_normal_change(
            db, [{"op": "update_item", "item": "LAP-000001", "owner": "bob"}], at("2026-02-10"),
            title="Hand over to Bob")
    finally:
        db.dispose()


def test_db_upgrade_creates_a_fresh_database_with_models(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    result = CliRunner().invoke(main, ["db", "upgrade"], env={"USM_DATABASE_URL": url})
    assert result.exit_code == 0, result.output
    assert "up to date" in result.output and "35 class(es)" in result.output
    listing = CliRunner().invoke(main, ["workflow", "list"], env={"USM_DATABASE_URL": url})
    assert "normal-change" in listing.output and "published" in listing.output
    again = CliRunner().invoke(main, ["db", "upgrade"], env={"USM_DATABASE_URL": url})
    assert "0 class(es) and 0 change model version(s) added" in again.output
    assert "published as a new version" not in again.output


def test_db_upgrade_names_the_shipped_classes_it_publishes_again(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'older.db'}"
    assert CliRunner().invoke(main, ["db", "upgrade"], env={"USM_DATABASE_URL": url}).exit_code == 0
    db = Database.connect(url)
    try:  # software.product as a release before "licensing" shipped it
        with db.transaction() as session:
            version = session.scalars(select(ItemClassVersion).where(
                ItemClassVersion.code == "software.product")).one()
            older = [a for a in version.spec["attributes"] if a["name"] != "licensing"]
            version.spec = {**version.spec, "attributes": older}
            session.execute(update(ItemClass).where(ItemClass.code == "software.product")
                            .values(attributes=older))
    finally:
        db.dispose()
    result = CliRunner().invoke(main, ["db", "upgrade"], env={"USM_DATABASE_URL": url})
    assert result.exit_code == 0, result.output
    assert "shipped classes published as a new version: software.product" in result.output


def test_item_show_history_and_as_of(run, register_two_versions: str) -> None:
    now = run("item", "show", "LAP-000001")
    assert now.exit_code == 0
    assert "bob" in now.output and "800.00" in now.output and "SN-CLI-1" in now.output

    then = run("item", "show", "LAP-000001", "--as-of", "2026-01-31T00:00")
    assert then.exit_code == 0
    assert "alice" in then.output and "bob" not in then.output
    assert "version 1" in then.output

    history = run("item", "history", "LAP-000001")
    assert history.exit_code == 0
    assert "v1" in history.output and "v2" in history.output
    assert register_two_versions in history.output
    assert "owner: alice -> bob" in history.output


def test_item_show_unknown_key_and_bad_date(run) -> None:
    missing = run("item", "show", "LAP-999999")
    assert missing.exit_code == 1 and "no item LAP-999999" in missing.output
    bad = run("item", "show", "LAP-000001", "--as-of", "31/01/2026")
    assert bad.exit_code == 2 and "not a date" in bad.output


def test_register_move_approve_and_show_a_change(run, tmp_path: Path) -> None:
    rfc = tmp_path / "rfc.yaml"
    rfc.write_text(
        "model: normal-change\n"
        "title: New laptop for Dana\n"
        "reason: new hire\n"
        "operations:\n"
        "  - {op: create_item, class: hardware.laptop, name: Dana's laptop, serial_number: X1}\n",
        encoding="utf-8",
    )
    registered = run("change", "register", str(rfc), user="carol")
    assert registered.exit_code == 0, registered.output
    assert "registered CHG-000001" in registered.output

    listed = run("change", "list")
    assert "CHG-000001" in listed.output and "New laptop for Dana" in listed.output

    assert "now In assessment" in run("change", "move", "CHG-000001", "assess", user="carol").output
    blocked = run("change", "move", "CHG-000001", "submit_for_approval", user="carol")
    assert blocked.exit_code == 1 and "fill in risk, impact first" in blocked.output

    details = run("change", "set", "CHG-000001", "risk=low", "impact=one user", user="carol")
    assert details.exit_code == 0, details.output
    assert run("change", "move", "CHG-000001", "submit_for_approval", user="carol").exit_code == 0

    wrong_role = run("change", "approve", "CHG-000001", user="carol")
    assert wrong_role.exit_code == 1 and "only service_owner may approve" in wrong_role.output
    assert run("change", "approve", "CHG-000001", "-m", "fine", user="sam").exit_code == 0

    shown = run("change", "show", "CHG-000001", user="carol")
    assert shown.exit_code == 0
    assert "[Planning]" in shown.output, "sam's approval was all it waited for"
    assert "sam: approved" in shown.output
    assert "create hardware.laptop" in shown.output
    assert "start_build" in shown.output and "blocked: plan the window" in shown.output


def test_move_needs_a_user_and_a_known_trigger(run, register_two_versions: str) -> None:
    no_user = run("change", "move", register_two_versions, "evaluate")
    assert no_user.exit_code == 2 and "--as" in no_user.output
    unknown = run("change", "move", register_two_versions, "fly", user="carol")
    assert unknown.exit_code == 1
    assert "not possible from implemented" in unknown.output and "evaluate" in unknown.output
    stranger = run("change", "move", register_two_versions, "evaluate", user="nobody")
    assert stranger.exit_code == 1 and "no active user 'nobody'" in stranger.output
    stale = run("change", "move", register_two_versions, "evaluate", "--expect-version", "1",
                user="carol")
    assert stale.exit_code == 1 and "changed by someone else" in stale.output


def test_workflow_validate_good_and_broken_files(run, tmp_path: Path) -> None:
    good = run("workflow", "validate", "workflows/change_models/normal-change.yaml")
    assert good.exit_code == 0 and "valid" in good.output

    broken = tmp_path / "broken.yaml"
    text = Path("workflows/change_models/normal-change.yaml").read_text(encoding="utf-8")
    broken.write_text(text.replace("step: planning", "step: realisation"), encoding="utf-8")
    result = run("workflow", "validate", str(broken))
    assert result.exit_code == 1
    assert "missing step: no state maps to planning" in result.output

    missing = run("workflow", "validate", str(tmp_path / "nope.yaml"))
    assert missing.exit_code == 1 and "cannot read" in missing.output


def test_user_add_validates_and_creates(run) -> None:
    made = run("user", "add", "dana", "--role", "service_owner", "--password", "long-enough-1")
    assert made.exit_code == 0 and "user dana created" in made.output
    weak = run("user", "add", "eve", "--role", "service_owner", "--password", "short")
    assert weak.exit_code == 1 and "password: must be at least 10 characters" in weak.output
    bad_role = run("user", "add", "eve", "--role", "wizard", "--password", "long-enough-1")
    assert bad_role.exit_code == 1 and "unknown role(s) wizard" in bad_role.output


def test_demo_loads_once_through_changes(run) -> None:
    first = run("demo")
    assert first.exit_code == 0, first.output
    assert "50 items" in first.output
    listed = run("change", "list", "--all")
    assert listed.exit_code == 0 and "CHG-000001" in listed.output
    older = run("item", "show", "LAP-000003", "--as-of", "2026-01-31T00:00")
    newer = run("item", "show", "LAP-000003")
    assert "Pieter Bakker" in older.output and "Iris van Dijk" in newer.output
    again = run("demo")
    assert again.exit_code == 1 and "already" in again.output


def test_serve_answers_on_the_given_port(sqlite_url: str, tmp_path: Path) -> None:
    import os
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "USM_DATABASE_URL": sqlite_url, "USM_SECRET_KEY": "test-secret",
           "USM_INSTANCE_PATH": str(tmp_path)}
    server = subprocess.Popen(
        [sys.executable, "-m", "usm.cli", "serve", "--port", str(port)], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        body = ""
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as r:
                    body = r.read().decode()
                    break
            except OSError:
                time.sleep(0.1)
        assert "password" in body.lower()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
            assert r.url.endswith("/login?next=%2F"), "anonymous users are sent to log in"
    finally:
        server.terminate()
        server.wait(timeout=10)
