"""Separation of duties: a token records who made it, and only its own user makes one. An
administrator makes one for another user (and acts as them) only where the deployment allows it
(``USM_ALLOW_ACT_AS=1``); then every use of the token and everything written through it records
both in the audit log, and the token dies when the setting is turned off or its maker stops being
an active administrator."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import update

from tests.support.api import ApiClient, error_of
from tests.support.helpers import laptop
from tests.support.web import login, post_form
from usm.accounts import User
from usm.app import create_app
from usm.cli import main
from usm.config import Settings
from usm.services import accounts, audit_log, changes
from usm.services.audit_log import AuditQuery, AuditRow
from usm.services.platform import Database

SECRET = re.compile(r'<code id="new-token">(usm_[^<]+)</code>')


def _rows(db: Database, action: str) -> list[AuditRow]:
    return audit_log.audit_entries(db, AuditQuery(action=action, limit=500)).rows


@pytest.fixture
def act_as_app(sqlite_url: str) -> Iterator[Flask]:
    """The app of a deployment that lets administrators act as other users."""
    app = create_app(Settings(database_url=sqlite_url, secret_key="test", testing=True,
                              allow_act_as=True))
    yield app
    app.extensions["usm_db"].dispose()


# -- the service ----------------------------------------------------------------------------------

def test_a_token_is_made_by_its_own_user(db: Database) -> None:
    own = accounts.create_token(db, "carol", "mine")
    assert (own.token.created_by, own.token.acting_as) == ("carol", False)
    with pytest.raises(accounts.ActingAsRefused, match="a token is made by its own user"):
        accounts.create_token(db, "carol", "for carol", created_by="ada")
    with pytest.raises(accounts.ActingAsRefused, match="only an active administrator"):
        accounts.create_token(db, "carol", "for carol", created_by="sam", allow_act_as=True)
    assert [t.name for t in accounts.list_tokens(db, "carol")] == ["mine"]


def test_where_allowed_an_administrators_token_for_another_user_records_both(db: Database
                                                                          ) -> None:
    made = accounts.create_token(db, "carol", "ada's tool", created_by="ada", allow_act_as=True)
    assert (made.token.username, made.token.created_by, made.token.acting_as) == (
        "carol", "ada", True)
    holder = accounts.authenticate_token(db, made.secret, allow_act_as=True)
    assert holder is not None
    assert (holder.username, holder.actor, holder.acting_as) == ("carol", "ada", "carol")
    (created,) = _rows(db, "token.created")
    assert created.actor == "ada" and created.details["owner"] == "carol"
    (used,) = _rows(db, "token.used")
    assert (used.actor, used.acting_as) == ("ada", "carol")

    assert accounts.authenticate_token(db, made.secret) is None, "the setting turned off"
    with db.transaction() as session:  # ada stops being an administrator (a directory's say)
        session.execute(update(User).where(User.username == "ada").values(roles=["service_owner"]))
    assert accounts.authenticate_token(db, made.secret, allow_act_as=True) is None


def test_deactivating_the_maker_revokes_the_tokens_they_made_for_others(db: Database) -> None:
    accounts.add_user(db, "root", "correct-horse-battery", ["administrator"])
    made = accounts.create_token(db, "carol", "root's tool", created_by="root",
                                 allow_act_as=True)
    accounts.update_user(db, "root", display_name="Root", roles=["administrator"], active=False,
                         acting_user="ada")
    accounts.update_user(db, "root", display_name="Root", roles=["administrator"], active=True,
                         acting_user="ada")
    assert accounts.authenticate_token(db, made.secret, allow_act_as=True) is None


# -- the API --------------------------------------------------------------------------------------

def test_the_api_refuses_a_token_for_another_user(web_app: Flask) -> None:
    api = ApiClient(web_app)
    refused = api.post("/tokens", "ada", json={"name": "as carol", "username": "carol"})
    assert refused.status_code == 403
    message = error_of(refused)["message"]
    assert "ada may not make a token for carol" in message and "USM_ALLOW_ACT_AS" in message
    assert accounts.list_tokens(api.db, "carol") == []


def test_where_allowed_everything_done_with_the_token_records_the_administrator(
        act_as_app: Flask) -> None:
    api = ApiClient(act_as_app)
    made = api.post("/tokens", "ada", json={"name": "as carol", "username": "carol"})
    assert made.status_code == 201
    body = made.get_json()
    assert (body["username"], body["created_by"], body["acting_as"]) == ("carol", "ada", True)
    secret = body["token"]
    me = api.get("/me", token=secret).get_json()
    assert me["username"] == "carol" and me["token"]["created_by"] == "ada"

    created = api.post("/changes", token=secret, json={
        "model": "normal-change", "title": "Laptop as carol", "operations": [laptop("a", "S1")]})
    assert created.status_code == 201, created.get_data(as_text=True)
    key = created.get_json()["key"]
    assert changes.change_detail(api.db, key).log[0].actor == "carol"  # the change log: carol
    acted = _rows(api.db, "act_as")
    assert acted and all((r.actor, r.acting_as, r.target) == ("ada", "carol", "POST /api/v1/changes")
                         for r in acted), "and the audit log: ada as carol"
    assert {(r.actor, r.acting_as) for r in _rows(api.db, "token.used")} >= {("ada", "carol")}

    # A token made with it is ada's doing too, not carol's: no laundering through a second token.
    second = api.post("/tokens", token=secret, json={"name": "second"}).get_json()
    assert (second["username"], second["created_by"]) == ("carol", "ada")
    # sam is no administrator: refused even here
    assert api.post("/tokens", "sam", json={"name": "x", "username": "carol"}).status_code == 403


def test_the_token_stops_when_the_setting_is_turned_off(act_as_app: Flask, web_app: Flask
                                                         ) -> None:
    secret = ApiClient(act_as_app).post("/tokens", "ada", json={
        "name": "as carol", "username": "carol"}).get_json()["token"]
    db: Database = act_as_app.extensions["usm_db"]
    assert accounts.authenticate_token(db, secret, allow_act_as=True) is not None
    strict = create_app(Settings(database_url=str(db.engine.url), secret_key="test",
                                 testing=True))
    try:
        assert ApiClient(strict).get("/me", token=secret).status_code == 401
    finally:
        strict.extensions["usm_db"].dispose()


# -- the web --------------------------------------------------------------------------------------

def test_the_web_refuses_a_token_for_another_user(web_app: Flask, web_db: Database) -> None:
    admin = web_app.test_client()
    login(admin, "ada")
    page = admin.get("/admin/users/carol").get_data(as_text=True)
    assert "Only carol can make a token for themselves" in page
    refused = post_form(admin, "/admin/users/carol", "/admin/users/carol/tokens", {"name": "x"})
    assert refused.status_code == 403
    assert "a token is made by its own user" in refused.get_data(as_text=True)
    assert accounts.list_tokens(web_db, "carol") == []


def test_where_allowed_the_web_makes_one_and_the_user_sees_who(act_as_app: Flask) -> None:
    admin = act_as_app.test_client()
    login(admin, "ada")
    made = post_form(admin, "/admin/users/carol", "/admin/users/carol/tokens",
                     {"name": "inventory as carol"})
    assert made.status_code == 201
    secret = SECRET.search(made.get_data(as_text=True)).group(1)
    assert "recorded as you acting as carol" in made.get_data(as_text=True)
    carol = act_as_app.test_client()
    login(carol, "carol")
    own = carol.get("/account/tokens").get_data(as_text=True)
    assert "inventory as carol" in own and "ada (administrator, acting as you)" in own
    assert ApiClient(act_as_app).get("/me", token=secret).status_code == 200


# -- the command line ----------------------------------------------------------------------------

def test_the_command_line_refuses_unless_allowed(db_url: str, tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"USM_DATABASE_URL": db_url, "USM_INSTANCE_PATH": str(tmp_path / "instance"),
           "USM_ALLOW_ACT_AS": "0", "USM_USER": ""}
    refused = runner.invoke(main, ["token", "create", "carol", "--name", "x", "--as", "ada"],
                            env=env)
    assert refused.exit_code == 1
    assert "ada may not make a token for carol: a token is made by its own user" in refused.output

    own = runner.invoke(main, ["token", "create", "carol", "--name", "mine"], env=env)
    assert own.exit_code == 0, own.output
    allowed = runner.invoke(main, ["token", "create", "carol", "--name", "as carol", "--as",
                                   "ada"], env={**env, "USM_ALLOW_ACT_AS": "1"})
    assert allowed.exit_code == 0, allowed.output
    db = Database.connect(db_url)
    try:
        makers = {t.name: t.created_by for t in accounts.list_tokens(db, "carol")}
        created = _rows(db, "token.created")
    finally:
        db.dispose()
    assert makers == {"mine": "carol", "as carol": "ada"}
    assert {(r.actor, r.via) for r in created} == {("carol", "cli"), ("ada", "cli")}
