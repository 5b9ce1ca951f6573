"""Sign-in sessions and the sign-in throttle as the web sees them.

The server keeps both (``usm.services.accounts``): a session is a row in the database and the
session cookie carries only its random secret, so ending a session (sign-out, sign out
everywhere, deactivation, a password reset) ends it in every worker process on every host at
once; failed sign-ins are counted in the database, so every worker shares one limit. Flask's
signed cookie still carries what is not about who is signed in: the CSRF token, the language
picked on the sign-in page, flashed messages.
"""

from __future__ import annotations

from flask import request, session
from flask_login import UserMixin

from usm.services import accounts
from usm.services.accounts import FAILURE_LIMIT, FAILURE_WINDOW, SESSION_LIFETIME
from web.support.context import database

SESSION_SECRET = "_sid"
# What flask-login keeps in the cookie about the signed-in user; dropped with an ended session.
_SIGNED_IN_KEYS = (SESSION_SECRET, "_user_id", "_fresh", "_id")

__all__ = ["FAILURE_LIMIT", "FAILURE_WINDOW", "SESSION_LIFETIME", "SESSION_SECRET",
           "client_address", "current_secret", "end_session", "signed_in_user", "start_session",
           "throttle"]


def client_address() -> str:
    """The client's address (the proxy's ``X-Forwarded-For`` where ``USM_TRUSTED_PROXIES`` says
    a proxy sets it)."""
    return request.remote_addr or "unknown"


class SignInThrottle:
    """Failed sign-ins per user name and client address, counted in the database."""

    def claim(self, username: str, address: str) -> int:
        """0 when this attempt may go ahead (it counts until a sign-in succeeds), else the
        seconds to wait."""
        return accounts.claim_sign_in_attempt(database(), username, address)

    def failed(self, username: str, address: str) -> None:
        accounts.sign_in_failed(database(), username, address)

    def succeeded(self, username: str, address: str) -> None:
        accounts.sign_in_succeeded(database(), username, address)


def throttle() -> SignInThrottle:
    return SignInThrottle()


def start_session(user: UserMixin) -> None:
    """Open a server-side session for ``user`` and put its secret in the (just cleared) cookie."""
    session[SESSION_SECRET] = accounts.open_session(
        database(), int(user.get_id()), address=client_address(),
        user_agent=request.user_agent.string)


def current_secret() -> str | None:
    secret = session.get(SESSION_SECRET)
    return secret if isinstance(secret, str) else None


def end_session() -> None:
    """End the cookie's session on the server and clear the cookie, at sign-out."""
    accounts.end_session(database(), current_secret(), address=client_address())
    session.clear()


def signed_in_user(user_id: str) -> UserMixin | None:
    """Flask-login's user loader: the user of the cookie's session while the server says it is
    live (one indexed read); an ended one signs nobody in and is dropped from the cookie."""
    user = accounts.session_user(database(), current_secret())
    if user is None or user.get_id() != user_id:
        for key in _SIGNED_IN_KEYS:
            session.pop(key, None)
        return None
    return user
