"""Signing in with OpenID Connect: the real authorisation code flow against a real provider
(panva's oidc-provider on Node.js, started for the session), over HTTP.

The app is served on a local port and a ``requests`` session plays the browser: it follows the
redirects from the app to the provider, fills in the provider's sign-in form, and follows the
redirects back to the app's callback, which redeems the code at the provider (with the PKCE
verifier), checks the ID token and its nonce, reads the groups and signs the user in.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import replace
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import pytest
import requests
from flask import Flask

from tests.accounts.conftest import ROLE_MAP
from tests.conftest import PASSWORD
from tests.support.oidc_server import IdentityProvider
from tests.support.web import CSRF_INPUT, served
from usm.app import create_app
from usm.config import Settings
from usm.services.accounts import OIDC, ExternalAccount, actor_for, sign_in_external, update_user
from usm.services.platform import Database
from usm.sso_config import RoleGrant, single_sign_on

PROVIDER_PASSWORD = "provider-pass-2026"
_names = itertools.count(1)
FORM_ACTION = re.compile(r'<form method="post" action="([^"]+)"')


@pytest.fixture
def person(identity_provider: IdentityProvider) -> str:
    """A user name no other test uses: the provider lives for the whole session."""
    return f"idp{next(_names)}"


@pytest.fixture
def live_app(sqlite_url: str, identity_provider: IdentityProvider) -> Iterator[Flask]:
    """The app with OpenID Connect, served on a free local port in a thread."""
    sso = single_sign_on({**identity_provider.settings(), "USM_SSO_ROLE_MAP": ROLE_MAP})
    app = create_app(Settings(database_url=sqlite_url, secret_key="test", testing=True,
                              single_sign_on=sso))
    with served(app):
        yield app


@pytest.fixture
def browser() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def _url(app: Flask, path: str) -> str:
    return app.config["LIVE_URL"] + path


def _sign_in(browser: requests.Session, app: Flask, username: str,
             password: str = PROVIDER_PASSWORD) -> requests.Response:
    """Click "Sign in with ..." and, when the provider asks, sign in there; the answer is the
    page the app ends on."""
    page = browser.get(_url(app, "/login/oidc"), timeout=20)
    action = FORM_ACTION.search(page.text)
    if action and not page.url.startswith(app.config["LIVE_URL"]):
        page = browser.post(urljoin(page.url, action.group(1)), timeout=20,
                            data={"username": username, "password": password})
    return page


def _callback_url(browser: requests.Session, app: Flask, username: str) -> str:
    """Sign in at the provider and stop at the redirect back to the app: the callback URL with
    its code and state, not yet delivered."""
    answer = browser.get(_url(app, "/login/oidc"), allow_redirects=False, timeout=20)
    while True:
        if answer.is_redirect:
            location = urljoin(answer.url, answer.headers["Location"])
            if location.startswith(app.config["LIVE_URL"]):
                return location
            answer = browser.get(location, allow_redirects=False, timeout=20)
            continue
        action = FORM_ACTION.search(answer.text)
        assert action, answer.text  # the provider's sign-in form
        answer = browser.post(urljoin(answer.url, action.group(1)), allow_redirects=False,
                              data={"username": username, "password": PROVIDER_PASSWORD},
                              timeout=20)


def _sign_out(browser: requests.Session, app: Flask) -> None:
    token = CSRF_INPUT.search(browser.get(_url(app, "/account/tokens"), timeout=20).text)
    assert token, "no CSRF token on the tokens page"
    browser.post(_url(app, "/logout"), data={"csrf_token": token.group(1)}, timeout=20)


def _text(page: requests.Response) -> str:
    return page.text.replace("&#39;", "'")


def _roles(app: Flask, username: str) -> set[str]:
    db: Database = app.extensions["usm_db"]
    with db.reading() as session:
        return set(actor_for(session, username).roles)


def _signed_in(browser: requests.Session, app: Flask) -> bool:
    return browser.get(_url(app, "/"), allow_redirects=False, timeout=20).status_code == 200


def test_the_sign_in_page_offers_the_provider_and_local_accounts_still_sign_in(
        live_app: Flask, browser: requests.Session) -> None:
    page = browser.get(_url(live_app, "/login?next=/items"), timeout=20)
    assert "Sign in with Example ID" in page.text
    assert 'href="/login/oidc?next=/items"' in page.text.replace("%2F", "/")
    token = CSRF_INPUT.search(page.text)
    assert token
    page = browser.post(_url(live_app, "/login"), timeout=20, data={
        "username": "ada", "password": PASSWORD, "csrf_token": token.group(1)})
    assert page.url == _url(live_app, "/")
    assert browser.get(_url(live_app, "/admin/users"), timeout=20).status_code == 200


def test_the_code_flow_signs_in_with_the_roles_of_the_groups(
        live_app: Flask, browser: requests.Session, identity_provider: IdentityProvider,
        person: str) -> None:
    identity_provider.add_account(person, PROVIDER_PASSWORD, ["usm-coordinators", "usm-owners",
                                                              "canteen"], name="Olga Provider")
    page = browser.get(_url(live_app, "/login/oidc?next=/changes"), timeout=20)
    assert page.url.startswith(identity_provider.issuer + "/interaction/")
    action = FORM_ACTION.search(page.text)
    assert action, page.text
    page = browser.post(urljoin(page.url, action.group(1)), timeout=20,
                        data={"username": person, "password": PROVIDER_PASSWORD})
    assert page.status_code == 200
    assert page.url == _url(live_app, "/changes")  # where the user set out for
    assert "Olga Provider" in page.text
    assert _roles(live_app, person) == {"change_coordinator", "service_owner"}
    db: Database = live_app.extensions["usm_db"]
    user = next(u for u in _users(db) if u.username == person)
    assert (user.source, user.external_id, user.password_hash) == (
        OIDC, f"{identity_provider.issuer}|{person}", None)


def _users(db: Database) -> list:  # type: ignore[type-arg]
    from sqlalchemy import text
    with db.reading() as session:
        return list(session.execute(text(
            "SELECT username, source, external_id, password_hash FROM usm_user")))


def test_a_removed_group_takes_its_role_away_at_the_next_sign_in(
        live_app: Flask, browser: requests.Session, identity_provider: IdentityProvider,
        person: str) -> None:
    identity_provider.add_account(person, PROVIDER_PASSWORD, ["usm-admins", "usm-owners"])
    _sign_in(browser, live_app, person)
    assert browser.get(_url(live_app, "/admin/users"), timeout=20).status_code == 200
    identity_provider.set_groups(person, ["usm-owners"])
    _sign_out(browser, live_app)
    # Still signed in at the provider: it sends the user straight back, with today's groups.
    page = _sign_in(browser, live_app, person)
    assert page.url == _url(live_app, "/")
    assert _roles(live_app, person) == {"service_owner"}
    assert browser.get(_url(live_app, "/admin/users"), timeout=20).status_code == 403
    assert browser.get(_url(live_app, "/items"), timeout=20).status_code == 200


def test_no_mapped_group_no_sign_in(live_app: Flask, browser: requests.Session,
                                    identity_provider: IdentityProvider, person: str) -> None:
    identity_provider.add_account(person, PROVIDER_PASSWORD, ["canteen"])
    page = _sign_in(browser, live_app, person)
    assert page.url == _url(live_app, "/login")
    assert ("Example ID knows you, but none of your groups there gives a role in this "
            "application") in _text(page)
    assert not _signed_in(browser, live_app)
    assert person not in {u.username for u in _users(live_app.extensions["usm_db"])}


def test_an_account_the_provider_disabled_is_refused(
        live_app: Flask, browser: requests.Session, identity_provider: IdentityProvider,
        person: str) -> None:
    identity_provider.add_account(person, PROVIDER_PASSWORD, ["usm-owners"])
    identity_provider.disable(person)
    page = _sign_in(browser, live_app, person)
    assert page.url == _url(live_app, "/login")
    assert "Example ID did not sign you in (access_denied)." in _text(page)
    assert not _signed_in(browser, live_app)


def test_an_unknown_account_stays_at_the_provider(live_app: Flask,
                                                  browser: requests.Session) -> None:
    page = _sign_in(browser, live_app, "nobody-at-all")
    assert "Unknown user name or wrong password." in page.text  # the provider's own form
    assert not _signed_in(browser, live_app)


def test_a_user_deactivated_here_is_refused_whatever_the_provider_says(
        live_app: Flask, browser: requests.Session, identity_provider: IdentityProvider,
        person: str) -> None:
    identity_provider.add_account(person, PROVIDER_PASSWORD, ["usm-owners"])
    _sign_in(browser, live_app, person)
    _sign_out(browser, live_app)
    update_user(live_app.extensions["usm_db"], person, display_name=person,
                roles=["service_owner"], active=False, acting_user="ada")
    page = _sign_in(browser, live_app, person)
    assert "Your account is deactivated in this application" in _text(page)
    assert not _signed_in(browser, live_app)


def test_a_callback_for_another_browser_is_refused(
        live_app: Flask, identity_provider: IdentityProvider, person: str) -> None:
    identity_provider.add_account(person, PROVIDER_PASSWORD, ["usm-admins"])
    with requests.Session() as victim, requests.Session() as attacker:
        # The attacker's own sign-in, delivered to someone else's browser (login CSRF): the
        # state is not one that browser sent, so nobody is signed in.
        callback = _callback_url(attacker, live_app, person)
        page = victim.get(callback, timeout=20)
        assert page.url == _url(live_app, "/login")
        assert "could not be completed" in _text(page)
        assert not _signed_in(victim, live_app)


def test_a_changed_state_is_refused(live_app: Flask, browser: requests.Session,
                                    identity_provider: IdentityProvider, person: str) -> None:
    identity_provider.add_account(person, PROVIDER_PASSWORD, ["usm-admins"])
    callback = urlsplit(_callback_url(browser, live_app, person))
    query = dict(parse_qsl(callback.query))
    query["state"] = query["state"][::-1]
    page = browser.get(urlunsplit(callback._replace(query=urlencode(query))), timeout=20)
    assert "could not be completed" in _text(page)
    assert not _signed_in(browser, live_app)


# The service under the callback, on SQLite and PostgreSQL.

GRANTS = [RoleGrant("service_owner", "usm-owners"), RoleGrant("administrator", "usm-admins")]


def _audit(db: Database, target: str) -> list[tuple[str, str | None, dict]]:  # type: ignore[type-arg]
    from sqlalchemy import select

    from usm.audit_log import AuditEntry
    with db.reading() as session:
        return [(e.action, e.actor, e.details) for e in session.scalars(
            select(AuditEntry).where(AuditEntry.target == target).order_by(AuditEntry.id))]


def test_a_provider_user_is_never_a_local_account_of_the_same_name(db: Database) -> None:
    account = ExternalAccount(source=OIDC, external_id="https://id.example.org|4711",
                              username="Ada", display_name="Ada Provider",
                              groups=("usm-owners",))
    user = sign_in_external(db, account, GRANTS, address="192.0.2.7")
    assert (user.username, user.roles, user.display_name) == (
        "ada-2", ["service_owner"], "Ada Provider")
    with db.reading() as session:
        assert set(actor_for(session, "ada").roles) == {"administrator"}  # the local one
    # Renamed and regrouped at the provider: the same user here, by issuer and subject.
    again = sign_in_external(db, replace(account, username="ada.lovelace", display_name="Ada L.",
                                         groups=("usm-admins",)), GRANTS)
    assert (again.id, again.username, again.roles, again.display_name) == (
        user.id, "ada-2", ["administrator"], "Ada L.")
    assert _audit(db, "ada-2") == [
        ("user.created", "ada-2", {"roles": ["service_owner"], "source": "oidc"}),
        ("user.roles_changed", "ada-2", {"before": ["service_owner"], "after": ["administrator"],
                                         "source": "oidc"}),
        ("user.renamed", "ada-2", {"before": "Ada Provider", "after": "Ada L.",
                                   "source": "oidc"})]
    sign_in_external(db, replace(account, display_name="Ada L.", groups=("usm-admins",)), GRANTS)
    assert len(_audit(db, "ada-2")) == 3  # nothing changed, nothing recorded
