"""Throttling of failed sign-ins, counted in the database so that every worker process on every
host shares one count.

At most ``FAILURE_LIMIT`` attempts per user name and client address within
``FAILURE_WINDOW``: an attempt is claimed (counted) before the password is checked, in a
transaction that first counts the recent ones, so even attempts sent at the same moment to
different workers cannot pass the limit together. A successful sign-in forgets the attempts of
its user name and address; the others leave the window after 15 minutes and are then deleted.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from bir.base import utcnow
from usm.services.audit_log import WEB, Origin, record
from usm.services.platform import Database
from usm.sessions import SignInAttempt

FAILURE_LIMIT = 5
FAILURE_WINDOW = timedelta(minutes=15)
NAME_MAX = ADDRESS_MAX = 64


def _key(username: str, address: str) -> tuple[str, str]:
    return username.strip().lower()[:NAME_MAX], (address or "unknown")[:ADDRESS_MAX]


def claim_sign_in_attempt(db: Database, username: str, address: str, *,
                          now: datetime | None = None) -> int:
    """0 when this user name may try a password from ``address`` now (the attempt is then
    counted until a sign-in succeeds); otherwise the seconds until they may, and the refusal is
    recorded in the audit log."""
    at = now or utcnow()
    name, place = _key(username, address)
    cutoff = at - FAILURE_WINDOW
    with db.transaction() as session:
        _one_at_a_time(session, name, place)
        session.execute(delete(SignInAttempt).where(SignInAttempt.at <= cutoff))
        recent = list(session.scalars(
            select(SignInAttempt.at)
            .where(SignInAttempt.username == name, SignInAttempt.address == place,
                   SignInAttempt.at > cutoff)
            .order_by(SignInAttempt.at.desc()).limit(FAILURE_LIMIT)))
        if len(recent) >= FAILURE_LIMIT:
            wait = max(1, int((recent[-1] + FAILURE_WINDOW - at).total_seconds()) + 1)
            record(session, Origin(username.strip()[:NAME_MAX], address=place, via=WEB),
                   "sign_in.throttled", name, {"wait_seconds": wait}, at=at)
            return wait
        session.add(SignInAttempt(username=name, address=place, at=at))
    return 0


def sign_in_failed(db: Database, username: str, address: str, *,
                   now: datetime | None = None) -> None:
    """Record a failed sign-in (its attempt, claimed before, keeps counting)."""
    name, place = _key(username, address)
    with db.transaction() as session:
        record(session, Origin(username.strip()[:NAME_MAX], address=place, via=WEB),
               "sign_in.failed", name, at=now)


def sign_in_succeeded(db: Database, username: str, address: str) -> None:
    """Forget the attempts of this user name from ``address``: a successful sign-in clears them."""
    name, place = _key(username, address)
    with db.transaction() as session:
        session.execute(delete(SignInAttempt).where(SignInAttempt.username == name,
                                                    SignInAttempt.address == place))


def _one_at_a_time(session: Session, name: str, place: str) -> None:
    """Serialise the count and the claim of one user name and address. SQLite's write
    transactions already take the single write lock when they begin; PostgreSQL takes a
    transaction-scoped advisory lock on the pair."""
    if session.get_bind().dialect.name != "postgresql":
        return
    digest = hashlib.sha256(f"usm-sign-in\x00{name}\x00{place}".encode()).digest()
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                    {"key": int.from_bytes(digest[:8], "big", signed=True)})


__all__ = ["FAILURE_LIMIT", "FAILURE_WINDOW", "claim_sign_in_attempt", "sign_in_failed",
           "sign_in_succeeded"]
