"""The audit log from the web: sign-ins, sign-outs, token and user actions and exports each write
a row; administrators see it (filtered, by pages) and download it; nobody else does."""

from __future__ import annotations

import io
from collections import Counter

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook

from tests.support.web import csrf_token, login, post_form
from usm.services import audit_log
from usm.services.audit_log import ACTIONS, AuditQuery, AuditRow, Origin
from usm.services.platform import Database
from web.audit_log.pages import ACTION_LABELS


def _rows(db: Database, **filters: object) -> list[AuditRow]:
    return audit_log.audit_entries(db, AuditQuery(limit=500, **filters)).rows  # type: ignore[arg-type]


def _actions(db: Database) -> Counter[str]:
    return Counter(row.action for row in _rows(db) if row.action != "user.created")


@pytest.fixture
def admin(web_app: Flask) -> FlaskClient:
    client = web_app.test_client()
    assert login(client, "ada").status_code == 302
    return client


def test_every_action_has_a_label() -> None:
    assert set(ACTION_LABELS) == set(ACTIONS)


def test_signing_in_and_out_is_recorded(web_app: Flask, web_db: Database) -> None:
    client = web_app.test_client()
    client.environ_base["REMOTE_ADDR"] = "192.0.2.44"
    assert login(client, "carol", "wrong password").status_code == 200
    assert login(client, "carol").status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})

    assert _actions(web_db) == Counter({"sign_in.failed": 1, "sign_in": 1, "sign_out": 1})
    assert {(r.action, r.actor, r.address, r.via) for r in _rows(web_db)
            if r.action != "user.created"} == {
        ("sign_in.failed", "carol", "192.0.2.44", "web"), ("sign_in", "carol", "192.0.2.44", "web"),
        ("sign_out", "carol", "192.0.2.44", "web")}


def test_a_throttled_sign_in_is_recorded(web_app: Flask, web_db: Database) -> None:
    client = web_app.test_client()
    for _ in range(5):
        login(client, "sam", "wrong password")
    assert login(client, "sam").status_code == 429
    assert _actions(web_db) == Counter({"sign_in.failed": 5, "sign_in.throttled": 1})


def test_settings_tokens_and_users_are_recorded(web_app: Flask, web_db: Database,
                                                admin: FlaskClient) -> None:
    sam = web_app.test_client()
    login(sam, "sam")
    post_form(sam, "/account/tokens", "/account/language", {"language": "nl"})
    post_form(sam, "/account/tokens", "/account/tokens", {"name": "script"})
    token_id = audit_log.audit_entries(web_db, AuditQuery(action="token.created")).rows[0]
    post_form(sam, "/account/tokens", f"/account/tokens/{token_id.details['token']}/revoke", {})
    post_form(admin, "/admin/users/new", "/admin/users/new", {
        "username": "dana", "password": "correct-horse-2", "confirm": "correct-horse-2",
        "roles": "service_owner"})
    post_form(admin, "/admin/users/dana", "/admin/users/dana", {
        "display_name": "Dana", "roles": "change_coordinator", "active": "y"})
    post_form(admin, "/admin/users/dana", "/admin/users/dana/password", {
        "password": "another-password", "confirm": "another-password"})
    post_form(admin, "/admin/users/dana", "/admin/users/dana/sessions/end", {})

    actions = {r.action: r for r in reversed(_rows(web_db))}  # the newest of each
    assert _actions(web_db) == Counter({
        "sign_in": 2, "settings.language": 1, "token.created": 1, "token.revoked": 1,
        "user.renamed": 1, "user.roles_changed": 1, "user.password_reset": 1,
        "sessions.ended": 1})
    assert actions["settings.language"].details == {"before": None, "after": "nl"}
    assert (actions["user.created"].actor, actions["user.created"].target) == ("ada", "dana")
    assert actions["user.roles_changed"].actor == "ada"
    assert {actions[a].actor for a in ("token.created", "token.revoked")} == {"sam"}


def test_every_download_is_recorded(web_app: Flask, web_db: Database) -> None:
    sam = web_app.test_client()
    login(sam, "sam")
    assert sam.get("/items/export.csv?status=in_use").status_code == 200
    assert sam.get("/changes/export.xlsx").status_code == 200
    assert sam.get("/items/export.pdf").status_code == 404  # not a download: not recorded

    exports = _rows(web_db, action="export")
    assert [(e.actor, e.target, e.details["file"]) for e in exports] == [
        ("sam", "/changes/export.xlsx", "changes.xlsx"),
        ("sam", "/items/export.csv?status=in_use", "register.csv")]


def test_a_download_that_cannot_be_recorded_is_not_sent(web_app: Flask,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    sam = web_app.test_client()
    login(sam, "sam")

    def failing(*_args: object) -> None:
        raise RuntimeError("database gone")

    monkeypatch.setattr(audit_log, "record_export", failing)
    response = sam.get("/items/export.csv")
    assert response.status_code == 503
    assert "could not be recorded" in response.get_data(as_text=True)
    assert "Content-Disposition" not in response.headers


def test_the_page_lists_filters_and_pages(web_db: Database, admin: FlaskClient) -> None:
    with web_db.transaction() as session:
        for n in range(120):
            audit_log.record(session, Origin("sam", address="192.0.2.8", via="web"),
                             "token.used", f"sam: script (#{n})")
        audit_log.record(session, Origin("ada", acting_as="carol", via="api"), "act_as",
                         "POST /api/v1/changes")
        audit_log.record(session, Origin("<b>eve</b>", via="web"), "sign_in.failed", "x")

    page = admin.get("/admin/audit-log").get_data(as_text=True)
    assert "ada as carol" in page and "POST /api/v1/changes" in page
    assert "&lt;b&gt;eve&lt;/b&gt;" in page and "<b>eve</b>" not in page
    assert page.count("API token used") >= 90 and "Older entries" in page

    used = admin.get("/admin/audit-log?actor=sam&action=token.used").get_data(as_text=True)
    assert "sam: script (#119)" in used and "sam: script (#19)" not in used
    older = admin.get(_next_link(used)).get_data(as_text=True)
    assert "sam: script (#19)" in older and "sam: script (#119)" not in older
    assert "« Newest" in older

    carols = admin.get("/admin/audit-log?actor=carol").get_data(as_text=True)
    assert "ada as carol" in carols and "sam: script" not in carols
    bad = admin.get("/admin/audit-log?from=someday")
    assert bad.status_code == 400 and "is not a date or a moment" in bad.get_data(as_text=True)


def _next_link(page: str) -> str:
    import html
    import re

    match = re.search(r'href="([^"]+)" rel="next"', page)
    assert match, "no next page"
    return html.unescape(match.group(1))


def test_the_export_holds_what_the_filters_select(web_db: Database, admin: FlaskClient) -> None:
    with web_db.transaction() as session:
        audit_log.record(session, Origin("=cmd|' /C calc'!A0", via="web"), "sign_in.failed", "x")
        audit_log.record(session, Origin("sam", via="web"), "token.used", "y")

    csv = admin.get("/admin/audit-log/export.csv?action=sign_in.failed")
    assert csv.status_code == 200
    assert csv.headers["Content-Disposition"] == 'attachment; filename="audit-log.csv"'
    text = csv.get_data(as_text=True)
    assert "'=cmd|" in text and "token.used" not in text
    xlsx = admin.get("/admin/audit-log/export.xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.data), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:5] == ("id", "at", "actor", "acting_as", "action")
    assert any(row[4] == "sign_in.failed" for row in rows[1:])
    # the download of the log is itself in the log
    assert [r.target for r in _rows(web_db, action="export")][-1] == \
        "/admin/audit-log/export.csv?action=sign_in.failed"


@pytest.mark.parametrize("user", ["carol", "sam", "pat"])
def test_only_administrators_see_the_log(web_app: Flask, user: str) -> None:
    client = web_app.test_client()
    login(client, user)
    assert client.get("/admin/audit-log").status_code == 403
    assert client.get("/admin/audit-log/export.csv").status_code == 403
    assert web_app.test_client().get("/admin/audit-log").status_code == 302
