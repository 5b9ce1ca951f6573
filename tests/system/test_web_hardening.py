"""Hostile use of the web tier: guessing passwords, replaying cookies, forged posts, reaching other
people's objects, and HTML smuggled into names; plus the headers every kind of page carries."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

import web
from bir.base import Base
from tests.conftest import PASSWORD
from tests.support.api import ApiClient, error_of
from tests.support.helpers import at, implement_normal_change, laptop
from tests.support.web import csrf_token, login, make_app, post_form
from tests.system.test_web_access_matrix import _get_rules, matrix_app  # noqa: F401  (fixture)
from usm.audit_log import AuditEntry
from usm.services import accounts, changes
from usm.services.accounts import FAILURE_LIMIT, FAILURE_WINDOW
from usm.services.platform import Database

# -- login throttling ----------------------------------------------------------------------------


def _attempt(client: FlaskClient, username: str, password: str):  # type: ignore[no-untyped-def]
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": csrf_token(client)})


def test_failed_sign_ins_are_throttled_per_user_and_address(web_client: FlaskClient,
                                                           web_app: Flask) -> None:
    for _ in range(FAILURE_LIMIT):
        assert _attempt(web_client, "carol", "wrong").status_code == 200

    blocked = _attempt(web_client, "Carol", PASSWORD)  # even the right password, any case

    assert blocked.status_code == 429
    text = blocked.get_data(as_text=True)
    assert "Too many failed sign-ins for Carol from your address: try again in 15 minutes." in text
    assert web_client.get("/").status_code == 302, "not signed in"
    assert login(web_client, "sam").status_code == 302, "another user from here may still sign in"
    elsewhere = web_app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    assert login(elsewhere, "carol").status_code == 302, "carol from another address may"


def test_a_successful_sign_in_clears_the_failures(web_client: FlaskClient) -> None:
    for _ in range(FAILURE_LIMIT - 1):
        _attempt(web_client, "carol", "wrong")
    assert login(web_client, "carol").status_code == 302
    web_client.post("/logout", data={"csrf_token": csrf_token(web_client, "/")})
    for _ in range(FAILURE_LIMIT - 1):
        assert _attempt(web_client, "carol", "wrong").status_code == 200
    assert login(web_client, "carol").status_code == 302


def test_the_throttle_window_slides_and_old_attempts_are_deleted(db: Database) -> None:
    """Counted in the database (every worker shares the count; tests/system/test_multi_worker.py
    runs it under gunicorn): an attempt leaves the window after 15 minutes and is deleted."""
    from datetime import timedelta

    from sqlalchemy import text

    start = at("2026-06-01", 9)
    for n in range(FAILURE_LIMIT):
        assert accounts.claim_sign_in_attempt(db, "Carol", "a", now=start + timedelta(
            seconds=10 * n)) == 0
    # the first attempt leaves the window at 15 minutes, so 15 min - 60 s (+1) from 60 s on
    assert accounts.claim_sign_in_attempt(db, "carol", "a", now=start + timedelta(seconds=60)) \
        == 15 * 60 - 60 + 1
    assert accounts.claim_sign_in_attempt(db, "carol", "b", now=start) == 0, "another address"
    later = start + FAILURE_WINDOW + timedelta(seconds=1)
    assert accounts.claim_sign_in_attempt(db, "carol", "a", now=later) == 0
    with db.reading() as session:
        kept = session.execute(text("SELECT count(*) FROM usm_sign_in_attempt")).scalar_one()
    assert kept == FAILURE_LIMIT - 1 + 1, "the first attempt was deleted; four and this one left"
    assert FAILURE_WINDOW == timedelta(minutes=15)


# -- sessions ------------------------------------------------------------------------------------


def _session_cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def test_the_session_is_new_at_sign_in_and_revoked_at_sign_out(web_app: Flask,
                                                               web_client: FlaskClient) -> None:
    anonymous_token = csrf_token(web_client)
    before = _session_cookie(web_client)
    login(web_client, "carol")
    signed_in = _session_cookie(web_client)
    assert signed_in != before
    # Nothing of the anonymous session carries over, not even its CSRF token.
    forged = web_client.post("/changes/CHG-000001/comments",
                             data={"body": "x", "csrf_token": anonymous_token})
    assert forged.status_code == 400

    web_client.post("/logout", data={"csrf_token": csrf_token(web_client, "/")})
    assert web_client.get("/").status_code == 302

    replay = web_app.test_client()
    replay.set_cookie("session", signed_in)
    assert replay.get("/").status_code == 302, "a cookie copied before sign-out signs nobody in"
    assert replay.get("/changes").headers["Location"].startswith("/login")


def test_session_cookie_flags_and_lifetime(web_app: Flask, web_client: FlaskClient) -> None:
    response = login(web_client, "carol")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("session=")
    assert {"HttpOnly", "SameSite=Lax", "Path=/"} <= {p.strip() for p in cookie.split(";")}
    assert "Expires" not in cookie, "a browser-session cookie, gone when the browser closes"
    assert web_app.permanent_session_lifetime.total_seconds() == 12 * 3600

    web_client.post("/logout", data={"csrf_token": csrf_token(web_client, "/")})
    with web_client.session_transaction() as after:
        assert "_user_id" not in after and "_sid" not in after


def test_cookies_are_https_only_when_configured(sqlite_url: str,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from usm.app import create_app
    from usm.config import Settings, secure_cookies

    assert "Secure" not in login(make_app(sqlite_url).test_client(), "carol").headers["Set-Cookie"]
    app = create_app(Settings(database_url=sqlite_url, secret_key="test", testing=True,
                              secure_cookies=True))
    cookie = login(app.test_client(), "carol").headers["Set-Cookie"]
    assert "Secure" in {p.strip() for p in cookie.split(";")}
    app.extensions["usm_db"].dispose()
    monkeypatch.setenv("USM_SECURE_COOKIES", "1")
    assert secure_cookies() is True
    monkeypatch.setenv("USM_SECURE_COOKIES", "sometimes")
    with pytest.raises(ValueError, match="USM_SECURE_COOKIES must be 1 or 0, not 'sometimes'"):
        secure_cookies()


# -- security headers on every kind of page ------------------------------------------------------


def _assert_secure_headers(response, what: str) -> None:  # type: ignore[no-untyped-def]
    csp = response.headers.get("Content-Security-Policy", "")
    scripts = next(d for d in csp.split(";") if d.strip().startswith("script-src"))
    assert scripts.strip() == "script-src 'self'", what  # no inline or eval'd script, ever
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp, what
    assert response.headers.get("X-Frame-Options") == "DENY", what
    assert response.headers.get("Referrer-Policy") == "same-origin", what
    assert response.headers.get("X-Content-Type-Options") == "nosniff", what


@pytest.mark.parametrize("user", [None, "carol", "sam", "pat", "ada"])
def test_every_page_carries_the_security_headers(matrix_app: Flask, user: str | None  # noqa: F811
                                                 ) -> None:
    client = matrix_app.test_client()
    if user:
        login(client, user)
    seen = set()
    for _endpoint, path in _get_rules(matrix_app):
        response = client.get(path)
        _assert_secure_headers(response, f"{user} GET {path}")
        seen.add(response.status_code)
        response.close()
    for path in ("/no-such-page", "/items/NOPE-000001"):
        response = client.get(path)
        seen.add(response.status_code)
        _assert_secure_headers(response, path)
    forged = client.post("/logout")
    assert forged.status_code == 400
    _assert_secure_headers(forged, "CSRF refusal")
    api = client.get("/api/v1/items")
    assert api.status_code == 401 and api.mimetype == "application/json"
    _assert_secure_headers(api, "API")
    _assert_secure_headers(client.get("/api/v1/docs"), "API docs")
    assert seen >= ({200, 404} if user else {302, 404})
    if user in ("pat", "ada"):
        assert 403 in seen


def test_no_template_needs_inline_script_or_style() -> None:
    """The CSP forbids inline code, so no template may rely on it."""
    inline = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=|\sstyle\s*=|<style|"
                        r"javascript:", re.IGNORECASE)
    roots = [Path(web.TEMPLATES), Path(web.__file__).parent / "api" / "templates"]
    offenders = [f"{path}: {match.group(0)}" for root in roots for path in root.rglob("*.html")
                 for match in inline.finditer(path.read_text(encoding="utf-8"))]
    assert offenders == []


# -- CSRF on every state-changing form -----------------------------------------------------------

POSTER = {"accounts": "carol", "accounts.new_user": "ada", "accounts.user": "ada",
          "accounts.reset_password": "ada", "changes": "carol", "change_models": "pat",
          "item_classes": "pat"}
POST_SAMPLES = {"token_id": "1", "username": "sam", "key": "CHG-000001", "model": "normal-change",
                "code": "normal-change", "version": "1"}


# What signing in (not the forged posts) writes: the session and the audit log's "sign_in".
SIGN_IN_TABLES = {"usm_session"}


def _row_counts(db: Database) -> dict[str, int]:
    with db.reading() as session:
        counts = {table.name: session.scalar(select(func.count()).select_from(table)) or 0
                  for table in Base.metadata.sorted_tables if table.name not in SIGN_IN_TABLES}
        counts["usm_audit_log"] = session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action != "sign_in"))
    return counts


def test_every_state_changing_form_needs_the_csrf_token(web_app: Flask, web_db: Database) -> None:
    implement_normal_change(web_db, [laptop("a", "SN-1")], at("2026-01-10"))
    accounts.create_token(web_db, "carol", "script")
    rules = [rule for rule in web_app.url_map.iter_rules()
             if "POST" in (rule.methods or set()) and not rule.endpoint.startswith("api")]
    assert len(rules) >= 20
    before = _row_counts(web_db)
    refused = []
    for rule in rules:
        client = web_app.test_client()
        login(client, POSTER.get(rule.endpoint, POSTER.get(rule.endpoint.split(".")[0], "carol")))
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: POST_SAMPLES.get(m.group(1), "1"),
                      rule.rule)
        response = client.post(path, data={"body": "forged", "trigger": "assess",
                                           "name": "forged", "decision": "approve"})
        if response.status_code == 400 and "CSRF" in response.get_data(as_text=True):
            refused.append(rule.endpoint)
        assert client.get("/").status_code == 200 or rule.endpoint == "accounts.logout"
    assert sorted(refused) == sorted(rule.endpoint for rule in rules)
    assert _row_counts(web_db) == before


# -- IDOR: two users, one's objects out of the other's reach -------------------------------------


def test_a_user_cannot_act_on_what_is_not_theirs_to_act_on(web_app: Flask,
                                                           web_db: Database) -> None:
    api = ApiClient(web_app)
    key = changes.register_change(web_db, "carol", model="normal-change", title="Carol's change",
                                  operations=[laptop("a", "SN-1")]).key
    before = changes.change_detail(web_db, key)
    carols = api.post("/tokens", "carol", json={"name": "carol's"}).get_json()

    # sam (service owner) reads changes but may not register, edit or move them
    assert api.patch(f"/changes/{key}", "sam", json={"risk": "low"}).status_code == 403
    moved = api.post(f"/changes/{key}/transitions/assess", "sam")
    assert moved.status_code == 409 and "only change_coordinator may assess" in \
        error_of(moved)["message"]
    # pat (process designer) and ada (administrator) may not even read them
    for user in ("pat", "ada"):
        assert api.get(f"/changes/{key}", user).status_code == 403
        assert api.post(f"/changes/{key}/comments", user, json={"body": "x"}).status_code == 403
    # tokens: another user's token can be neither listed, nor revoked, nor used as theirs
    assert api.get("/tokens?username=carol", "sam").status_code == 403
    assert api.delete(f"/tokens/{carols['id']}", "sam").status_code == 404
    assert api.get("/me", token=carols["token"]).get_json()["username"] == "carol"

    sam = web_app.test_client()
    login(sam, "sam")
    page, version = f"/changes/{key}", str(before.summary.version)
    assert post_form(sam, page, f"{page}/details", {"risk": "low", "version": version}
                     ).status_code == 403
    assert post_form(sam, page, f"{page}/change-set", {"yaml": "[]", "version": version}
                     ).status_code == 403
    refused = post_form(sam, page, f"{page}/move", {"trigger": "assess", "version": version})
    assert "only Change coordinator may assess" in sam.get(refused.headers["Location"]).get_data(
        as_text=True)
    assert post_form(sam, "/account/tokens", f"/account/tokens/{carols['id']}/revoke",
                     {}).status_code == 404
    pat = web_app.test_client()
    login(pat, "pat")
    assert pat.get(page).status_code == 403

    after = changes.change_detail(web_db, key)
    assert (after.summary.version, after.summary.state, len(after.log), after.comments) == (
        before.summary.version, before.summary.state, len(before.log), before.comments)
    assert accounts.authenticate_token(web_db, carols["token"]) is not None


# -- HTML in names -------------------------------------------------------------------------------

PAYLOAD = '<script>alert("usm")</script><img src=x onerror=alert(1)>'


def test_html_in_titles_and_names_is_escaped_everywhere(web_app: Flask, web_db: Database) -> None:
    implement_normal_change(web_db, [laptop("a", "SN-1", name=PAYLOAD, owner=PAYLOAD,
                                            location=PAYLOAD)], at("2026-01-10"), title=PAYLOAD)
    open_key = changes.register_change(
        web_db, "carol", model="normal-change", title=PAYLOAD, reason=PAYLOAD,
        operations=[{"op": "update_item", "item": "LAP-000001", "name": f"{PAYLOAD} 2"}]).key
    changes.add_comment(web_db, open_key, "carol", PAYLOAD)
    client = web_app.test_client()
    login(client, "carol")
    pages = ["/", "/changes", f"/changes/{open_key}", "/changes/CHG-000001", "/items",
             "/items?q=script", "/items/LAP-000001", "/reports/lifecycle", "/changes/calendar"]
    for path in pages:
        response = client.get(path)
        html = response.get_data(as_text=True)
        assert response.status_code == 200, path
        assert "<script>alert" not in html and "<img src=x" not in html, path
    assert "&lt;script&gt;alert(" in client.get(f"/changes/{open_key}").get_data(as_text=True)
    assert "&lt;script&gt;alert(" in client.get("/items/LAP-000001").get_data(as_text=True)

    api = ApiClient(web_app)
    change = api.get(f"/changes/{open_key}")
    item = api.get("/items/LAP-000001")
    # JSON carries the text as written (it is data, not markup) and can never be sniffed as HTML.
    assert change.mimetype == item.mimetype == "application/json"
    assert change.headers["X-Content-Type-Options"] == "nosniff"
    assert change.get_json()["title"] == PAYLOAD and item.get_json()["name"] == PAYLOAD
