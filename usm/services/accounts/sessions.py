"""Sign-in sessions kept on the server: opened at sign-in, checked at every request, ended at
sign-out, by "sign out everywhere", and for every session of a user who is deactivated or whose
password is reset.

The browser's cookie holds a random secret; the database keeps only its SHA-256 (a long random
secret needs no slow hash, as with API tokens), so a copy of the table opens no session. A session
lives at most ``SESSION_LIFETIME`` from its sign-in, however active it is. Every worker process on
every host reads the same rows, so ending a session ends it everywhere at once.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import OperationalError

from bir.base import utcnow
from usm.accounts import User
from usm.services.accounts.revocation import revoke_sessions
from usm.services.accounts.users import UserNotFound
from usm.services.audit_log import WEB, Origin, record
from usm.services.platform import Database
from usm.sessions import SignInSession

SESSION_LIFETIME = timedelta(hours=12)
# ``last_seen_at`` is written at most this often per session, so reading pages stays reading.
LAST_SEEN_RESOLUTION = timedelta(minutes=1)
# Ended sessions are kept this long after they expire (the audit log keeps their history).
KEPT_AFTER_EXPIRY = timedelta(days=1)
SECRET_MAX = 128
AGENT_MAX = 200
ADDRESS_MAX = 64

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SessionView:
    """A live session as its user sees it in a list."""

    id: int
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    address: str | None
    user_agent: str | None
    current: bool  # the session of the browser asking


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def open_session(db: Database, user_id: int, *, address: str | None = None,
                 user_agent: str | None = None, now: datetime | None = None) -> str:
    """Open a session for the active user ``user_id`` and record the sign-in; the result is the
    secret for the cookie (it exists nowhere else)."""
    at = now or utcnow()
    secret = secrets.token_urlsafe(32)
    address = address[:ADDRESS_MAX] if address else None
    with db.transaction() as session:
        user = session.get(User, user_id)
        if user is None or not user.active:
            raise UserNotFound(f"no active user {user_id}")
        session.execute(delete(SignInSession).where(
            SignInSession.expires_at < at - KEPT_AFTER_EXPIRY))
        session.add(SignInSession(
            secret_hash=_digest(secret), user_id=user.id, created_at=at, last_seen_at=at,
            expires_at=at + SESSION_LIFETIME, address=address,
            user_agent=(user_agent or "")[:AGENT_MAX] or None))
        record(session, Origin(user.username, address=address, via=WEB), "sign_in",
               user.username, {"source": user.source}, at=at)
    return secret


def session_user(db: Database, secret: str | None, *, now: datetime | None = None
                 ) -> User | None:
    """The active user of the live session ``secret`` names, or None: unknown, ended, expired,
    or its user deactivated. One indexed read; the last-seen time is written at most once a
    minute."""
    if not secret or len(secret) > SECRET_MAX:
        return None
    at = now or utcnow()
    with db.reading() as session:
        row = session.execute(
            select(User, SignInSession.id, SignInSession.last_seen_at)
            .join(SignInSession, SignInSession.user_id == User.id)
            .where(SignInSession.secret_hash == _digest(secret),
                   SignInSession.revoked_at.is_(None), SignInSession.expires_at > at,
                   User.active.is_(True))
        ).first()
    if row is None:
        return None
    user, session_id, last_seen = row
    if at - last_seen >= LAST_SEEN_RESOLUTION:
        _touch(db, session_id, at)
    return user


def _touch(db: Database, session_id: int, at: datetime) -> None:
    """Record when a session was last seen; a busy database skips it rather than fail the page."""
    try:
        with db.transaction() as session:
            session.execute(update(SignInSession).where(SignInSession.id == session_id)
                            .values(last_seen_at=at))
    except OperationalError as exc:
        log.warning("could not record the use of session %s: %s", session_id, exc.orig)


def end_session(db: Database, secret: str | None, *, address: str | None = None,
                now: datetime | None = None) -> None:
    """Sign out: end the session ``secret`` names (an ended or unknown one changes nothing)."""
    if not secret or len(secret) > SECRET_MAX:
        return
    at = now or utcnow()
    with db.transaction() as session:
        row = session.execute(
            select(SignInSession, User.username).join(User, User.id == SignInSession.user_id)
            .where(SignInSession.secret_hash == _digest(secret),
                   SignInSession.revoked_at.is_(None))
        ).first()
        if row is None:
            return
        ended, username = row
        ended.revoked_at = at
        record(session, Origin(username, address=address, via=WEB), "sign_out", username, at=at)


def end_all_sessions(db: Database, username: str, origin: Origin, *,
                     now: datetime | None = None) -> int:
    """"Sign out everywhere": end every live session of ``username`` (the user's own request, or
    an administrator's), on every worker at once; the number ended. API tokens are not touched."""
    at = now or utcnow()
    with db.transaction() as session:
        user_id = session.scalar(select(User.id).where(User.username == username))
        if user_id is None:
            raise UserNotFound(f"there is no user {username}")
        ended = revoke_sessions(session, user_id, at)
        record(session, origin, "sessions.ended", username, {"sessions": ended}, at=at)
    return ended


def live_sessions(db: Database, username: str, *, current_secret: str | None = None,
                  now: datetime | None = None) -> list[SessionView]:
    """The sessions of ``username`` that still work, the most recently seen first; the one of
    ``current_secret`` is marked ``current``."""
    at = now or utcnow()
    current = _digest(current_secret) if current_secret else None
    with db.reading() as session:
        rows = session.scalars(
            select(SignInSession).join(User, User.id == SignInSession.user_id)
            .where(User.username == username, SignInSession.revoked_at.is_(None),
                   SignInSession.expires_at > at)
            .order_by(SignInSession.last_seen_at.desc(), SignInSession.id.desc()))
        return [SessionView(s.id, s.created_at, s.last_seen_at, s.expires_at, s.address,
                            s.user_agent, s.secret_hash == current) for s in rows]


__all__ = [
    "LAST_SEEN_RESOLUTION", "SESSION_LIFETIME", "SessionView", "end_all_sessions", "end_session",
    "live_sessions", "open_session", "session_user",
]
