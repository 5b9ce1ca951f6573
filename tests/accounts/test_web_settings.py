"""Personal API tokens from the web: made by the user, shown once, usable at once, revocable;
another user's token can be neither seen nor revoked."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from tests.support.web import login, post_form
from usm.services import accounts
from usm.services.platform import Database

SECRET = re.compile(r'<code id="new-token">(usm_[^<]+)</code>')


def _make(client: FlaskClient, name: str, expires_on: str = "") -> tuple[int, str]:
    response = post_form(client, "/account/tokens", "/account/tokens",
                         {"name": name, "expires_on": expires_on})
    return response.status_code, response.get_data(as_text=True)


def test_token_is_shown_once_and_works_until_revoked(web_client: FlaskClient,
                                                     web_db: Database) -> None:
    login(web_client, "sam")
    assert "You have no API tokens" in web_client.get("/account/tokens").get_data(as_text=True)
    status, html = _make(web_client, "monthly cost script", "2099-01-31")
    assert status == 201
    secret = SECRET.search(html).group(1)
    assert "Copy it now: it is not shown again." in html
    assert "monthly cost script" in html and "2099-01-31 00:00 UTC" in html

    me = web_client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 200 and me.get_json()["username"] == "sam"
    listing = web_client.get("/account/tokens").get_data(as_text=True)
    assert secret not in listing and secret[:12] in listing  # only the prefix is ever shown again

    token_id = accounts.list_tokens(web_db, "sam")[0].id
    revoked = post_form(web_client, "/account/tokens", f"/account/tokens/{token_id}/revoke", {})
    assert revoked.status_code == 302
    page = web_client.get("/account/tokens").get_data(as_text=True)
    assert "is revoked: it stops working at once" in page and ">revoked<" in page
    refused = web_client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert refused.status_code == 401


def test_bad_input_is_named_and_nothing_is_made(web_client: FlaskClient, web_db: Database) -> None:
    login(web_client, "carol")
    status, html = _make(web_client, "   ")
    assert status == 400 and "give the token a name (what it is for)" in html
    status, html = _make(web_client, "x", "2001-01-01")
    assert status == 400 and "must be in the future" in html
    status, html = _make(web_client, "x", "not a date")
    assert status == 400 and "Not a valid date value." in html
    assert accounts.list_tokens(web_db, "carol") == []


def test_revoke_needs_csrf_and_cannot_reach_another_users_token(web_client: FlaskClient,
                                                                web_db: Database) -> None:
    theirs = accounts.create_token(web_db, "carol", "carol's script")
    login(web_client, "sam")
    assert "carol's script" not in web_client.get("/account/tokens").get_data(as_text=True)
    probe = post_form(web_client, "/account/tokens", f"/account/tokens/{theirs.token.id}/revoke",
                      {})
    assert probe.status_code == 404
    forged = web_client.post(f"/account/tokens/{theirs.token.id}/revoke")
    assert forged.status_code == 400  # no CSRF token: refused before anything is looked up
    assert accounts.list_tokens(web_db, "carol")[0].revoked_at is None
    assert accounts.authenticate_token(web_db, theirs.secret) is not None


def test_the_page_needs_a_signed_in_user(web_client: FlaskClient) -> None:
    response = web_client.get("/account/tokens")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
