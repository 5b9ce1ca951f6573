"""Personal API tokens: stored hashed, shown once, revocable, refused when revoked, expired or
when their user is deactivated; managed through the API (own tokens; an administrator anyone's)
and the CLI."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select, text, update

from tests.support.api import ApiClient, error_of
from tests.support.helpers import at
from usm.accounts import ApiToken, User
from usm.cli import main
from usm.services import accounts
from usm.services.errors import ValidationFailed
from usm.services.platform import Database


@pytest.fixture
def api(web_app: Flask) -> ApiClient:
    return ApiClient(web_app)


# -- the service, on both databases ---------------------------------------------------------------

def test_only_a_hash_of_the_token_is_stored(db: Database) -> None:
    made = accounts.create_token(db, "carol", "discovery agent")
    assert made.secret.startswith("usm_") and len(made.secret) > 40
    assert made.token.prefix == made.secret[:12]
    with db.engine.connect() as conn:
        rows = [tuple(str(v) for v in row) for row in conn.execute(
            text("SELECT * FROM usm_api_token"))]
    assert rows and not any(made.secret in value for row in rows for value in row)
    with db.reading() as session:
        stored = session.scalar(select(ApiToken.token_hash))
    assert stored == hashlib.sha256(made.secret.encode()).hexdigest()


def test_a_token_acts_for_its_user_with_their_roles(db: Database) -> None:
    made = accounts.create_token(db, "sam", "reports")
    holder = accounts.authenticate_token(db, made.secret)
    assert holder is not None
    assert holder.username == "sam" and holder.roles == {"service_owner"}
    assert accounts.authenticate_token(db, made.secret + "x") is None
    assert accounts.authenticate_token(db, "usm_" + "a" * 43) is None
    assert accounts.authenticate_token(db, "not-even-the-format") is None


def test_revoked_expired_and_deactivated_tokens_are_refused(db: Database) -> None:
    revoked = accounts.create_token(db, "carol", "old script")
    accounts.revoke_token(db, revoked.token.id)
    assert accounts.authenticate_token(db, revoked.secret) is None

    start = at("2026-06-01")
    expiring = accounts.create_token(db, "carol", "one day", expires_at=start + timedelta(days=1),
                                       now=start)
    assert accounts.authenticate_token(db, expiring.secret, now=start + timedelta(hours=23))
    assert accounts.authenticate_token(db, expiring.secret, now=start + timedelta(days=2)) \
        is None

    kept = accounts.create_token(db, "pat", "designer tool")
    with db.transaction() as session:
        session.execute(update(User).where(User.username == "pat").values(active=False))
    assert accounts.authenticate_token(db, kept.secret) is None


def test_last_use_is_recorded_at_most_once_a_minute(db: Database) -> None:
    made = accounts.create_token(db, "carol", "agent", now=at("2026-06-01"))
    assert made.token.last_used_at is None
    accounts.authenticate_token(db, made.secret, now=at("2026-06-01", 10))
    accounts.authenticate_token(db, made.secret,
                                  now=at("2026-06-01", 10) + timedelta(seconds=30))
    (listed,) = accounts.list_tokens(db, "carol")
    assert listed.last_used_at == at("2026-06-01", 10)
    accounts.authenticate_token(db, made.secret, now=at("2026-06-01", 11))
    (listed,) = accounts.list_tokens(db, "carol")
    assert listed.last_used_at == at("2026-06-01", 11)


def test_tokens_are_listed_and_revoked_per_owner(db: Database) -> None:
    mine = accounts.create_token(db, "carol", "mine")
    accounts.create_token(db, "sam", "theirs")
    assert [t.name for t in accounts.list_tokens(db, "carol")] == ["mine"]
    assert len(accounts.list_tokens(db)) == 2
    with pytest.raises(accounts.TokenNotFound):
        accounts.revoke_token(db, mine.token.id, owner="sam")
    first = accounts.revoke_token(db, mine.token.id, owner="carol")
    again = accounts.revoke_token(db, mine.token.id)
    assert first.revoked_at is not None and again.revoked_at == first.revoked_at
    with pytest.raises(accounts.TokenNotFound):
        accounts.revoke_token(db, 424242)


def test_bad_token_requests_name_every_problem(db: Database) -> None:
    with pytest.raises(ValidationFailed) as caught:
        accounts.create_token(db, "nobody", " ", expires_at=at("2020-01-01"))
    assert {e.field for e in caught.value.errors} == {"name", "expires_at", "username"}


# -- the API --------------------------------------------------------------------------------------

def test_a_revoked_token_gets_401_at_once(api: ApiClient) -> None:
    made = api.post("/tokens", "carol", json={"name": "short-lived"}).get_json()
    assert api.get("/me", token=made["token"]).status_code == 200
    assert api.delete(f"/tokens/{made['id']}", "carol").status_code == 204
    refused = api.get("/me", token=made["token"])
    assert refused.status_code == 401
    assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]
    assert error_of(refused)["code"] == "invalid_token"


def test_an_expired_token_gets_401(api: ApiClient) -> None:
    made = api.post("/tokens", "carol", json={"name": "expiring",
                                              "expires_at": "2099-01-01T00:00:00Z"}).get_json()
    assert made["expires_at"] == "2099-01-01T00:00:00Z"
    with api.db.transaction() as session:
        session.execute(update(ApiToken).where(ApiToken.id == made["id"])
                        .values(expires_at=at("2020-01-01")))
    assert api.get("/me", token=made["token"]).status_code == 401


def test_the_token_is_shown_once(api: ApiClient) -> None:
    response = api.post("/tokens", "sam", json={"name": "cost report"})
    assert response.status_code == 201
    made = response.get_json()
    assert made["username"] == "sam" and made["active"] and made["token"].startswith("usm_")
    listed = api.get("/tokens", "sam").get_json()["tokens"]
    assert made["id"] in {t["id"] for t in listed}
    assert all("token" not in t for t in listed)
    me = api.get("/me", token=made["token"]).get_json()
    assert me["username"] == "sam" and me["roles"] == ["service_owner"]
    assert me["token"]["id"] == made["id"]


def test_users_make_their_own_tokens_and_administrators_see_and_revoke_anyones(api: ApiClient
                                                                              ) -> None:
    carols = api.post("/tokens", "carol", json={"name": "carol's"}).get_json()
    assert api.post("/tokens", "sam", json={"name": "x", "username": "carol"}).status_code == 403
    assert api.get("/tokens?username=carol", "sam").status_code == 403
    hidden = api.delete(f"/tokens/{carols['id']}", "sam")
    assert hidden.status_code == 404 and error_of(hidden)["code"] == "not_found"

    # An administrator lists and revokes anyone's tokens, but makes none for them (separation of
    # duties; tests/accounts/test_separation_of_duties.py has the deployment that allows it).
    for_sam = api.post("/tokens", "ada", json={"name": "made for sam", "username": "sam"})
    assert for_sam.status_code == 403 and "made by its own user" in error_of(for_sam)["message"]
    api.post("/tokens", "sam", json={"name": "sam's own"})
    assert "sam's own" in {t["name"] for t in
                           api.get("/tokens?username=sam", "ada").get_json()["tokens"]}
    assert api.delete(f"/tokens/{carols['id']}", "ada").status_code == 204
    assert not next(t for t in api.get("/tokens", "carol").get_json()["tokens"]
                    if t["id"] == carols["id"])["active"]
    unknown_user = api.post("/tokens", "ada", json={"name": "x", "username": "nobody"})
    assert unknown_user.status_code == 403, "refused before anyone's existence is looked up"
    assert api.delete("/tokens/99999", "ada").status_code == 404


# -- the CLI --------------------------------------------------------------------------------------

def test_token_commands(db_url: str, tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"USM_DATABASE_URL": db_url, "USM_INSTANCE_PATH": str(tmp_path / "instance")}
    made = runner.invoke(main, ["token", "create", "carol", "--name", "nightly import"], env=env)
    assert made.exit_code == 0, made.output
    secret = made.stdout.strip()
    assert secret.startswith("usm_") and "not shown again" in made.stderr

    listing = runner.invoke(main, ["token", "list", "carol"], env=env)
    assert "nightly import" in listing.output and "active" in listing.output
    assert secret not in listing.output and secret[:12] in listing.output

    db = Database.connect(db_url)
    try:
        assert accounts.authenticate_token(db, secret) is not None
        token_id = accounts.list_tokens(db, "carol")[0].id
        revoked = runner.invoke(main, ["token", "revoke", str(token_id)], env=env)
        assert revoked.exit_code == 0 and "revoked" in revoked.output
        assert accounts.authenticate_token(db, secret) is None
    finally:
        db.dispose()
    assert "revoked" in runner.invoke(main, ["token", "list"], env=env).output
    missing = runner.invoke(main, ["token", "revoke", "999"], env=env)
    assert missing.exit_code == 1 and "no token 999" in missing.output
    nobody = runner.invoke(main, ["token", "create", "nobody", "--name", "x"], env=env)
    assert nobody.exit_code == 1 and "no active user" in nobody.output
