"""Users change their own password: the current one is checked like a sign-in (and throttled
with it), the new one follows the administrators' rules, every other session ends and this one
stays, the audit log records it, and directory or identity-provider users are sent there."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.conftest import PASSWORD
from tests.support.web import login, post_form
from usm.accounts import OIDC, User
from usm.audit_log import AuditEntry
from usm.services import accounts
from usm.services.accounts import (
    ExternalAccount,
    PasswordElsewhere,
    TooManyAttempts,
    ValidationFailed,
    change_own_password,
    sign_in_external,
)
from usm.services.audit_log import WEB, Origin
from usm.services.platform import Database
from usm.sso_config import RoleGrant

NEW = "a-much-longer-secret"
HERE = Origin("carol", address="192.0.2.10", via=WEB)


def _user_id(db: Database, username: str) -> int:
    with db.reading() as session:
        found = session.scalar(select(User.id).where(User.username == username))
    assert found is not None
    return found


def _fields(exc: pytest.ExceptionInfo[ValidationFailed]) -> dict[str, str]:
    return {e.field: e.message for e in exc.value.errors}


def _audit(db: Database, action: str) -> list[AuditEntry]:
    with db.reading() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


# -- the service, on both databases ---------------------------------------------------------------

def test_a_new_password_ends_every_other_session_and_keeps_this_one(db: Database) -> None:
    carol = _user_id(db, "carol")
    here, laptop, phone = (accounts.open_session(db, carol) for _ in range(3))
    sam = accounts.open_session(db, _user_id(db, "sam"))

    ended = change_own_password(db, "carol", PASSWORD, NEW, NEW, keep_session=here, origin=HERE)

    assert ended == 2
    assert accounts.session_user(db, here) is not None
    assert accounts.session_user(db, laptop) is None and accounts.session_user(db, phone) is None
    assert accounts.session_user(db, sam) is not None  # someone else's: untouched
    assert accounts.authenticate(db, "carol", NEW) is not None
    assert accounts.authenticate(db, "carol", PASSWORD) is None
    (entry,) = _audit(db, "user.password_changed")
    assert (entry.actor, entry.target, entry.details, entry.address, entry.via) == (
        "carol", "carol", {"sessions_ended": 2}, "192.0.2.10", "web")


def test_a_wrong_current_password_is_refused_by_name_and_counts_as_a_failed_sign_in(
        db: Database) -> None:
    with pytest.raises(ValidationFailed) as refused:
        change_own_password(db, "carol", "not-my-password", NEW, NEW, keep_session=None,
                            origin=HERE)
    assert _fields(refused) == {"current_password": "is not your current password"}
    assert accounts.authenticate(db, "carol", PASSWORD) is not None  # unchanged
    assert [e.target for e in _audit(db, "sign_in.failed")] == ["carol"]
    assert _audit(db, "user.password_changed") == []


def test_guessing_the_current_password_is_throttled_like_the_sign_in(db: Database) -> None:
    for _ in range(accounts.FAILURE_LIMIT):
        with pytest.raises(ValidationFailed):
            change_own_password(db, "carol", "guess", NEW, NEW, keep_session=None, origin=HERE)
    with pytest.raises(TooManyAttempts) as throttled:
        # Even the right password waits now, as on the sign-in page.
        change_own_password(db, "carol", PASSWORD, NEW, NEW, keep_session=None, origin=HERE)
    assert throttled.value.wait_seconds > 0
    assert accounts.authenticate(db, "carol", NEW) is None
    assert len(_audit(db, "sign_in.throttled")) == 1
    # Another address is not held back by these guesses.
    elsewhere = Origin("carol", address="198.51.100.4", via=WEB)
    assert change_own_password(db, "carol", PASSWORD, NEW, NEW, keep_session=None,
                               origin=elsewhere) == 0


@pytest.mark.parametrize(("new", "repeated", "field", "message"), [
    ("short", "short", "new_password", "must be at least 10 characters"),
    (NEW, NEW + "x", "confirm", "does not match the new password"),
    (PASSWORD, PASSWORD, "new_password", "must differ from your current password"),
])
def test_a_weak_or_mistyped_new_password_is_refused_naming_the_field(
        db: Database, new: str, repeated: str, field: str, message: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        change_own_password(db, "carol", PASSWORD, new, repeated, keep_session=None, origin=HERE)
    assert _fields(refused) == {field: message}
    assert accounts.authenticate(db, "carol", PASSWORD) is not None


def test_an_empty_current_password_is_refused_without_counting_an_attempt(db: Database) -> None:
    with pytest.raises(ValidationFailed) as refused:
        change_own_password(db, "carol", "", NEW, NEW, keep_session=None, origin=HERE)
    assert _fields(refused) == {"current_password": "give your current password"}
    assert _audit(db, "sign_in.failed") == []


def test_a_user_of_the_identity_provider_is_sent_there(db: Database) -> None:
    account = ExternalAccount(source=OIDC, external_id="https://id.example.org|99",
                              username="olaf", display_name="Olaf", groups=("usm-owners",))
    sign_in_external(db, account, [RoleGrant("service_owner", "usm-owners")])
    with pytest.raises(PasswordElsewhere, match="identity provider"):
        change_own_password(db, "olaf", "anything", NEW, NEW, keep_session=None,
                            origin=Origin("olaf", via=WEB))


# -- the page ---------------------------------------------------------------------------------------

def _change(client: FlaskClient, current: str, new: str, repeated: str):  # type: ignore[no-untyped-def]
    return post_form(client, "/account/password", "/account/password", {
        "current_password": current, "new_password": new, "confirm": repeated})


def test_the_page_changes_the_password_and_signs_out_the_other_browsers(
        web_app, web_db: Database) -> None:  # type: ignore[no-untyped-def]
    here, there = web_app.test_client(), web_app.test_client()
    assert login(here, "carol").status_code == 302
    assert login(there, "carol").status_code == 302
    account = here.get("/account/tokens").get_data(as_text=True)
    assert 'href="/account/password"' in account

    page = here.get("/account/password").get_data(as_text=True)
    assert 'autocomplete="current-password"' in page and 'name="csrf_token"' in page
    done = _change(here, PASSWORD, NEW, NEW)
    assert done.status_code == 302 and done.headers["Location"].endswith("/account/tokens")
    shown = here.get("/account/tokens").get_data(as_text=True)
    assert "Your password is changed. 1 other session of yours has ended" in shown
    assert there.get("/").status_code == 302  # the other browser is signed out
    assert here.get("/").status_code == 200  # this one stays
    assert accounts.authenticate(web_db, "carol", NEW) is not None


def test_the_page_names_the_field_of_each_refusal(web_client: FlaskClient) -> None:
    login(web_client, "carol")
    wrong = _change(web_client, "not-my-password", NEW, NEW)
    assert wrong.status_code == 400
    assert 'id="current_password-error">This is not your current password.' in wrong.get_data(
        as_text=True)
    weak = _change(web_client, PASSWORD, "short", "shorter")
    html = weak.get_data(as_text=True)
    assert weak.status_code == 400
    assert 'id="new_password-error">Use at least 10 characters.' in html
    assert 'id="confirm-error">Does not match the new password.' in html
    assert 'aria-invalid="true"' in html


def test_the_page_is_throttled_after_too_many_wrong_passwords(web_client: FlaskClient) -> None:
    login(web_client, "carol")
    for _ in range(accounts.FAILURE_LIMIT):
        assert _change(web_client, "guess", NEW, NEW).status_code == 400
    throttled = _change(web_client, PASSWORD, NEW, NEW)
    assert throttled.status_code == 429
    assert "Too many wrong passwords: try again in 15 minutes." in throttled.get_data(
        as_text=True)


def test_a_single_sign_on_user_is_told_where_to_change_it(web_app) -> None:  # type: ignore[no-untyped-def]
    db = web_app.extensions["usm_db"]
    account = ExternalAccount(source=OIDC, external_id="https://id.example.org|7",
                              username="olaf", display_name="Olaf", groups=("usm-owners",))
    user = sign_in_external(db, account, [RoleGrant("service_owner", "usm-owners")])
    client = web_app.test_client()
    with client.session_transaction() as cookie:  # signed in as the provider's sign-in does
        cookie["_sid"] = accounts.open_session(db, user.id)
        cookie["_user_id"] = str(user.id)

    page = client.get("/account/password").get_data(as_text=True)
    assert "change it at the identity provider" in page and 'name="new_password"' not in page
    account_page = client.get("/account/tokens").get_data(as_text=True)
    assert "You sign in through single sign-on" in account_page
    assert 'href="/account/password"' not in account_page
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', account_page)
    assert token
    refused = client.post("/account/password", data={
        "csrf_token": token.group(1), "current_password": "x", "new_password": NEW,
        "confirm": NEW})
    assert refused.status_code == 409
    assert _audit(db, "user.password_changed") == []


def test_the_form_needs_its_csrf_token_and_a_signed_in_user(web_app) -> None:  # type: ignore[no-untyped-def]
    anonymous = web_app.test_client()
    assert anonymous.get("/account/password").status_code == 302
    client = web_app.test_client()
    login(client, "carol")
    forged = client.post("/account/password", data={
        "current_password": PASSWORD, "new_password": NEW, "confirm": NEW})
    assert forged.status_code == 400
    assert accounts.authenticate(web_app.extensions["usm_db"], "carol", PASSWORD) is not None
