"""Sign-in sessions kept on the server, and the sign-in attempts the throttle counts.

A browser's session cookie carries only a random session secret; the database keeps its SHA-256
(as it does for API tokens) with the user, when the session began, was last seen, expires and was
revoked. Every web worker on every host reads the same rows, so a sign-out, a deactivation, a
password reset or "sign out everywhere" ends a session for all of them at once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from bir.base import Base, UTCDateTime


class SignInSession(Base):
    __tablename__ = "usm_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("usm_user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Written at most once a minute per session, so reading a page stays a read.
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Where and with what the session was opened, so a user can tell their sessions apart.
    address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(200))


class SignInAttempt(Base):
    """A sign-in attempt that has not succeeded, per user name (as typed, in lower case) and
    client address. Claimed before the password is checked, removed by a successful sign-in from
    the same address, and forgotten once older than the throttle's window."""

    __tablename__ = "usm_sign_in_attempt"
    __table_args__ = (Index("ix_usm_sign_in_attempt_key", "username", "address", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
