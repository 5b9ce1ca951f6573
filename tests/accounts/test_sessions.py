"""Sign-in sessions kept on the server: the cookie holds only a secret, the database its hash;
sign-out, sign out everywhere, deactivation and a password reset end sessions at once (for every
worker: tests/system/test_multi_worker.py runs the app under gunicorn); a session lives at most 12
hours and its last-seen time is written at most once a minute."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text

from tests.conftest import PASSWORD
from tests.support.helpers import at
from tests.support.web import csrf_token, login, post_form
from usm.accounts import User
from usm.services import accounts
from usm.services.audit_log import Origin
from usm.services.platform import Database
from usm.sessions import SignInSession


def _user_id(db: Database, username: str) -> int:
    with db.reading() as session:
        found = session.scalar(select(User.id).where(User.username == username))
    assert found is not None
    return found


# -- the service, on both databases ---------------------------------------------------------------

def test_only_a_hash_of_the_session_secret_is_stored(db: Database) -> None:
    secret = accounts.open_session(db, _user_id(db, "carol"), address="192.0.2.1",
                                   user_agent="Firefox")
    with db.engine.connect() as conn:
        stored = [tuple(str(v) for v in row) for row in conn.execute(
            text("SELECT * FROM usm_session"))]
    assert stored and not any(secret in value for row in stored for value in row)
    with db.reading() as session:
        assert session.scalar(select(SignInSession.secret_hash)) == hashlib.sha256(
            secret.encode()).hexdigest()
    user = accounts.session_user(db, secret)
    assert user is not None and user.username == "carol"
    assert accounts.session_user(db, secret + "x") is None
    assert accounts.session_user(db, None) is None and accounts.session_user(db, "") is None


def test_a_session_lives_at_most_twelve_hours(db: Database) -> None:
    start = at("2026-06-01", 8)
    secret = accounts.open_session(db, _user_id(db, "carol"), now=start)
    for minutes in range(0, 12 * 60, 90):  # however busy it is
        assert accounts.session_user(db, secret, now=start + timedelta(minutes=minutes))
    assert accounts.session_user(db, secret, now=start + timedelta(hours=12)) is None
    assert accounts.SESSION_LIFETIME == timedelta(hours=12)


def test_last_seen_is_written_at_most_once_a_minute(db: Database) -> None:
    start = at("2026-06-01", 8)
    secret = accounts.open_session(db, _user_id(db, "carol"), now=start)
    for seconds in (10, 59, 70, 100):
        accounts.session_user(db, secret, now=start + timedelta(seconds=seconds))
    (seen,) = accounts.live_sessions(db, "carol", now=start + timedelta(seconds=100))
    assert seen.last_seen_at == start + timedelta(seconds=70)


def test_sign_out_and_sign_out_everywhere(db: Database) -> None:
    carol = _user_id(db, "carol")
    here, there = accounts.open_session(db, carol), accounts.open_session(db, carol)
    listed = accounts.live_sessions(db, "carol", current_secret=here)
    assert len(listed) == 2 and sum(s.current for s in listed) == 1

    accounts.end_session(db, here)
    assert accounts.session_user(db, here) is None and accounts.session_user(db, there)
    accounts.end_session(db, here)  # again: nothing happens
    elsewhere = accounts.open_session(db, carol)
    assert accounts.end_all_sessions(db, "carol", Origin("carol", via="web")) == 2
    assert accounts.session_user(db, there) is None and accounts.session_user(db, elsewhere) is None
    assert accounts.live_sessions(db, "carol") == []


def test_deactivation_and_a_password_reset_end_sessions_and_revoke_tokens(db: Database) -> None:
    sam = _user_id(db, "sam")
    session, token = accounts.open_session(db, sam), accounts.create_token(db, "sam", "script")
    accounts.reset_password(db, "sam", "another-password-1")
    assert accounts.session_user(db, session) is None
    assert accounts.authenticate_token(db, token.secret) is None

    session, token = accounts.open_session(db, sam), accounts.create_token(db, "sam", "script 2")
    accounts.update_user(db, "sam", display_name="Sam", roles=["service_owner"], active=False,
                         acting_user="ada")
    accounts.update_user(db, "sam", display_name="Sam", roles=["service_owner"], active=True,
                         acting_user="ada")
    assert accounts.session_user(db, session) is None, "reactivation brings no session back"
    assert accounts.authenticate_token(db, token.secret) is None, "nor any token"
    assert all(t.revoked_at is not None for t in accounts.list_tokens(db, "sam"))


def test_a_role_change_keeps_the_session_and_applies_at_once(db: Database) -> None:
    secret = accounts.open_session(db, _user_id(db, "sam"))
    accounts.update_user(db, "sam", display_name="Sam", roles=["change_coordinator"],
                         active=True, acting_user="ada")
    user = accounts.session_user(db, secret)
    assert user is not None and user.roles == ["change_coordinator"]


# -- the web --------------------------------------------------------------------------------------

def test_the_cookie_carries_only_the_session_secret(web_client: FlaskClient,
                                                    web_db: Database) -> None:
    login(web_client, "carol")
    with web_client.session_transaction() as cookie:
        secret = cookie["_sid"]
    assert accounts.session_user(web_db, secret).username == "carol"
    (listed,) = accounts.live_sessions(web_db, "carol", current_secret=secret)
    assert listed.current and listed.address == "127.0.0.1"


def test_a_cookie_without_a_server_session_signs_nobody_in(web_app: Flask) -> None:
    """A cookie signed with the app's key but naming no live session (e.g. one made before the
    sessions moved to the server, or forged with a stolen key) opens nothing."""
    client = web_app.test_client()
    with client.session_transaction() as cookie:
        cookie["_user_id"] = "1"
        cookie["_fresh"] = True
    assert client.get("/").status_code == 302
    with client.session_transaction() as cookie:
        cookie["_user_id"], cookie["_sid"] = "1", "made-up"
    assert client.get("/").status_code == 302


def test_sign_out_everywhere_from_the_own_settings_page(web_app: Flask) -> None:
    laptop, phone = web_app.test_client(), web_app.test_client()
    login(laptop, "sam")
    login(phone, "sam")
    page = laptop.get("/account/tokens").get_data(as_text=True)
    assert "Sign out everywhere" in page and "this browser" in page

    ended = post_form(laptop, "/account/tokens", "/account/sessions/end", {})

    assert ended.status_code == 302 and ended.headers["Location"] == "/login"
    assert "You are signed out everywhere" in laptop.get("/login").get_data(as_text=True)
    assert phone.get("/").status_code == 302 and laptop.get("/").status_code == 302
    assert login(phone, "sam").status_code == 302, "signing in again works"


def test_an_administrator_signs_a_user_out_everywhere(web_app: Flask) -> None:
    sam, admin = web_app.test_client(), web_app.test_client()
    login(sam, "sam")
    login(admin, "ada")
    assert "sam is signed in in 1 place now." in admin.get("/admin/users/sam").get_data(
        as_text=True)

    ended = post_form(admin, "/admin/users/sam", "/admin/users/sam/sessions/end", {})

    assert ended.status_code == 302
    assert "sam is signed out everywhere: 1 session ended." in admin.get(
        ended.headers["Location"]).get_data(as_text=True)
    assert sam.get("/").status_code == 302
    assert admin.get("/").status_code == 200, "the administrator's own session goes on"
    assert post_form(admin, "/admin/users/sam", "/admin/users/nobody/sessions/end", {}
                     ).status_code == 404


def test_signing_out_ends_the_server_session(web_app: Flask, web_db: Database) -> None:
    client = web_app.test_client()
    login(client, "carol")
    with client.session_transaction() as cookie:
        secret = cookie["_sid"]
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert accounts.session_user(web_db, secret) is None
    assert accounts.live_sessions(web_db, "carol") == []
    assert accounts.authenticate(web_db, "carol", PASSWORD) is not None
