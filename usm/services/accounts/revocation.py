"""Ending a user's access everywhere at once, inside the caller's transaction: their sign-in
sessions (sign out everywhere, deactivation, a password reset) and their API tokens
(deactivation, a password reset). What is revoked stays revoked: reactivating a user brings no
session or token back."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from usm.accounts import ApiToken
from usm.sessions import SignInSession


def revoke_sessions(session: Session, user_id: int, at: datetime) -> int:
    """End every live session of ``user_id``; the number ended."""
    result = session.execute(
        update(SignInSession)
        .where(SignInSession.user_id == user_id, SignInSession.revoked_at.is_(None),
               SignInSession.expires_at > at)
        .values(revoked_at=at))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def revoke_user_tokens(session: Session, user_id: int, at: datetime) -> int:
    """Revoke every token of ``user_id`` and every token they made for someone else (as an
    administrator acting as them); the number revoked."""
    result = session.execute(
        update(ApiToken)
        .where(or_(ApiToken.user_id == user_id, ApiToken.created_by == user_id),
               ApiToken.revoked_at.is_(None))
        .values(revoked_at=at))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def revoke_access(session: Session, user_id: int, at: datetime) -> dict[str, int]:
    """Both, as the audit log records them: ``{"sessions_ended": n, "tokens_revoked": m}``."""
    return {"sessions_ended": revoke_sessions(session, user_id, at),
            "tokens_revoked": revoke_user_tokens(session, user_id, at)}
