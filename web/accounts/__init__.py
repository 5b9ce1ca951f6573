"""People's access: signing in and out (with a password, or with single sign-on), a user's own
settings and API tokens, and administrators' screens for users and their roles.

Each module of this package adds its routes to ``bp``; the imports below register them."""

from __future__ import annotations

from web.accounts.blueprint import bp

__all__ = ["bp"]

from web.accounts import password, settings, sign_in, sso, users  # noqa: E402,F401
