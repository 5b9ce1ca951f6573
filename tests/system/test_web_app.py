"""The web tier end to end over HTTP: sign-in, the register and change pages, and its defences."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from tests.conftest import PASSWORD
from tests.support.helpers import at, implement_normal_change, laptop
from usm.app import create_app
from usm.config import Settings
from usm.services.platform import Database
from usm.services.user_input import parse_moment
from web.accounts.sign_in import local_target
from web.support.security import roles_required

CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def make_app(url: str) -> Flask:
    return create_app(Settings(database_url=url, secret_key="test", testing=True))


@pytest.fixture
def app(sqlite_url: str) -> Iterator[Flask]:
    app = make_app(sqlite_url)
    yield app
    app.extensions["usm_db"].dispose()


@pytest.fixture
def db(app: Flask) -> Database:
    """The app's own database handle, to build register content through the engine."""
    database: Database = app.extensions["usm_db"]
    return database


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    match = CSRF_INPUT.search(client.get(path).get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client: FlaskClient, username: str = "carol", password: str = PASSWORD,
          next_path: str | None = None):  # type: ignore[no-untyped-def]
    url = "/login" + (f"?next={next_path}" if next_path else "")
    return client.post(url, data={"username": username, "password": password,
                                  "csrf_token": csrf_token(client)})


@pytest.fixture
def laptop_history(db: Database) -> tuple[str, str]:
    """LAP-000001 bought for 999.00 EUR for alice, then handed to bob a month later."""
    first = implement_normal_change(
        db, [laptop("a", "SN-1001", purchase_cost="999.00", currency="EUR", owner="alice",
                    attributes={"cores": 8})],
        at("2026-01-10"), title="Receive laptop")
    second = implement_normal_change(
        db, [{"op": "update_item", "item": "LAP-000001", "owner": "bob"}], at("2026-02-10"),
        title="Hand laptop to bob")
    return first, second


# Signing in and out


def test_anonymous_visitor_is_sent_to_the_login_page(client: FlaskClient) -> None:
    for path in ("/", "/items/LAP-000001", "/changes", "/changes/CHG-000001"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")


def test_wrong_password_shows_an_error_and_does_not_sign_in(client: FlaskClient) -> None:
    response = login(client, password="not-the-password")

    assert response.status_code == 200
    assert "Unknown user name or wrong password." in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_unknown_user_gets_the_same_error(client: FlaskClient) -> None:
    response = login(client, username="mallory")
    assert "Unknown user name or wrong password." in response.get_data(as_text=True)


def test_signed_in_user_sees_register_and_open_changes(
        client: FlaskClient, laptop_history: tuple[str, str]) -> None:
    response = login(client)
    assert response.status_code == 302 and response.headers["Location"] == "/"

    html = client.get("/").get_data(as_text=True)

    assert "LAP-000001" in html and 'href="/items/LAP-000001"' in html
    for change_key in laptop_history:
        assert f'href="/changes/{change_key}"' in html
    assert "Carol" in html and "Change coordinator" in html  # the nav names the user and roles
    assert "1 item registered" in html


def test_login_follows_next_only_to_local_paths(client: FlaskClient) -> None:
    assert login(client, next_path="/changes").headers["Location"] == "/changes"
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})

    response = login(client, next_path="https://evil.example/")
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("target, expected", [
    ("/items/LAP-000001?as_of=2026-01-01", "/items/LAP-000001?as_of=2026-01-01"),
    ("https://evil.example/", None),
    ("//evil.example/", None),
    ("/\\evil.example", None),
    ("javascript:alert(1)", None),
    ("", None),
])
def test_local_target(target: str, expected: str | None) -> None:
    assert local_target(target) == expected


def test_login_without_csrf_token_is_refused(app: Flask, client: FlaskClient) -> None:
    assert app.config["WTF_CSRF_ENABLED"] is True  # secure by default, tests included

    response = client.post("/login", data={"username": "carol", "password": PASSWORD})

    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_logout_is_a_post_that_ends_the_session(client: FlaskClient) -> None:
    login(client)
    assert client.get("/").status_code == 200
    assert client.get("/logout").status_code == 405  # a link or an image cannot sign you out

    response = client.post("/logout", data={"csrf_token": csrf_token(client, "/")})

    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert client.get("/").status_code == 302


def test_session_cookie_is_http_only_and_same_site_lax(client: FlaskClient) -> None:
    response = login(client)

    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_pages_carry_security_headers(client: FlaskClient) -> None:
    login(client)
    headers = client.get("/").headers

    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Cache-Control"] == "no-store"


# Item page


def test_item_page_shows_attributes_money_and_history(
        client: FlaskClient, laptop_history: tuple[str, str]) -> None:
    first, second = laptop_history
    login(client)

    html = client.get("/items/LAP-000001").get_data(as_text=True)

    assert "SN-1001" in html  # serial number (configuration)
    assert "€999.00" in html  # purchase cost with its currency (financial)
    assert "CPU cores" in html  # class-specific attribute, by its class label
    assert f'href="/changes/{first}"' in html and f'href="/changes/{second}"' in html
    assert "Hand laptop to bob" in html
    assert "<del>alice</del>" in html and "<ins>bob</ins>" in html
    assert "2026-02-10 09:00 UTC" in html  # dates in ISO form, in UTC


def test_item_page_as_of_shows_the_older_registration(
        client: FlaskClient, laptop_history: tuple[str, str]) -> None:
    login(client)

    now = client.get("/items/LAP-000001").get_data(as_text=True)
    before = client.get("/items/LAP-000001?as_of=2026-01-31T12:00").get_data(as_text=True)

    assert "<dt>Owner</dt><dd>bob</dd>" in now
    assert "<dt>Owner</dt><dd>alice</dd>" in before
    assert "Shown as registered at" in before and "2026-01-31 12:00 UTC" in before


def test_item_that_did_not_exist_yet_at_as_of_is_not_found(
        client: FlaskClient, laptop_history: tuple[str, str]) -> None:
    login(client)
    response = client.get("/items/LAP-000001?as_of=2025-12-31")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    # Not a bare "not found": when it was first registered, and the way there.
    assert "LAP-000001 was not registered yet at" in html and "2025-12-31 00:00 UTC" in html
    assert "it was first registered at" in html and "2026-01-10 09:00 UTC" in html
    assert 'href="/items/LAP-000001?as_of=2026-01-10T09:00"' in html
    assert 'href="/items/LAP-000001">Show the current registration' in html


def test_unknown_item_is_404(client: FlaskClient) -> None:
    login(client)
    response = client.get("/items/LAP-999999")
    assert response.status_code == 404
    assert "No item LAP-999999 in the register." in response.get_data(as_text=True)


@pytest.mark.parametrize("as_of", ["yesterday", "2026-13-01", "2026-02-30", "2026-01-01T25:00",
                                   "2026-01-01T10:00+25:00", "1700000000"])
def test_bad_as_of_is_a_400_with_a_message(
        client: FlaskClient, laptop_history: tuple[str, str], as_of: str) -> None:
    login(client)
    response = client.get("/items/LAP-000001", query_string={"as_of": as_of})
    assert response.status_code == 400
    assert "YYYY-MM-DD" in response.get_data(as_text=True)


def test_a_moment_is_read_as_utc_unless_it_names_an_offset() -> None:
    assert parse_moment("2026-03-31") == at("2026-03-31", 0)
    assert parse_moment("2026-03-31T17:30") == at("2026-03-31", 17).replace(minute=30)
    assert parse_moment("2026-03-31 17:30") == at("2026-03-31", 17).replace(minute=30)
    assert parse_moment("2026-03-31T19:30+02:00") == at("2026-03-31", 17).replace(minute=30)
    assert parse_moment("2026-03-31T17:30:00Z") == at("2026-03-31", 17).replace(minute=30)
    assert parse_moment("") is None and parse_moment(None) is None


def test_the_item_page_reads_an_as_of_with_an_offset_as_the_api_does(
        client: FlaskClient, laptop_history: tuple[str, str]) -> None:
    """The web, the API and the CLI read one moment the same way (an offset is honoured)."""
    login(client)
    utc = client.get("/items/LAP-000001?as_of=2026-01-31T10:00").get_data(as_text=True)
    offset = client.get("/items/LAP-000001",
                        query_string={"as_of": "2026-01-31T12:00+02:00"}).get_data(as_text=True)
    assert "2026-01-31 10:00 UTC" in utc and "2026-01-31 10:00 UTC" in offset


def test_html_in_register_values_is_escaped(client: FlaskClient, db: Database) -> None:
    payload = "<script>alert(1)</script>"
    change_key = implement_normal_change(db, [laptop("a", "SN-X", name=payload)], at("2026-01-10"),
                                         title=payload)
    login(client)

    for path in ("/", "/items/LAP-000001", f"/changes/{change_key}", "/changes"):
        html = client.get(path).get_data(as_text=True)
        assert payload not in html, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, path


# Change pages


def test_change_page_shows_steps_log_approvals_and_change_set(
        client: FlaskClient, laptop_history: tuple[str, str]) -> None:
    first, _second = laptop_history
    login(client)

    html = client.get(f"/changes/{first}").get_data(as_text=True)

    assert 'class="current" aria-current="step">Implementation' in html
    assert 'class="done">Authorisation' in html and 'class="todo">Evaluation' in html
    assert "Create item" in html and "€999.00" in html  # change set, money with currency
    assert "<td>sam</td><td>approved</td>" in html  # approvals
    assert "submit_for_approval" in html and "register: created LAP-000001" in html  # step log
    assert "Impacted services" in html


def test_change_key_is_case_insensitive_and_unknown_change_is_404(
        client: FlaskClient, laptop_history: tuple[str, str]) -> None:
    first, _second = laptop_history
    login(client)
    assert client.get(f"/changes/{first.lower()}").status_code == 200
    assert client.get("/changes/CHG-999999").status_code == 404


def test_changes_page_lists_open_changes(
        client: FlaskClient, laptop_history: tuple[str, str]) -> None:
    login(client)
    html = client.get("/changes").get_data(as_text=True)
    for change_key in laptop_history:
        assert f'href="/changes/{change_key}"' in html
    assert "Implementation" in html


# Roles


def test_roles_required_gives_403_to_users_without_the_role(sqlite_url: str) -> None:
    app = make_app(sqlite_url)

    @app.get("/test-only/designers")
    @roles_required("process_designer")
    def designers_only() -> str:
        return "for designers"

    try:
        client = app.test_client()
        assert client.get("/test-only/designers").headers["Location"].startswith("/login")

        login(client, "carol")
        response = client.get("/test-only/designers")
        assert response.status_code == 403
        assert "process_designer" in response.get_data(as_text=True)
        client.post("/logout", data={"csrf_token": csrf_token(client, "/")})

        login(client, "pat")
        response = client.get("/test-only/designers")
        assert response.status_code == 200 and response.get_data(as_text=True) == "for designers"
    finally:
        app.extensions["usm_db"].dispose()


def test_unexpected_error_shows_a_plain_500_page_without_internals(sqlite_url: str) -> None:
    app = create_app(Settings(database_url=sqlite_url, secret_key="test"))  # not testing

    @app.get("/test-only/boom")
    def boom() -> str:
        raise RuntimeError("internal detail")

    try:
        response = app.test_client().get("/test-only/boom")
        html = response.get_data(as_text=True)
        assert response.status_code == 500
        assert "Internal Server Error" in html and "internal detail" not in html
    finally:
        app.extensions["usm_db"].dispose()


def test_roles_required_needs_a_role() -> None:
    with pytest.raises(ValueError):
        roles_required()


# Query counts


def _statements(db: Database, client: FlaskClient, path: str) -> int:
    count = 0

    def counter(*_args: object) -> None:
        nonlocal count
        count += 1

    event.listen(db.engine, "before_cursor_execute", counter)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", counter)
    return count


def test_pages_issue_a_fixed_number_of_statements(client: FlaskClient, db: Database) -> None:
    implement_normal_change(db, [laptop("a", "SN-1", owner="alice")], at("2026-01-10"))
    login(client)
    paths = ("/", "/changes", "/items/LAP-000001", "/changes/CHG-000001")
    few = {path: _statements(db, client, path) for path in paths}

    implement_normal_change(db, [laptop(f"n{i}", f"SN-{i + 2}") for i in range(5)],
                            at("2026-01-11"))
    for month in (2, 3, 4):
        implement_normal_change(
            db, [{"op": "update_item", "item": "LAP-000001", "owner": f"owner{month}"}],
            at(f"2026-0{month}-10"))
    many = {path: _statements(db, client, path) for path in paths}

    assert many == few


@pytest.mark.parametrize("user, forbidden", [("ada", "/items"), ("pat", "/changes"),
                                             ("sam", "/admin/users"),
                                             ("carol", "/designer/definitions")])
def test_a_refusal_page_links_only_where_the_user_may_go(client: FlaskClient, user: str,
                                                         forbidden: str) -> None:
    login(client, user)
    refused = client.get(forbidden)
    assert refused.status_code == 403
    html = refused.get_data(as_text=True)
    section = html[html.index('<section class="narrow">'):html.index("</section>")]
    links = re.findall(r'href="([^"]+)"', section)
    assert links, "the page offers a way on"
    for link in links:
        assert client.get(link).status_code == 200, link
    # and it names them as what they are: an administrator has no register to go back to
    assert "Back to the register" not in html


def test_history_shows_amounts_as_the_rest_of_the_page(client: FlaskClient, db: Database,
                                                        laptop_history: tuple[str, str]) -> None:
    implement_normal_change(db, [{"op": "update_item", "item": "LAP-000001",
                                  "purchase_cost": "1249.00"}], at("2026-03-10"),
                            title="Correct the price")
    login(client)
    html = client.get("/items/LAP-000001").get_data(as_text=True)
    timeline = html[html.index("Correct the price"):]
    assert "<del>€999.00</del>" in timeline and "<ins>€1,249.00</ins>" in timeline
