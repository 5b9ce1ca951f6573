"""Personal API tokens: made for one user, shown once, stored only as a hash, revocable.

A token is ``usm_`` followed by 32 random bytes (URL-safe base64). Because it is a long random
secret, not a password a person chose, a fast hash is the right one: the database keeps the SHA-256
of the token, and a request's token is found through the unique index on that hash, so checking a
token is one indexed equality match on a value an attacker cannot steer (no per-user scan, no
string comparison whose time depends on a guess). The first characters are kept in clear as a
``prefix`` so people can tell their tokens apart in a list.

A token acts with its user's roles at the moment of each request; it stops working when it is
revoked, when it expires, or when its user is deactivated.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from bir.base import utcnow
from bir.errors import FieldError, ValidationFailed
from usm.accounts import ApiToken, User
from usm.services.errors import NotFound
from usm.services.platform import Database

TOKEN_PREFIX = "usm_"
PREFIX_LENGTH = 12  # "usm_" and 8 random characters: enough to tell tokens apart, useless to guess
NAME_MAX = 120
# ``last_used_at`` is written at most this often per token, so a busy script does not turn every
# read request into a write (SQLite has a single writer).
LAST_USED_RESOLUTION = timedelta(minutes=1)

log = logging.getLogger(__name__)


class TokenNotFound(NotFound):
    """No such token, or not one the caller may see."""


@dataclass(frozen=True)
class TokenView:
    id: int
    username: str
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None

    def active(self, now: datetime | None = None) -> bool:
        moment = now or utcnow()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > moment)


@dataclass(frozen=True)
class NewToken:
    """A token just made: ``secret`` is the only time the plain token exists outside the caller."""

    token: TokenView
    secret: str


@dataclass(frozen=True)
class TokenHolder:
    """Who a valid token acts for."""

    username: str
    display_name: str
    roles: frozenset[str]
    token: TokenView


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _view(token: ApiToken, username: str) -> TokenView:
    return TokenView(token.id, username, token.name, token.prefix, token.created_at,
                     token.last_used_at, token.expires_at, token.revoked_at)


def create_token(db: Database, username: str, name: str, *, expires_at: datetime | None = None,
                 now: datetime | None = None) -> NewToken:
    """Make a token for ``username``; the plain token is in the result and nowhere else.

    Raises ``ValidationFailed`` for an unknown or inactive user, a missing name or a past expiry.
    """
    at = now or utcnow()
    errors = []
    clean_name = (name or "").strip()
    if not clean_name:
        errors.append(FieldError("name", "give the token a name (what it is for)"))
    elif len(clean_name) > NAME_MAX:
        errors.append(FieldError("name", f"must be at most {NAME_MAX} characters"))
    if expires_at is not None:
        if expires_at.tzinfo is None:
            errors.append(FieldError("expires_at", "give a time zone (e.g. ...Z)"))
        elif expires_at <= at:
            errors.append(FieldError("expires_at", "must be in the future"))
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with db.transaction() as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is None or not user.active:
            errors.append(FieldError("username", f"no active user '{username}'"))
        if errors:
            raise ValidationFailed(errors)
        assert user is not None
        token = ApiToken(user_id=user.id, name=clean_name, prefix=secret[:PREFIX_LENGTH],
                         token_hash=hash_token(secret), created_at=at, expires_at=expires_at)
        session.add(token)
        session.flush()
        return NewToken(_view(token, user.username), secret)


def list_tokens(db: Database, username: str | None = None) -> list[TokenView]:
    """Tokens of ``username`` (everyone's when None), newest first; revoked ones included."""
    stmt = (select(ApiToken, User.username).join(User, User.id == ApiToken.user_id)
            .order_by(ApiToken.id.desc()))
    if username is not None:
        stmt = stmt.where(User.username == username)
    with db.reading() as session:
        return [_view(token, name) for token, name in session.execute(stmt)]


def revoke_token(db: Database, token_id: int, *, owner: str | None = None,
                 now: datetime | None = None) -> TokenView:
    """Revoke a token (revoking a revoked token changes nothing). With ``owner``, only that user's
    token is found: anyone else's is ``TokenNotFound``, as if it did not exist."""
    with db.transaction() as session:
        row = session.execute(
            select(ApiToken, User.username).join(User, User.id == ApiToken.user_id)
            .where(ApiToken.id == token_id)
        ).first()
        if row is None or (owner is not None and row.username != owner):
            raise TokenNotFound(f"no token {token_id}")
        token, username = row
        if token.revoked_at is None:
            token.revoked_at = now or utcnow()
        return _view(token, username)


def authenticate_token(db: Database, secret: str, *, now: datetime | None = None
                       ) -> TokenHolder | None:
    """The holder of a valid token, or None: unknown, revoked, expired, or its user inactive."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 256:
        return None
    at = now or utcnow()
    digest = hash_token(secret)
    with db.reading() as session:
        row = session.execute(
            select(ApiToken, User).join(User, User.id == ApiToken.user_id)
            .where(ApiToken.token_hash == digest)
        ).first()
    if row is None:
        return None
    token, user = row
    # The lookup already matched the hash; comparing again in constant time costs nothing and
    # keeps the check correct whatever collation the database applies.
    if not hmac.compare_digest(token.token_hash, digest):
        return None
    view = _view(token, user.username)
    if not view.active(at) or not user.active:
        return None
    if token.last_used_at is None or at - token.last_used_at >= LAST_USED_RESOLUTION:
        _touch(db, token.id, at)
    return TokenHolder(user.username, user.display_name, frozenset(user.roles), view)


def _touch(db: Database, token_id: int, at: datetime) -> None:
    """Record when a token was last used; a busy database skips it rather than fail the request."""
    try:
        with db.transaction() as session:
            session.execute(update(ApiToken).where(ApiToken.id == token_id)
                            .values(last_used_at=at))
    except OperationalError as exc:
        log.warning("could not record the use of API token %s: %s", token_id, exc.orig)


__all__ = [
    "NewToken", "TokenHolder", "TokenNotFound", "TokenView", "authenticate_token", "create_token",
    "hash_token", "list_tokens", "revoke_token",
]
