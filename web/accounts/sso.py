"""Single sign-on with OpenID Connect: the "Sign in with ..." button and the provider's answer.

The authorisation code flow with state, nonce and PKCE (S256), through Authlib's Flask client:
the state, nonce and code verifier wait in the session between the two requests, the ID token's
signature, issuer, audience, expiry and nonce are checked, and the user's groups come from the
groups claim of the ID token (or of the userinfo answer when the ID token has none). The service
makes or finds the user and sets their roles from their groups; a sign-in then ends, like every
other, in ``begin_session``. LDAP needs no screen of its own: it signs in on the password form.
"""

from __future__ import annotations

import re
from typing import Any

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app, flash, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from usm.services import accounts
from usm.services.accounts import SingleSignOn
from web.accounts import login_guard
from web.accounts.blueprint import bp
from web.accounts.sign_in import begin_session, local_target
from web.support.context import SSO_EXTENSION, database, single_sign_on

_CLIENT_EXTENSION = "usm_oidc_client"
_NEXT = "_sso_next"  # where to go after signing in, kept across the trip to the provider
_ERROR_CODE = re.compile(r"^[a-z_]{1,40}$")
TIMEOUT_SECONDS = 10


def init_app(app: Flask, settings: SingleSignOn) -> None:
    """Bind the single sign-on settings to ``app``; with OpenID Connect among them, its client
    (the provider's metadata is fetched at the first sign-in, so the app starts without it)."""
    app.extensions[SSO_EXTENSION] = settings
    if settings.oidc is None:
        return
    oauth = OAuth(app)
    app.extensions[_CLIENT_EXTENSION] = oauth.register(
        "oidc", client_id=settings.oidc.client_id, client_secret=settings.oidc.client_secret,
        server_metadata_url=f"{settings.oidc.issuer}/.well-known/openid-configuration",
        client_kwargs={"scope": settings.oidc.scopes, "code_challenge_method": "S256",
                       "default_timeout": TIMEOUT_SECONDS})


@bp.context_processor
def _sign_in_button() -> dict[str, Any]:
    return {"oidc_provider": _provider_name() if single_sign_on().oidc else None}


def _provider_name() -> str:
    """The identity provider as the sign-in page names it."""
    oidc = single_sign_on().oidc
    return oidc.name if oidc and oidc.name else _("single sign-on")


@bp.get("/login/oidc")
def oidc_login() -> ResponseReturnValue:
    target = local_target(request.args.get("next"))
    client = current_app.extensions.get(_CLIENT_EXTENSION)
    if client is None:
        return _back_to_sign_in(_("Single sign-on is not set up here: sign in with your user "
                                  "name and password."))
    if current_user.is_authenticated:
        return redirect(target or url_for("home.index"))
    session[_NEXT] = target
    try:
        return client.authorize_redirect(_redirect_uri())
    except (AuthlibBaseError, requests.RequestException, ValueError):
        return _unreachable()


@bp.get("/login/oidc/callback")
def oidc_callback() -> ResponseReturnValue:
    client = current_app.extensions.get(_CLIENT_EXTENSION)
    oidc = single_sign_on().oidc
    if client is None or oidc is None:
        return _back_to_sign_in(_("Single sign-on is not set up here: sign in with your user "
                                  "name and password."))
    provider = _provider_name()
    target = local_target(session.pop(_NEXT, None))
    error = request.args.get("error")
    if error:
        # Only a well-formed code is shown: the rest of the query is anybody's text.
        return _back_to_sign_in(_("%(provider)s did not sign you in (%(reason)s).",
                                  provider=provider,
                                  reason=error if _ERROR_CODE.match(error) else "error"))
    try:
        token = client.authorize_access_token()
        claims = _claims(client, token, oidc.groups_claim)
    except AuthlibBaseError:  # a state not this browser's, an expired code, a bad ID token
        return _back_to_sign_in(_("The sign-in with %(provider)s could not be completed: it "
                                  "took too long or was not started in this browser. Try "
                                  "again.", provider=provider))
    except (requests.RequestException, ValueError):
        return _unreachable()
    if claims is None:
        return _back_to_sign_in(_("%(provider)s did not say who you are, so you are not "
                                  "signed in.", provider=provider))
    try:
        user = accounts.sign_in_external(
            database(), _account(claims, oidc.issuer, oidc.groups_claim),
            single_sign_on().role_map, address=login_guard.client_address())
    except accounts.NoMappedRole:
        return _back_to_sign_in(_("%(provider)s knows you, but none of your groups there gives "
                                  "a role in this application: ask your administrator to add "
                                  "you to one.", provider=provider))
    except accounts.AccountDeactivated:
        return _back_to_sign_in(_("Your account is deactivated in this application: ask an "
                                  "administrator."))
    begin_session(user)
    return redirect(target or url_for("home.index"))


def _redirect_uri() -> str:
    oidc = single_sign_on().oidc
    return (oidc.redirect_uri if oidc and oidc.redirect_uri
            else url_for(".oidc_callback", _external=True))


def _claims(client: Any, token: dict[str, Any], groups_claim: str) -> dict[str, Any] | None:
    """The ID token's claims, with the groups from the userinfo endpoint when the ID token does
    not carry them (a provider may keep them out of it); None without an ID token."""
    claims = token.get("userinfo")
    if not claims or not claims.get("sub"):
        return None
    claims = dict(claims)
    if groups_claim not in claims:
        extra = dict(client.userinfo(token=token))
        if extra.get("sub") == claims["sub"]:  # OpenID Connect Core 5.3.2: else not this user
            claims = {**extra, **claims}
    return claims


def _account(claims: dict[str, Any], issuer: str, groups_claim: str) -> accounts.ExternalAccount:
    groups = claims.get(groups_claim) or []
    if isinstance(groups, str):
        groups = [groups]
    email = claims.get("email") if isinstance(claims.get("email"), str) else ""
    username = str(claims.get("preferred_username") or email.partition("@")[0] or "user")
    return accounts.ExternalAccount(
        source=accounts.OIDC, external_id=f"{issuer}|{claims['sub']}", username=username,
        display_name=str(claims.get("name") or username),
        groups=tuple(g for g in groups if isinstance(g, str)))


def _unreachable() -> ResponseReturnValue:
    return _back_to_sign_in(_("%(provider)s cannot be reached now: try again later, or sign in "
                              "with your user name and password.", provider=_provider_name()))


def _back_to_sign_in(message: str) -> ResponseReturnValue:
    flash(message, "error")
    return redirect(url_for(".login"))
