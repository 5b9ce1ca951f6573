"""Users, roles and the actor the engine acts for.

Administrators manage users here: create them, change their roles and display name, deactivate and
reactivate them, reset their password. Users are never deleted (changes and approvals keep naming
them); a deactivated user cannot sign in, and deactivating a user or resetting their password ends
their sessions and revokes their API tokens for good. Each of these is recorded in the audit log
in the same transaction. Every refusal is a ``ValidationFailed`` whose errors name the field, so a
form can show each next to its input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from bir.base import utcnow
from bir.errors import FieldError, ValidationFailed
from usm.accounts import LOCAL, User
from usm.services.accounts.revocation import revoke_access
from usm.services.audit_log import CLI, Origin, record
from usm.services.errors import Denied, NotFound
from usm.services.platform import Database
from workflows.engine import Actor
from workflows.skeleton import ROLES

__all__ = [
    "ADMINISTRATOR", "LANGUAGES", "MAX_DISPLAY_NAME", "MAX_PASSWORD", "MIN_PASSWORD", "ROLES",
    "USERNAME",
    "FieldError", "UnknownUser", "UserNotFound", "UserRow", "ValidationFailed", "actor_for",
    "add_user", "authenticate", "get_user", "list_users", "new_user_errors", "password_errors",
    "reset_password", "set_language", "update_user", "user_by_username",
]

ADMINISTRATOR = "administrator"
# Checked against when the user does not exist, so a wrong username costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash("usm-no-such-user")
USERNAME = re.compile(r"^[a-z][a-z0-9._-]{1,63}$")
MIN_PASSWORD = 10
MAX_PASSWORD = 256
MAX_DISPLAY_NAME = 120
# Where a user who is not local signs in, as a refusal names it.
_SOURCES = {"ldap": "directory (LDAP)", "oidc": "identity provider (OpenID Connect)"}
# The interface languages, by code, each named in itself (how a user recognises their own).
LANGUAGES = {"en": "English", "nl": "Nederlands"}


class UnknownUser(Denied):
    pass


class UserNotFound(NotFound):
    pass


@dataclass(frozen=True)
class UserRow:
    username: str
    display_name: str
    roles: list[str]
    active: bool
    created_at: datetime

    @property
    def role_labels(self) -> list[str]:
        return [ROLES.get(r, r) for r in self.roles]


def _row(user: User) -> UserRow:
    return UserRow(user.username, user.display_name, list(user.roles), user.active, user.created_at)


def _role_errors(roles: list[str]) -> list[FieldError]:
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        return [FieldError("roles", f"unknown role(s) {', '.join(unknown)} "
                                    f"(known: {', '.join(ROLES)})")]
    if not roles:
        return [FieldError("roles", "give at least one role")]
    return []


def password_errors(password: str | None, field: str = "password") -> list[FieldError]:
    """Why ``password`` is not acceptable (empty when it is)."""
    if len(password or "") < MIN_PASSWORD:
        return [FieldError(field, f"must be at least {MIN_PASSWORD} characters")]
    if len(password or "") > MAX_PASSWORD:
        return [FieldError(field, f"must be at most {MAX_PASSWORD} characters")]
    return []


def _display_name_errors(display_name: str | None, *, required: bool) -> list[FieldError]:
    name = (display_name or "").strip()
    if required and not name:
        return [FieldError("display_name", "give the name people know this user by")]
    if len(name) > MAX_DISPLAY_NAME:
        return [FieldError("display_name", f"must be at most {MAX_DISPLAY_NAME} characters")]
    return []


def new_user_errors(db: Database, username: str, password: str, roles: list[str],
                    display_name: str | None = None) -> list[FieldError]:
    """Every reason ``add_user`` would refuse these values, without writing anything (so a form
    can show them all at once, next to its other checks)."""
    errors = _new_user_input_errors(username, password, roles, display_name)
    with db.reading() as session:
        if _username_taken(session, username):
            errors.append(FieldError("username", f"{username} already exists"))
    return errors


def add_user(db: Database, username: str, password: str, roles: list[str],
             display_name: str | None = None, *, origin: Origin | None = None) -> User:
    """Create an active user; the display name defaults to the user name. ``origin``: who does
    it, for the audit log (default: a command)."""
    errors = _new_user_input_errors(username, password, roles, display_name)
    with db.transaction() as session:
        if _username_taken(session, username):
            errors.append(FieldError("username", f"{username} already exists"))
        if errors:
            raise ValidationFailed(errors)
        user = User(username=username, display_name=(display_name or "").strip() or username,
                    password_hash=generate_password_hash(password), roles=sorted(set(roles)),
                    active=True)
        session.add(user)
        record(session, origin or Origin(None, via=CLI), "user.created", username,
               {"roles": user.roles})
    return user


def _new_user_input_errors(username: str, password: str, roles: list[str],
                           display_name: str | None) -> list[FieldError]:
    errors = []
    if not USERNAME.match(username or ""):
        errors.append(FieldError("username", "use 2-64 lower-case letters, digits, '.', '_' or '-', "
                                             "starting with a letter"))
    errors += _display_name_errors(display_name, required=False)
    errors += password_errors(password)
    errors += _role_errors(roles)
    return errors


def _username_taken(session: Session, username: str) -> bool:
    return session.scalar(select(User.id).where(User.username == username)) is not None


def update_user(db: Database, username: str, *, display_name: str, roles: list[str],
                active: bool, acting_user: str, origin: Origin | None = None) -> UserRow:
    """Change a user's display name, roles and whether they may sign in. Deactivating ends the
    user's sessions and revokes their API tokens (reactivating brings none back); each change is
    recorded in the audit log as done by ``origin`` (default: ``acting_user`` at a command).

    Refused, naming the field: deactivating yourself or taking away your own administrator role
    (another administrator must do that, so nobody locks themselves out mid-session), and leaving
    the product without an active administrator.
    """
    errors = _display_name_errors(display_name, required=True) + _role_errors(roles)
    with db.transaction() as session:
        # Lock the user and every active user, always in the same order: two administrators
        # demoting each other at once then run one after the other on PostgreSQL, and the second
        # sees the first's result (SQLite lets one writer in at a time anyway).
        candidates = list(session.scalars(
            select(User).where(or_(User.username == username, User.active.is_(True)))
            .order_by(User.id).with_for_update()))
        user = next((u for u in candidates if u.username == username), None)
        if user is None:
            raise UserNotFound(f"there is no user {username}")
        other_admins = [u for u in candidates
                        if u.username != username and u.active and ADMINISTRATOR in u.roles]
        self_errors = []
        if username == acting_user:
            if not active:
                self_errors.append(FieldError("active", "you cannot deactivate your own account; "
                                                        "ask another administrator"))
            if ADMINISTRATOR in user.roles and ADMINISTRATOR not in roles:
                self_errors.append(FieldError("roles", "you cannot remove your own administrator "
                                                       "role; ask another administrator"))
        errors += self_errors
        stays_admin = active and ADMINISTRATOR in roles
        # (Refused for yourself already says enough; the last-administrator rule covers the rest.)
        if user.active and ADMINISTRATOR in user.roles and not stays_admin and not other_admins \
                and not self_errors:
            field = "roles" if active else "active"
            errors.append(FieldError(field, f"{username} is the last active administrator; make "
                                            "someone else an administrator first"))
        if errors:
            raise ValidationFailed(errors)
        _record_update(session, origin or Origin(acting_user, via=CLI), user,
                       display_name.strip(), sorted(set(roles)), active)
        user.display_name = display_name.strip()
        user.roles = sorted(set(roles))
        user.active = active
        session.flush()
        return _row(user)


def _record_update(session: Session, origin: Origin, user: User, display_name: str,
                   roles: list[str], active: bool) -> None:
    """Audit each part of an update that changes something; a deactivation also ends the
    user's access, in the same transaction."""
    at = utcnow()
    if display_name != user.display_name:
        record(session, origin, "user.renamed", user.username,
               {"before": user.display_name, "after": display_name}, at=at)
    if roles != sorted(user.roles):
        record(session, origin, "user.roles_changed", user.username,
               {"before": sorted(user.roles), "after": roles}, at=at)
    if user.active and not active:
        record(session, origin, "user.deactivated", user.username,
               revoke_access(session, user.id, at), at=at)
    elif active and not user.active:
        record(session, origin, "user.activated", user.username, at=at)


def set_language(db: Database, username: str, language: str | None, *,
                 origin: Origin | None = None) -> None:
    """Set the user's interface language: a code of ``LANGUAGES``, or None (or "") to follow the
    browser's preference again."""
    code = language or None
    if code is not None and code not in LANGUAGES:
        raise ValidationFailed([FieldError("language", f"unknown language {code!r} "
                                                       f"(known: {', '.join(LANGUAGES)})")])
    with db.transaction() as session:
        user = _locked_user(session, username)
        if user.language != code:
            record(session, origin or Origin(username, via=CLI), "settings.language", username,
                   {"before": user.language, "after": code})
        user.language = code


def reset_password(db: Database, username: str, password: str, *,
                   origin: Origin | None = None) -> None:
    """Give a user a new password (an administrator's reset): every session of the user ends and
    every API token of theirs is revoked, in the same transaction as the audit log's row.
    Refused for a user of the directory or the identity provider: they have no password here."""
    errors = password_errors(password)
    with db.transaction() as session:
        user = _locked_user(session, username)
        if user.source != LOCAL:
            errors = [FieldError("password", f"{username} signs in at the {_SOURCES[user.source]}"
                                             " and has no password here")]
        if errors:
            raise ValidationFailed(errors)
        user.password_hash = generate_password_hash(password)
        at = utcnow()
        record(session, origin or Origin(None, via=CLI), "user.password_reset", username,
               revoke_access(session, user.id, at), at=at)


def _locked_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username).with_for_update())
    if user is None:
        raise UserNotFound(f"there is no user {username}")
    return user


def authenticate(db: Database, username: str, password: str) -> User | None:
    """The active local user with this user name and password, else None (a directory or
    identity provider user has no password here)."""
    with db.reading() as session:
        user = session.scalar(select(User).where(User.username == username))
    if user is None or user.password_hash is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    return user


def get_user(db: Database, user_id: int) -> User | None:
    with db.reading() as session:
        return session.get(User, user_id)


def user_by_username(db: Database, username: str) -> UserRow:
    with db.reading() as session:
        user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise UserNotFound(f"there is no user {username}")
    return _row(user)


def list_users(db: Database) -> list[UserRow]:
    with db.reading() as session:
        return [_row(u) for u in session.scalars(select(User).order_by(User.username))]


# Built once, with two columns rather than the user object: every move of a change asks it
# (issue 8, figure 5).
_USERS = User.__table__
_ACTOR = select(_USERS.c.username, _USERS.c.roles).where(
    _USERS.c.username == bindparam("username"), _USERS.c.active.is_(True))


def actor_for(session: Session, username: str) -> Actor:
    # On the connection: no ORM entities are wanted, and the ORM's per-query setup was a fifth
    # of a move's time.
    user = session.connection().execute(_ACTOR, {"username": username}).one_or_none()
    if user is None:
        raise UnknownUser(f"no active user '{username}' (create one with: usm user add)")
    return Actor(user.username, frozenset(user.roles))
