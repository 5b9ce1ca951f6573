"""A change set planned on an item that another change has since edited is refused at
implementation, on every surface (service, web, API, CLI), instead of overwriting that edit."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from tests.support.api import ApiClient, error_of
from tests.support.helpers import (
    at,
    implement_normal_change,
    laptop,
    normal_change_in_realisation,
    to_realisation,
)
from tests.support.web import login, post_form
from usm.cli import main
from usm.services import changes, register
from usm.services.platform import Database


def _owner_change(db: Database, operations: list[dict[str, Any]], when: datetime) -> str:
    return normal_change_in_realisation(db, operations, when, title="Owner to bob")


EXPECTED = ("operation 1 (update_item LAP-000001): LAP-000001 changed since this change was "
            "planned (version 1, now 2): rework the change set")


def _overlapping(db: Database) -> str:
    """LAP-000001 (version 1); a change planned on it; then another change edits it (version 2)."""
    implement_normal_change(db, [laptop("a", "SN-1", owner="alice")], at("2026-01-10"))
    stale = _owner_change(db, [{"op": "update_item", "item": "LAP-000001", "owner": "bob"}],
                         at("2026-02-01"))
    implement_normal_change(db, [{"op": "update_item", "item": "LAP-000001", "location": "HQ"}],
                            at("2026-02-10"))
    return stale


def _history_length(db: Database, key: str) -> int:
    return len(register.item_history(db, key))


def test_the_later_implementation_gets_the_conflict_and_writes_nothing(db: Database) -> None:
    stale = _overlapping(db)
    before = register.item_view(db, "LAP-000001")
    versions = _history_length(db, "LAP-000001")

    with pytest.raises(changes.ChangeSetStale) as refused:
        changes.move_change(db, stale, "implement", "carol", now=at("2026-03-01"))

    assert str(refused.value) == f"{stale} was not implemented: {EXPECTED}"
    assert isinstance(refused.value, changes.ChangeConflict)
    detail = changes.change_detail(db, stale)
    assert (detail.summary.state, detail.summary.step) == ("building", "realisation")
    assert detail.log[-1].trigger == "start_build"
    after = register.item_view(db, "LAP-000001")
    assert after.core == before.core and after.core["owner"] == "alice"
    assert after.core["location"] == "HQ", "the other change's edit is kept"
    assert _history_length(db, "LAP-000001") == versions


def test_every_stale_operation_is_named(db: Database) -> None:
    implement_normal_change(db, [laptop("a", "SN-1"), laptop("b", "SN-2")], at("2026-01-10"))
    stale = _owner_change(db, [
        {"op": "update_item", "item": "LAP-000001", "owner": "bob"},
        {"op": "update_item", "item": "LAP-000002", "owner": "bob"},
        {"op": "set_status", "item": "LAP-000001", "status": "in_use"},
    ], at("2026-02-01"))
    implement_normal_change(db, [{"op": "update_item", "item": "LAP-000001", "location": "HQ"}],
                            at("2026-02-10"))

    with pytest.raises(changes.ChangeSetStale) as refused:
        changes.move_change(db, stale, "implement", "carol", now=at("2026-03-01"))

    assert refused.value.problems == [
        EXPECTED,
        "operation 3 (set_status LAP-000001): LAP-000001 changed since this change was planned "
        "(version 1, now 2): rework the change set",
    ]


def test_an_untouched_item_implements_as_before(db: Database) -> None:
    implement_normal_change(db, [laptop("a", "SN-1"), laptop("b", "SN-2")], at("2026-01-10"))
    key = _owner_change(db, [{"op": "update_item", "item": "LAP-000001", "owner": "bob"}],
                       at("2026-02-01"))
    implement_normal_change(db, [{"op": "update_item", "item": "LAP-000002", "owner": "dana"}],
                            at("2026-02-10"))

    changes.move_change(db, key, "implement", "carol", now=at("2026-03-01"))

    assert register.item_view(db, "LAP-000001").core["owner"] == "bob"


def test_reworking_an_operation_plans_it_on_the_current_version(db: Database) -> None:
    implement_normal_change(db, [laptop("a", "SN-1", owner="alice")], at("2026-01-10"))
    key = changes.register_change(db, "carol", model="normal-change", title="Owner to bob",
                                  operations=[{"op": "update_item", "item": "LAP-000001",
                                               "owner": "bob"}], now=at("2026-02-01")).key
    implement_normal_change(db, [{"op": "update_item", "item": "LAP-000001", "location": "HQ"}],
                            at("2026-02-10"))
    assert changes.change_detail(db, key).diff[0].note is not None

    changes.replace_change_set(db, key, "carol", [
        {"op": "update_item", "item": "LAP-000001", "owner": "bob", "cost_centre": "CC-1"},
    ], now=at("2026-02-11"))
    assert [op["base_version"] for op in changes.change_detail(db, key).operations] == [2]
    assert changes.change_detail(db, key).diff[0].note is None
    to_realisation(db, key, at("2026-02-12"))
    changes.move_change(db, key, "implement", "carol", now=at("2026-03-01"))

    core = register.item_view(db, "LAP-000001").core
    assert (core["owner"], core["location"], core["cost_centre"]) == ("bob", "HQ", "CC-1")


def test_the_change_detail_flashes_the_conflict(web_app: Flask, web_db: Database,
                                                web_client: FlaskClient) -> None:
    stale = _overlapping(web_db)
    login(web_client, "carol")
    version = changes.change_summary(web_db, stale).version

    response = post_form(web_client, f"/changes/{stale}", f"/changes/{stale}/move",
                         {"trigger": "implement", "version": str(version)})
    page = web_client.get(response.headers["Location"]).get_data(as_text=True)

    assert response.status_code == 302
    assert EXPECTED in page and "Nothing was registered" in page
    assert changes.change_summary(web_db, stale).state == "building"


def test_the_api_answers_409_with_the_conflict(web_app: Flask, web_db: Database) -> None:
    api = ApiClient(web_app)
    stale = _overlapping(web_db)

    response = api.post(f"/changes/{stale}/transitions/implement")

    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "conflict" and EXPECTED in error["message"]
    assert api.get(f"/changes/{stale}").get_json()["state"] == "building"
    assert api.get("/items/LAP-000001").get_json()["owner"] == "alice"


def test_the_cli_says_so_and_fails(db: Database, db_url: str, tmp_path: Path) -> None:
    stale = _overlapping(db)

    result = CliRunner().invoke(main, ["change", "move", stale, "implement", "--as", "carol"],
                                env={"USM_DATABASE_URL": db_url,
                                     "USM_INSTANCE_PATH": str(tmp_path / "instance")})

    assert result.exit_code == 1
    assert EXPECTED in result.output
    assert changes.change_summary(db, stale).state == "building"
