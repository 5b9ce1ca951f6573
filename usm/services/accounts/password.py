"""A user changing their own password.

The current password is asked first and checked like a sign-in: the attempt is claimed against
the sign-in throttle of the user name and address before the check, so the form cannot be used to
guess a password faster than the sign-in page allows. On success every other session of the user
ends (a session someone else may hold stops working) and the one asking stays; API tokens are
the user's own doing and stay too. The audit log records it in the same transaction.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import select, update
from werkzeug.security import check_password_hash, generate_password_hash

from bir.base import utcnow
from bir.errors import FieldError, ValidationFailed
from usm.accounts import LOCAL, User
from usm.services.accounts.throttle import (
    claim_sign_in_attempt,
    sign_in_failed,
    sign_in_succeeded,
)
from usm.services.accounts.users import UserNotFound, password_errors
from usm.services.audit_log import Origin, record
from usm.services.errors import Refused
from usm.services.platform import Database
from usm.sessions import SignInSession

__all__ = ["PasswordElsewhere", "TooManyAttempts", "change_own_password"]

# Where a user who is not local changes their password, as the refusal names it.
_ELSEWHERE = {"ldap": "directory (LDAP)", "oidc": "identity provider (OpenID Connect)"}


class PasswordElsewhere(Refused):
    """The user signs in at the directory or the identity provider: no password here."""

    code = "password_elsewhere"


class TooManyAttempts(Refused):
    """Too many wrong passwords for this user from this address; ``wait_seconds`` until the
    next try."""

    code = "throttled"

    def __init__(self, wait_seconds: int):
        self.wait_seconds = wait_seconds
        super().__init__(f"too many wrong passwords: try again in {wait_seconds} seconds")


def _input_errors(current: str, new: str, repeated: str) -> list[FieldError]:
    errors = []
    if not current:
        errors.append(FieldError("current_password", "give your current password"))
    errors += password_errors(new, "new_password")
    if new != repeated:
        errors.append(FieldError("confirm", "does not match the new password"))
    return errors


def _digest(secret: str) -> str:
    """As ``sessions`` keeps a session's secret: its SHA-256."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def change_own_password(db: Database, username: str, current: str, new: str, repeated: str, *,
                        keep_session: str | None, origin: Origin,
                        now: datetime | None = None) -> int:
    """Set ``username``'s password to ``new`` when ``current`` is their password; every session
    but ``keep_session`` (the cookie secret of the one asking) ends. Returns how many ended.

    Refused: ``PasswordElsewhere`` for a directory or identity-provider user;
    ``TooManyAttempts`` past the sign-in throttle; ``ValidationFailed`` naming
    ``current_password``, ``new_password`` or ``confirm``.
    """
    at = now or utcnow()
    with db.reading() as session:
        user = session.scalar(select(User).where(User.username == username,
                                                 User.active.is_(True)))
    if user is None:
        raise UserNotFound(f"there is no active user {username}")
    if user.source != LOCAL or user.password_hash is None:
        place = _ELSEWHERE.get(user.source, "single sign-on")
        raise PasswordElsewhere(f"you sign in at the {place}: change your password there")
    errors = _input_errors(current or "", new or "", repeated or "")
    if errors:
        raise ValidationFailed(errors)  # nothing was checked against the password yet
    address = origin.address or "unknown"
    wait = claim_sign_in_attempt(db, username, address, now=at)
    if wait:
        raise TooManyAttempts(wait)
    if not check_password_hash(user.password_hash, current):
        sign_in_failed(db, username, address, now=at)
        raise ValidationFailed([FieldError("current_password",
                                           "is not your current password")])
    if current == new:
        raise ValidationFailed([FieldError("new_password",
                                           "must differ from your current password")])
    with db.transaction() as session:
        locked = session.scalar(select(User).where(User.id == user.id).with_for_update())
        if locked is None or not locked.active:
            raise UserNotFound(f"there is no active user {username}")
        if locked.password_hash != user.password_hash:  # reset by an administrator meanwhile
            raise ValidationFailed([FieldError("current_password",
                                               "is not your current password")])
        locked.password_hash = generate_password_hash(new)
        others = update(SignInSession).where(
            SignInSession.user_id == user.id, SignInSession.revoked_at.is_(None),
            SignInSession.expires_at > at)
        if keep_session:
            others = others.where(SignInSession.secret_hash != _digest(keep_session))
        ended = int(session.execute(others.values(revoked_at=at)).rowcount or 0)  # type: ignore[attr-defined]
        record(session, origin, "user.password_changed", username, {"sessions_ended": ended},
               at=at)
    sign_in_succeeded(db, username, address)
    return ended
