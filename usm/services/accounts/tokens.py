"""Personal API tokens: made by their own user, shown once, stored only as a hash, revocable.

A token is ``usm_`` followed by 32 random bytes (URL-safe base64). Because it is a long random
secret, not a password a person chose, a fast hash is the right one: the database keeps the SHA-256
of the token, and a request's token is found through the unique index on that hash, so checking a
token is one indexed equality match on a value an attacker cannot steer (no per-user scan, no
string comparison whose time depends on a guess). The first characters are kept in clear as a
``prefix`` so people can tell their tokens apart in a list.

A token acts with its user's roles at the moment of each request; it stops working when it is
revoked, when it expires, or when its user is deactivated. Deactivating a user or resetting their
password revokes their tokens for good: reactivating them brings none back.

Separation of duties: a token records who made it, and only its own user may make one. Where the
deployment allows it explicitly (``USM_ALLOW_ACT_AS=1``), an administrator may make a token for
another user; every use of it and everything written through it then records both, and it stops
working when the setting is turned off or its maker is no longer an active administrator.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, aliased

from bir.base import utcnow
from bir.errors import FieldError, ValidationFailed
from usm.accounts import ApiToken, User
from usm.services.audit_log import API, CLI, Origin, record
from usm.services.errors import Denied, NotFound
from usm.services.platform import Database

TOKEN_PREFIX = "usm_"
PREFIX_LENGTH = 12  # "usm_" and 8 random characters: enough to tell tokens apart, useless to guess
NAME_MAX = 120
# ``last_used_at`` (and the audit log's "token used") is written at most this often per token, so
# a busy script does not turn every read request into a write (SQLite has a single writer).
LAST_USED_RESOLUTION = timedelta(minutes=1)
ADMINISTRATOR = "administrator"

log = logging.getLogger(__name__)
_MAKER = aliased(User, name="maker")


class TokenNotFound(NotFound):
    """No such token, or not one the caller may see."""


class ActingAsRefused(Denied):
    """Someone tried to make a token for another user where that is not allowed."""


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
    # Who made it: its user, or an administrator acting as them; None when not recorded (a
    # token made before makers were recorded).
    created_by: str | None = None

    def active(self, now: datetime | None = None) -> bool:
        moment = now or utcnow()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > moment)

    @property
    def acting_as(self) -> bool:
        """Made by an administrator for this user, not by the user."""
        return self.created_by is not None and self.created_by != self.username


@dataclass(frozen=True)
class NewToken:
    """A token just made: ``secret`` is the only time the plain token exists outside the caller."""

    token: TokenView
    secret: str


@dataclass(frozen=True)
class TokenHolder:
    """Who a valid token acts for, and who is behind it (the administrator who made it for that
    user, or the user themselves)."""

    username: str
    display_name: str
    roles: frozenset[str]
    token: TokenView

    @property
    def actor(self) -> str:
        """The person acting: the token's maker when they made it for someone else."""
        return self.token.created_by if self.token.acting_as and self.token.created_by \
            else self.username

    @property
    def acting_as(self) -> str | None:
        """The user the actor acts as, when that is someone else."""
        return self.username if self.token.acting_as else None

    def origin(self, address: str | None = None) -> Origin:
        return Origin(self.actor, self.acting_as, address, API)


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _view(token: ApiToken, username: str, created_by: str | None) -> TokenView:
    return TokenView(token.id, username, token.name, token.prefix, token.created_at,
                     token.last_used_at, token.expires_at, token.revoked_at, created_by)


def create_token(db: Database, username: str, name: str, *, expires_at: datetime | None = None,
                 now: datetime | None = None, created_by: str | None = None,
                 allow_act_as: bool = False, origin: Origin | None = None) -> NewToken:
    """Make a token for ``username``, by ``created_by`` (default: the user themselves); the plain
    token is in the result and nowhere else.

    Raises ``ActingAsRefused`` when ``created_by`` is someone else, unless ``allow_act_as`` (the
    deployment's ``USM_ALLOW_ACT_AS``) and they are an active administrator; ``ValidationFailed``
    for an unknown or inactive user, a missing name or a past expiry.
    """
    at = now or utcnow()
    maker_name = created_by or username
    errors = _token_errors(name, expires_at, at)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with db.transaction() as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is None or not user.active:
            errors.append(FieldError("username", f"no active user '{username}'"))
        maker = user if maker_name == username else _maker(session, maker_name, username,
                                                             allow_act_as)
        if errors:
            raise ValidationFailed(errors)
        assert user is not None and maker is not None
        token = ApiToken(user_id=user.id, name=name.strip(), prefix=secret[:PREFIX_LENGTH],
                         token_hash=hash_token(secret), created_at=at, expires_at=expires_at,
                         created_by=maker.id)
        session.add(token)
        session.flush()
        made = _view(token, user.username, maker.username)
        record(session, origin or Origin(maker.username, via=CLI), "token.created",
               f"{user.username}: {made.name} (#{token.id})",
               {"token": token.id, "owner": user.username, "made_by": maker.username,
                "expires_at": expires_at.isoformat() if expires_at else None}, at=at)
        return NewToken(made, secret)


def _token_errors(name: str, expires_at: datetime | None, at: datetime) -> list[FieldError]:
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
    return errors


def _maker(session: Session, maker_name: str, username: str, allow_act_as: bool) -> User:
    """The administrator making a token for ``username``, where that is allowed; else refused."""
    if not allow_act_as:
        raise ActingAsRefused(
            f"{maker_name} may not make a token for {username}: a token is made by its own user "
            "(this deployment does not let administrators act as other users; USM_ALLOW_ACT_AS)")
    maker = session.scalar(select(User).where(User.username == maker_name))
    if maker is None or not maker.active or ADMINISTRATOR not in maker.roles:
        raise ActingAsRefused(f"{maker_name} may not make a token for {username}: only an "
                              "active administrator may make one for another user")
    return maker


def _listed() -> Select[tuple[ApiToken, str, str | None]]:
    return (select(ApiToken, User.username, _MAKER.username)
            .join(User, User.id == ApiToken.user_id)
            .outerjoin(_MAKER, _MAKER.id == ApiToken.created_by))


def list_tokens(db: Database, username: str | None = None) -> list[TokenView]:
    """Tokens of ``username`` (everyone's when None), newest first; revoked ones included."""
    stmt = _listed().order_by(ApiToken.id.desc())
    if username is not None:
        stmt = stmt.where(User.username == username)
    with db.reading() as session:
        return [_view(token, name, maker) for token, name, maker in session.execute(stmt)]


def revoke_token(db: Database, token_id: int, *, owner: str | None = None,
                 now: datetime | None = None, origin: Origin | None = None) -> TokenView:
    """Revoke a token (revoking a revoked token changes nothing). With ``owner``, only that user's
    token is found: anyone else's is ``TokenNotFound``, as if it did not exist."""
    at = now or utcnow()
    with db.transaction() as session:
        row = session.execute(_listed().where(ApiToken.id == token_id)).first()
        if row is None or (owner is not None and row[1] != owner):
            raise TokenNotFound(f"no token {token_id}")
        token, username, maker = row
        if token.revoked_at is None:
            token.revoked_at = at
            record(session, origin or Origin(owner, via=CLI), "token.revoked",
                   f"{username}: {token.name} (#{token.id})", {"token": token.id}, at=at)
        return _view(token, username, maker)


def authenticate_token(db: Database, secret: str, *, now: datetime | None = None,
                       allow_act_as: bool = False, address: str | None = None
                       ) -> TokenHolder | None:
    """The holder of a valid token, or None: unknown, revoked, expired, its user inactive, or
    made by an administrator for another user where that is not allowed (any more), or by one
    who is no longer an active administrator."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 256:
        return None
    at = now or utcnow()
    digest = hash_token(secret)
    with db.reading() as session:
        row = session.execute(
            select(ApiToken, User, _MAKER)
            .join(User, User.id == ApiToken.user_id)
            .outerjoin(_MAKER, _MAKER.id == ApiToken.created_by)
            .where(ApiToken.token_hash == digest)
        ).first()
    if row is None:
        return None
    token, user, maker = row
    # The lookup already matched the hash; comparing again in constant time costs nothing and
    # keeps the check correct whatever collation the database applies.
    if not hmac.compare_digest(token.token_hash, digest):
        return None
    view = _view(token, user.username, maker.username if maker else None)
    if not view.active(at) or not user.active:
        return None
    if view.acting_as and not (allow_act_as and maker.active and ADMINISTRATOR in maker.roles):
        return None
    holder = TokenHolder(user.username, user.display_name, frozenset(user.roles), view)
    if token.last_used_at is None or at - token.last_used_at >= LAST_USED_RESOLUTION:
        _touch(db, holder, at, address)
    return holder


def _touch(db: Database, holder: TokenHolder, at: datetime, address: str | None) -> None:
    """Record when a token was last used, with its row in the audit log; a busy database skips
    both rather than fail the request."""
    token = holder.token
    try:
        with db.transaction() as session:
            session.execute(update(ApiToken).where(ApiToken.id == token.id)
                            .values(last_used_at=at))
            record(session, holder.origin(address), "token.used",
                   f"{token.username}: {token.name} (#{token.id})", {"token": token.id}, at=at)
    except OperationalError as exc:
        log.warning("could not record the use of API token %s: %s", token.id, exc.orig)


__all__ = [
    "ActingAsRefused", "NewToken", "TokenHolder", "TokenNotFound", "TokenView",
    "authenticate_token", "create_token", "hash_token", "list_tokens", "revoke_token",
]
