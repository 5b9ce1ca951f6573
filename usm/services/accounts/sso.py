"""Users of the LDAP directory and of the OpenID Connect identity provider.

Such a user gets a local row at their first sign-in (with their source and who they are there,
and no password), and their roles are set from their groups through the role map at every
sign-in: a group taken away at the source takes its role away at the next sign-in, and a user
none of whose groups is mapped is refused (a returning one also loses every role, so their API
tokens stop acting for them). Local accounts sign in with their password as before, also while a
directory is configured: they are the way in for small installations and when the directory or
the provider is down.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bir.base import utcnow
from usm.accounts import LDAP, LOCAL, OIDC, User
from usm.services.accounts.directory import WrongCredentials, directory_account
from usm.services.accounts.users import USERNAME, authenticate
from usm.services.audit_log import WEB, Origin, record
from usm.services.errors import Denied
from usm.services.platform import Database
from usm.sso_config import RoleGrant, SingleSignOn, first_rdn_value, normal_dn
from workflows.skeleton import ROLES

__all__ = ["AccountDeactivated", "ExternalAccount", "NoMappedRole", "roles_for",
           "sign_in_external", "sign_in_with_password"]

MAX_DISPLAY_NAME = 120
_NOT_IN_NAME = re.compile(r"[^a-z0-9._-]+")


class NoMappedRole(Denied):
    """The user signed in at their source, but none of their groups is mapped to a role here."""


class AccountDeactivated(Denied):
    """An administrator deactivated the user here; the source's word does not override that."""


@dataclass(frozen=True)
class ExternalAccount:
    """A user as their directory or identity provider vouches for them at this sign-in."""

    source: str  # LDAP or OIDC
    external_id: str  # the directory entry's DN, or "issuer|subject"
    username: str  # the user name they would like here; a taken one gets a number
    display_name: str
    groups: tuple[str, ...]


def roles_for(role_map: Iterable[RoleGrant], source: str, groups: Iterable[str]) -> list[str]:
    """The roles ``groups`` give through ``role_map``, in the product's order. Directory groups
    (DNs) match a mapped DN ignoring case and spaces, or a mapped plain name by their ``cn``;
    identity provider groups match a mapped name exactly."""
    if source == LDAP:
        dns, names = set(), set()
        for dn in groups:
            try:
                dns.add(normal_dn(dn))
                names.add(first_rdn_value(dn))
            except ValueError:  # a group named otherwise (e.g. by memberOf in some directories)
                names.add(dn.lower())
        held = {g.role for g in role_map
                if (normal_dn(g.group) in dns if g.is_dn else g.group.lower() in names)}
    else:
        given = set(groups)
        held = {g.role for g in role_map if g.group in given}
    return [role for role in ROLES if role in held]


def sign_in_with_password(db: Database, sso: SingleSignOn, username: str, password: str, *,
                          address: str | None = None) -> User:
    """The user signing in with this user name and password on the sign-in form (from
    ``address``, which the audit log records with a directory user's changes).

    A local account (whatever the case of the name) checks its password here, as without a
    directory. Any other name, when a directory is configured, is checked by the directory and
    signs in as its directory user. Raises ``WrongCredentials``, ``NoMappedRole``,
    ``AccountDeactivated`` or ``DirectoryUnavailable``.
    """
    if sso.ldap is None or _is_local_name(db, username):
        user = authenticate(db, username, password)
        if user is None:
            raise WrongCredentials("unknown user name or wrong password")
        return user
    found = directory_account(sso.ldap, username, password)
    return sign_in_external(db, ExternalAccount(
        source=LDAP, external_id=normal_dn(found.dn), username=username,
        display_name=found.display_name, groups=found.groups), sso.role_map, address=address)


def sign_in_external(db: Database, account: ExternalAccount, role_map: Iterable[RoleGrant], *,
                     address: str | None = None) -> User:
    """The local user of ``account`` with its roles set from its groups now (made at the first
    sign-in; the audit log records that and every change of roles, as done by the user from
    ``address``). Raises ``NoMappedRole`` when no group gives a role (the user then holds none)
    and ``AccountDeactivated`` when an administrator deactivated the user here."""
    roles = roles_for(role_map, account.source, account.groups)
    try:
        user = _save(db, account, roles, address)
    except IntegrityError:  # the same user's first sign-in in two places at once: found now
        user = _save(db, account, roles, address)
    if user is None or not roles:
        raise NoMappedRole(f"none of the groups of {account.username} at the "
                           f"{_SOURCE_NAMES[account.source]} gives a role here")
    if not user.active:
        raise AccountDeactivated(f"{user.username} is deactivated here")
    return user


_SOURCE_NAMES = {LDAP: "directory", OIDC: "identity provider"}


def _save(db: Database, account: ExternalAccount, roles: list[str], address: str | None
          ) -> User | None:
    """The account's user with ``roles`` (None for a new user without any: nothing is made)."""
    display_name = account.display_name.strip()[:MAX_DISPLAY_NAME]
    with db.transaction() as session:
        user = session.scalar(select(User).where(User.source == account.source,
                                                 User.external_id == account.external_id)
                              .with_for_update())
        if user is None:
            if not roles:
                return None
            user = User(username=_free_username(session, account.username),
                        display_name=display_name or account.username, password_hash=None,
                        roles=roles, active=True, source=account.source,
                        external_id=account.external_id)
            session.add(user)
            record(session, Origin(user.username, address=address, via=WEB), "user.created",
                   user.username, {"roles": roles, "source": account.source})
            return user
        origin, at = Origin(user.username, address=address, via=WEB), utcnow()
        if set(roles) != set(user.roles):
            record(session, origin, "user.roles_changed", user.username,
                   {"before": list(user.roles), "after": roles, "source": account.source}, at=at)
            user.roles = roles
        if display_name and display_name != user.display_name:
            record(session, origin, "user.renamed", user.username,
                   {"before": user.display_name, "after": display_name,
                    "source": account.source}, at=at)
            user.display_name = display_name
        return user


def _is_local_name(db: Database, username: str) -> bool:
    with db.reading() as session:
        return session.scalar(select(User.id).where(
            func.lower(User.username) == username.lower(), User.source == LOCAL)) is not None


def _free_username(session: Session, wanted: str) -> str:
    """``wanted`` made a valid user name here, with ``-2``, ``-3``... if it is taken."""
    base = _NOT_IN_NAME.sub("-", wanted.lower()).strip("-._")[:60]
    if not base or not base[0].isalpha():
        base = f"user-{base}".rstrip("-")[:60]
    if len(base) < 2:
        base = "user"
    taken = set(session.scalars(select(User.username).where(
        (User.username == base) | User.username.like(f"{base}-%"))))
    name, number = base, 1
    while name in taken:
        number += 1
        name = f"{base}-{number}"
    assert USERNAME.match(name), name
    return name
