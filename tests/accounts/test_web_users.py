"""The administrator's screens over HTTP: users and roles, validation next to each field with
nothing written, the rules that keep an administrator, and signing in after deactivation."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import PASSWORD
from tests.support.web import login, post_form
from usm.services.accounts import add_user, authenticate, list_users, user_by_username
from usm.services.platform import Database

NEW_PASSWORD = "a-new-long-password"
PAGES = ["/admin/users", "/admin/users/new", "/admin/users/carol"]


def _snapshot(db: Database) -> list[tuple[str, str, tuple[str, ...], bool]]:
    return [(u.username, u.display_name, tuple(u.roles), u.active) for u in list_users(db)]


def _field_error(page: str, field: str) -> str:
    """The error shown right after the input of ``field`` (empty if none)."""
    match = re.search(rf'<small class="field-error" id="{field}-error">(.*?)</small>', page, re.S)
    return match.group(1) if match else ""


def _new_user(client: FlaskClient, **values: object) -> tuple[int, str]:
    data: dict[str, object] = {"username": "dana", "display_name": "Dana", "roles": ["service_owner"],
                               "password": NEW_PASSWORD, "confirm": NEW_PASSWORD, **values}
    response = post_form(client, "/admin/users/new", "/admin/users/new", data)  # type: ignore[arg-type]
    return response.status_code, response.get_data(as_text=True)


def _edit(client: FlaskClient, username: str, **values: object) -> tuple[int, str]:
    current = user_by_username(client.application.extensions["usm_db"], username)
    data: dict[str, object] = {"display_name": current.display_name, "roles": current.roles}
    if current.active:
        data["active"] = "y"
    data.update(values)
    data = {k: v for k, v in data.items() if v is not None}
    page = f"/admin/users/{username}"
    response = post_form(client, page, page, data)  # type: ignore[arg-type]
    return response.status_code, response.get_data(as_text=True)


@pytest.fixture
def admin(web_client: FlaskClient) -> FlaskClient:
    assert login(web_client, "ada").status_code == 302
    return web_client


# Access


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(web_client: FlaskClient, path: str) -> None:
    response = web_client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("user", ["carol", "sam", "pat"])
def test_only_administrators_open_the_admin_pages(web_client: FlaskClient, web_db: Database,
                                                  user: str) -> None:
    login(web_client, user)
    for path in PAGES:
        assert web_client.get(path).status_code == 403, path
    before = _snapshot(web_db)
    response = web_client.post("/admin/users/new", data={"username": "mallory"})
    assert response.status_code in (400, 403)
    assert _snapshot(web_db) == before


def test_unknown_user_is_404(admin: FlaskClient) -> None:
    response = admin.get("/admin/users/nobody")
    assert response.status_code == 404
    assert "There is no user nobody." in response.get_data(as_text=True)


# The list


def test_user_list_shows_roles_and_status(admin: FlaskClient, web_db: Database) -> None:
    add_user(web_db, "olga", NEW_PASSWORD, ["service_owner", "process_designer"])

    page = admin.get("/admin/users").get_data(as_text=True)

    assert 'href="/admin/users/new"' in page
    for username in ("ada", "carol", "pat", "sam", "olga"):
        assert f'href="/admin/users/{username}"' in page
    row = page[page.index('href="/admin/users/olga"'):]
    row = row[:row.index("</tr>")]
    assert "Process designer, Service owner" in row and "active" in row
    assert "5 users, 5 active." in page
    assert 'href="/admin/users"' in admin.get("/").get_data(as_text=True)  # in the navigation


# Creating users


def test_create_user_then_they_can_sign_in(admin: FlaskClient, web_app: Flask) -> None:
    response = post_form(admin, "/admin/users/new", "/admin/users/new", {
        "username": "dana", "display_name": "Dana Visser",
        "roles": ["service_owner", "change_coordinator"],  # type: ignore[dict-item]
        "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})

    assert response.status_code == 302 and response.headers["Location"] == "/admin/users"
    assert "User dana created." in admin.get("/admin/users").get_data(as_text=True)
    dana = user_by_username(web_app.extensions["usm_db"], "dana")
    assert dana.roles == ["change_coordinator", "service_owner"] and dana.active
    other = web_app.test_client()
    assert login(other, "dana", NEW_PASSWORD).status_code == 302


def test_create_user_shows_every_error_by_its_field_and_writes_nothing(
        admin: FlaskClient, web_db: Database) -> None:
    before = _snapshot(web_db)

    status, page = _new_user(admin, username="Not Valid", roles=[], password="short",
                             confirm="different")

    assert status == 400
    assert "lower-case letters" in _field_error(page, "username")
    assert _field_error(page, "roles") == "give at least one role"
    assert "at least 10 characters" in _field_error(page, "password")
    assert _field_error(page, "confirm") == "does not match the password above"
    assert re.search(r'<input aria-describedby="username-help username-error" aria-invalid="true"'
                     r'[^>]*id="username"', page)
    assert 'value="Not Valid"' in page  # what was typed stays in the form
    assert NEW_PASSWORD not in page and 'value="short"' not in page  # passwords are not echoed
    assert "The user was not created" in page
    assert _snapshot(web_db) == before


def test_create_user_refuses_an_existing_name_and_an_unknown_role(admin: FlaskClient,
                                                                 web_db: Database) -> None:
    before = _snapshot(web_db)

    status, page = _new_user(admin, username="carol")
    assert status == 400 and _field_error(page, "username") == "carol already exists"

    status, page = _new_user(admin, roles=["superuser"])
    assert status == 400 and "superuser" in _field_error(page, "roles")
    assert _snapshot(web_db) == before


def test_a_form_without_its_csrf_token_is_refused(admin: FlaskClient, web_db: Database) -> None:
    before = _snapshot(web_db)
    response = admin.post("/admin/users/new", data={
        "username": "dana", "roles": "service_owner", "password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD})
    assert response.status_code == 400
    assert _snapshot(web_db) == before


# Editing users


def test_edit_roles_and_display_name(admin: FlaskClient, web_db: Database) -> None:
    status, _page = _edit(admin, "sam", display_name="Sam Jansen",
                          roles=["service_owner", "process_designer"])

    assert status == 302
    sam = user_by_username(web_db, "sam")
    assert sam.display_name == "Sam Jansen"
    assert sam.roles == ["process_designer", "service_owner"]
    page = admin.get("/admin/users/sam").get_data(as_text=True)
    assert "Saved sam: process designer, service owner; active." in page
    assert re.search(r'<input checked [^>]*value="process_designer"', page)


def test_edit_errors_are_shown_by_their_fields_and_nothing_changes(admin: FlaskClient,
                                                                   web_db: Database) -> None:
    before = _snapshot(web_db)

    status, page = _edit(admin, "sam", display_name="  ", roles=[])

    assert status == 400
    assert "give the name" in _field_error(page, "display_name")
    assert _field_error(page, "roles") == "give at least one role"
    assert "Nothing was saved" in page
    assert _snapshot(web_db) == before


def test_administrator_cannot_lock_themselves_out(admin: FlaskClient, web_db: Database) -> None:
    before = _snapshot(web_db)

    status, page = _edit(admin, "ada", active=None)  # the "active" box unticked
    assert status == 400
    assert "cannot deactivate your own account" in _field_error(page, "active")

    status, page = _edit(admin, "ada", roles=["service_owner"])
    assert status == 400
    assert "cannot remove your own administrator role" in _field_error(page, "roles")
    assert _snapshot(web_db) == before
    assert admin.get("/admin/users").status_code == 200  # still an administrator


def test_last_administrator_rule_lets_a_second_administrator_take_over(
        admin: FlaskClient, web_app: Flask, web_db: Database) -> None:
    add_user(web_db, "root", NEW_PASSWORD, ["administrator"])

    # ada may now be demoted by root, who then is the only administrator left.
    root = web_app.test_client()
    login(root, "root", NEW_PASSWORD)
    status, _page = _edit(root, "ada", roles=["service_owner"])
    assert status == 302
    assert user_by_username(web_db, "ada").roles == ["service_owner"]
    assert admin.get("/admin/users").status_code == 403  # ada's open session lost the screens

    status, page = _edit(root, "root", active=None)
    assert status == 400 and _field_error(page, "active")
    assert user_by_username(web_db, "root").active


def test_a_deactivated_user_cannot_sign_in_and_is_signed_out(admin: FlaskClient,
                                                             web_app: Flask,
                                                             web_db: Database) -> None:
    carol = web_app.test_client()
    assert login(carol, "carol").status_code == 302

    status, _page = _edit(admin, "carol", active=None)

    assert status == 302
    assert not user_by_username(web_db, "carol").active
    assert carol.get("/").status_code == 302  # the open session no longer works
    response = login(web_app.test_client(), "carol")
    assert response.status_code == 200
    assert "Unknown user name or wrong password." in response.get_data(as_text=True)
    assert "deactivated" in admin.get("/admin/users").get_data(as_text=True)

    status, _page = _edit(admin, "carol", active="y")
    assert status == 302
    assert login(web_app.test_client(), "carol").status_code == 302


# Passwords


def test_reset_password(admin: FlaskClient, web_db: Database) -> None:
    response = post_form(admin, "/admin/users/sam", "/admin/users/sam/password",
                         {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})

    assert response.status_code == 302
    assert ("New password set for sam: their sessions have ended and their API tokens are "
            "revoked.") in admin.get("/admin/users/sam").get_data(as_text=True)
    assert authenticate(web_db, "sam", NEW_PASSWORD) is not None
    assert authenticate(web_db, "sam", PASSWORD) is None


def test_reset_password_errors_keep_the_old_password(admin: FlaskClient,
                                                     web_db: Database) -> None:
    response = post_form(admin, "/admin/users/sam", "/admin/users/sam/password",
                         {"password": "short", "confirm": "shorter"})
    page = response.get_data(as_text=True)

    assert response.status_code == 400
    assert "at least 10 characters" in _field_error(page, "password")
    assert _field_error(page, "confirm") == "does not match the password above"
    assert "The password was not changed" in page
    assert authenticate(web_db, "sam", PASSWORD) is not None

    response = post_form(admin, "/admin/users/sam", "/admin/users/nobody/password",
                         {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 404
