"""Signing in at an LDAP directory: a real OpenLDAP (Debian's slapd) started for the session.

Directory users sign in on the password form; their roles come from their groups at every
sign-in; a group taken away takes its role away at the next one; no mapped group, a disabled
directory account or a wrong password is refused; local accounts keep signing in (break-glass),
also while the directory is down. The services run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from flask import Flask

from tests.accounts.conftest import ROLE_MAP
from tests.conftest import PASSWORD
from tests.support.directory_server import PEOPLE, Directory, free_port
from tests.support.web import csrf_token, login
from usm.app import create_app
from usm.config import Settings
from usm.services.accounts import (
    LDAP,
    AccountDeactivated,
    DirectoryUnavailable,
    NoMappedRole,
    ValidationFailed,
    WrongCredentials,
    actor_for,
    add_user,
    authenticate,
    reset_password,
    sign_in_with_password,
    update_user,
)
from usm.services.platform import Database
from usm.sso_config import SingleSignOn, single_sign_on

DIRECTORY_PASSWORD = "directory-pass-2026"
_names = itertools.count(1)


@pytest.fixture
def person(directory: Directory) -> str:
    """A user name no other test uses: the directory lives for the whole session."""
    return f"dir{next(_names)}"


def _sso(directory: Directory, **overrides: str) -> SingleSignOn:
    return single_sign_on({**directory.settings(**overrides), "USM_SSO_ROLE_MAP": ROLE_MAP})


def _roles(db: Database, username: str) -> set[str]:
    with db.reading() as session:
        return set(actor_for(session, username).roles)


def test_a_directory_user_signs_in_with_the_roles_of_their_groups(
        db: Database, directory: Directory, person: str) -> None:
    directory.add_user(person, DIRECTORY_PASSWORD, ("coordinators", "owners"),
                       display_name="Dora Directory")
    user = sign_in_with_password(db, _sso(directory), person, DIRECTORY_PASSWORD)
    assert (user.username, user.display_name, user.roles) == (
        person, "Dora Directory", ["change_coordinator", "service_owner"])
    assert (user.source, user.external_id, user.password_hash) == (
        LDAP, f"uid={person},{PEOPLE}", None)
    again = sign_in_with_password(db, _sso(directory), person.upper(), DIRECTORY_PASSWORD)
    assert again.id == user.id  # the same user, whatever the case typed


def test_a_group_taken_away_takes_its_role_away_at_the_next_sign_in(
        db: Database, directory: Directory, person: str) -> None:
    directory.add_user(person, DIRECTORY_PASSWORD, ("coordinators", "admins"))
    sign_in_with_password(db, _sso(directory), person, DIRECTORY_PASSWORD)
    assert _roles(db, person) == {"change_coordinator", "administrator"}
    directory.remove_from_group(person, "admins")
    assert sign_in_with_password(db, _sso(directory), person, DIRECTORY_PASSWORD).roles == [
        "change_coordinator"]
    assert _roles(db, person) == {"change_coordinator"}


def test_no_mapped_group_no_sign_in(db: Database, directory: Directory, person: str) -> None:
    directory.add_user(person, DIRECTORY_PASSWORD, ("canteen",))
    with pytest.raises(NoMappedRole):
        sign_in_with_password(db, _sso(directory), person, DIRECTORY_PASSWORD)
    assert authenticate(db, person, DIRECTORY_PASSWORD) is None
    with db.reading() as session, pytest.raises(Exception, match="no active user"):
        actor_for(session, person)  # nobody was made


def test_a_user_whose_last_mapped_group_goes_is_refused_and_holds_no_role(
        db: Database, directory: Directory, person: str) -> None:
    directory.add_user(person, DIRECTORY_PASSWORD, ("owners", "canteen"))
    sign_in_with_password(db, _sso(directory), person, DIRECTORY_PASSWORD)
    directory.remove_from_group(person, "owners")
    with pytest.raises(NoMappedRole):
        sign_in_with_password(db, _sso(directory), person, DIRECTORY_PASSWORD)
    assert _roles(db, person) == set()  # their API tokens act with no role either


def test_a_disabled_directory_account_is_refused(db: Database, directory: Directory,
                                                 person: str) -> None:
    directory.add_user(person, DIRECTORY_PASSWORD, ("owners",))
    sign_in_with_password(db, _sso(directory), person, DIRECTORY_PASSWORD)
    directory.disable(person)
    with pytest.raises(WrongCredentials):
        sign_in_with_password(db, _sso(directory), person, DIRECTORY_PASSWORD)


def test_a_wrong_or_empty_password_is_refused(db: Database, directory: Directory,
                                              person: str) -> None:
    directory.add_user(person, DIRECTORY_PASSWORD, ("owners",))
    for wrong in ("not-the-password", ""):  # empty would be an anonymous bind, which "succeeds"
        with pytest.raises(WrongCredentials):
            sign_in_with_password(db, _sso(directory), person, wrong)
    with pytest.raises(WrongCredentials):
        sign_in_with_password(db, _sso(directory), "nobody-here", DIRECTORY_PASSWORD)


def test_users_are_found_by_search_too(db: Database, directory: Directory, person: str) -> None:
    directory.add_user(person, DIRECTORY_PASSWORD, ("designers",))
    sso = single_sign_on({
        "USM_LDAP_URL": directory.url, "USM_LDAP_USER_BASE": "dc=example,dc=org",
        "USM_LDAP_USER_FILTER": "(&(objectClass=inetOrgPerson)(uid={username}))",
        "USM_LDAP_BIND_DN": "cn=admin,dc=example,dc=org",
        "USM_LDAP_BIND_PASSWORD": directory.admin_password,
        "USM_LDAP_GROUP_BASE": "ou=groups,dc=example,dc=org", "USM_SSO_ROLE_MAP": ROLE_MAP})
    assert sign_in_with_password(db, sso, person, DIRECTORY_PASSWORD).roles == ["process_designer"]
    with pytest.raises(WrongCredentials):  # a filter's special characters are only characters
        sign_in_with_password(db, sso, "*", DIRECTORY_PASSWORD)


def test_local_accounts_keep_their_passwords_and_cannot_be_taken_over(
        db: Database, directory: Directory, person: str) -> None:
    sso = _sso(directory)
    assert sign_in_with_password(db, sso, "ada", PASSWORD).roles == ["administrator"]
    # A directory entry with a local account's name does not sign in as that account.
    add_user(db, person, PASSWORD, ["service_owner"])
    directory.add_user(person, DIRECTORY_PASSWORD, ("admins",))
    for name in (person, person.capitalize()):
        with pytest.raises(WrongCredentials):
            sign_in_with_password(db, sso, name, DIRECTORY_PASSWORD)
    assert sign_in_with_password(db, sso, person, PASSWORD).roles == ["service_owner"]
    assert _roles(db, person) == {"service_owner"}


def test_a_directory_user_has_no_password_here_and_can_be_deactivated_here(
        db: Database, directory: Directory, person: str) -> None:
    directory.add_user(person, DIRECTORY_PASSWORD, ("owners",))
    sign_in_with_password(db, _sso(directory), person, DIRECTORY_PASSWORD)
    with pytest.raises(ValidationFailed, match="signs in at the directory"):
        reset_password(db, person, "a-local-password-now")
    update_user(db, person, display_name="D", roles=["service_owner"], active=False,
                acting_user="ada")
    with pytest.raises(AccountDeactivated):
        sign_in_with_password(db, _sso(directory), person, DIRECTORY_PASSWORD)


def test_an_unreachable_directory_says_so_and_local_accounts_still_sign_in(db: Database) -> None:
    sso = single_sign_on({"USM_LDAP_URL": f"ldap://127.0.0.1:{free_port()}",
                          "USM_LDAP_USER_DN_TEMPLATE": f"uid={{username}},{PEOPLE}",
                          "USM_LDAP_GROUP_BASE": "ou=groups,dc=example,dc=org",
                          "USM_LDAP_TIMEOUT": "2", "USM_SSO_ROLE_MAP": ROLE_MAP})
    with pytest.raises(DirectoryUnavailable):
        sign_in_with_password(db, sso, "someone", DIRECTORY_PASSWORD)
    assert sign_in_with_password(db, sso, "ada", PASSWORD).username == "ada"


# The sign-in page, with the directory configured.

@pytest.fixture
def ldap_app(sqlite_url: str, directory: Directory) -> Iterator[Flask]:
    app = create_app(Settings(database_url=sqlite_url, secret_key="test", testing=True,
                              single_sign_on=_sso(directory)))
    yield app
    app.extensions["usm_db"].dispose()


def _page(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True).replace("&#39;", "'")


def test_the_sign_in_form_signs_a_directory_user_in(ldap_app: Flask, directory: Directory,
                                                    person: str) -> None:
    directory.add_user(person, DIRECTORY_PASSWORD, ("admins",), display_name="Ada Directory")
    client = ldap_app.test_client()
    assert login(client, person, DIRECTORY_PASSWORD).status_code == 302
    assert client.get("/admin/users").status_code == 200
    directory.remove_from_group(person, "admins")
    directory.add_to_group(person, "owners")
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account/tokens")})
    assert login(client, person, DIRECTORY_PASSWORD).status_code == 302
    assert client.get("/admin/users").status_code == 403
    assert client.get("/items").status_code == 200


def test_the_sign_in_form_says_why_a_valid_directory_user_is_refused(
        ldap_app: Flask, directory: Directory, person: str) -> None:
    directory.add_user(person, DIRECTORY_PASSWORD, ("canteen",))
    client = ldap_app.test_client()
    answer = login(client, person, DIRECTORY_PASSWORD)
    assert answer.status_code == 403
    assert "none of your groups gives a role in this application" in _page(answer)
    assert client.get("/").status_code == 302  # not signed in


def test_wrong_directory_passwords_are_throttled_as_local_ones(
        ldap_app: Flask, directory: Directory, person: str) -> None:
    directory.add_user(person, DIRECTORY_PASSWORD, ("owners",))
    client = ldap_app.test_client()
    for _ in range(5):
        answer = login(client, person, "not-the-password")
        assert answer.status_code == 200
        assert "Unknown user name or wrong password." in _page(answer)
    blocked = login(client, person, DIRECTORY_PASSWORD)  # right, but too late
    assert blocked.status_code == 429
    assert f"Too many failed sign-ins for {person}" in _page(blocked)
    assert client.get("/").status_code == 302


def test_a_disabled_directory_account_is_refused_on_the_form(
        ldap_app: Flask, directory: Directory, person: str) -> None:
    directory.add_user(person, DIRECTORY_PASSWORD, ("owners",))
    directory.disable(person)
    client = ldap_app.test_client()
    answer = login(client, person, DIRECTORY_PASSWORD)
    assert "Unknown user name or wrong password." in _page(answer)
    assert client.get("/").status_code == 302


def test_the_local_administrator_signs_in_while_the_directory_is_down(sqlite_url: str) -> None:
    down = single_sign_on({"USM_LDAP_URL": f"ldap://127.0.0.1:{free_port()}",
                           "USM_LDAP_USER_DN_TEMPLATE": f"uid={{username}},{PEOPLE}",
                           "USM_LDAP_GROUP_BASE": "ou=groups,dc=example,dc=org",
                           "USM_LDAP_TIMEOUT": "2", "USM_SSO_ROLE_MAP": ROLE_MAP})
    app = create_app(Settings(database_url=sqlite_url, secret_key="test", testing=True,
                              single_sign_on=down))
    try:
        client = app.test_client()
        answer = login(client, "someone", DIRECTORY_PASSWORD)
        assert answer.status_code == 503
        assert "The directory cannot be reached now" in _page(answer)
        assert login(client, "ada", PASSWORD).status_code == 302
        assert client.get("/admin/users").status_code == 200
    finally:
        app.extensions["usm_db"].dispose()
