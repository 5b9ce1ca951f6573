"""Users, roles and the actor the engine acts for."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from bir.errors import FieldError, ValidationFailed
from usm.accounts import User
from usm.services.database import Database
from workflows.engine import Actor
from workflows.skeleton import ROLES

# Checked against when the user does not exist, so a wrong username costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash("usm-no-such-user")
USERNAME = re.compile(r"^[a-z][a-z0-9._-]{1,63}$")
MIN_PASSWORD = 10


class UnknownUser(LookupError):
    pass


def add_user(db: Database, username: str, password: str, roles: list[str],
             display_name: str | None = None) -> User:
    errors = []
    if not USERNAME.match(username or ""):
        errors.append(FieldError("username", "use 2-64 lower-case letters, digits, '.', '_' or '-', "
                                             "starting with a letter"))
    if len(password or "") < MIN_PASSWORD:
        errors.append(FieldError("password", f"must be at least {MIN_PASSWORD} characters"))
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        errors.append(FieldError("roles", f"unknown role(s) {', '.join(unknown)} "
                                          f"(known: {', '.join(ROLES)})"))
    if not roles:
        errors.append(FieldError("roles", "give at least one role"))
    with db.transaction() as session:
        if session.scalar(select(User.id).where(User.username == username)) is not None:
            errors.append(FieldError("username", f"{username} already exists"))
        if errors:
            raise ValidationFailed(errors)
        user = User(username=username, display_name=display_name or username,
                    password_hash=generate_password_hash(password), roles=sorted(set(roles)))
        session.add(user)
    return user


def authenticate(db: Database, username: str, password: str) -> User | None:
    with db.reading() as session:
        user = session.scalar(select(User).where(User.username == username))
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    return user


def get_user(db: Database, user_id: int) -> User | None:
    with db.reading() as session:
        return session.get(User, user_id)


def list_users(db: Database) -> list[User]:
    with db.reading() as session:
        return list(session.scalars(select(User).order_by(User.username)))


def actor_for(session: Session, username: str) -> Actor:
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        raise UnknownUser(f"no active user '{username}' (create one with: usm user add)")
    return Actor(user.username, frozenset(user.roles))
