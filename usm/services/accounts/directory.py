"""Signing in at an LDAP directory (OpenLDAP, Active Directory, 389 DS) with ldap3.

The user's password is checked by binding as the user: the directory alone decides whether it is
right and whether the account may sign in (a disabled, locked or expired account is refused by
the bind itself, as Active Directory and OpenLDAP's password policy do). Once bound, the user's
display name and groups are read with the user's own rights: the groups under the group base
whose members name the user (``groupOfNames`` / ``groupOfUniqueNames``) and, where the directory
keeps it, the user's ``memberOf``.
"""

from __future__ import annotations

import math
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ldap3 import BASE, NONE, SUBTREE, Connection, Server, Tls
from ldap3.core.exceptions import LDAPException
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import escape_rdn

from usm.services.errors import Busy, Denied
from usm.sso_config import LdapSettings

__all__ = ["DirectoryAccount", "DirectoryUnavailable", "WrongCredentials", "directory_account"]

_PROFILE = ["displayName", "cn", "memberOf"]
# Bind results that say nothing about the password: busy, unavailable, other (RFC 4511).
_DIRECTORY_TROUBLE = {51, 52, 80}


class WrongCredentials(Denied):
    """Unknown user name or wrong password; directories do not say which, nor whether the account
    is disabled, so neither does this."""


class DirectoryUnavailable(Busy):
    """The directory cannot be reached or refuses the product's own search account."""


@dataclass(frozen=True)
class DirectoryAccount:
    dn: str  # as the directory names the entry
    display_name: str
    groups: tuple[str, ...]  # the DNs of the user's groups


def directory_account(settings: LdapSettings, username: str, password: str) -> DirectoryAccount:
    """The directory's account ``username`` if ``password`` is its password and the directory
    lets it sign in; else ``WrongCredentials``. ``DirectoryUnavailable`` when it cannot tell."""
    if not username or not password:
        # An empty password makes an unauthenticated bind, which directories answer "success".
        raise WrongCredentials("unknown user name or wrong password")
    server = _server(settings)
    try:
        dn = _user_dn(server, settings, username)
        with _bound(server, settings, dn, password) as connection:
            entry = _entry(connection, dn)
            groups = _groups(connection, settings, entry["dn"])
    except LDAPException as exc:
        raise DirectoryUnavailable(f"the directory at {settings.url} cannot be reached "
                                   f"({type(exc).__name__})") from exc
    attributes = entry["attributes"]
    member_of = [str(g) for g in attributes.get("memberOf") or []]
    return DirectoryAccount(dn=entry["dn"], display_name=_display_name(attributes, username),
                            groups=tuple(dict.fromkeys([*groups, *member_of])))


def _server(settings: LdapSettings) -> Server:
    tls = None
    if settings.url.lower().startswith("ldaps://"):
        tls = Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=settings.ca_file)
    return Server(settings.url, get_info=NONE, connect_timeout=settings.timeout, tls=tls)


@contextmanager
def _bound(server: Server, settings: LdapSettings, dn: str | None, password: str | None,
           ) -> Iterator[Connection]:
    """A connection bound as ``dn`` (anonymous when None); ``WrongCredentials`` if refused."""
    connection = Connection(server, user=dn, password=password, read_only=True,
                            receive_timeout=math.ceil(settings.timeout), raise_exceptions=False,
                            auto_referrals=False)
    try:
        if not connection.bind():
            if connection.result.get("result") in _DIRECTORY_TROUBLE:
                raise DirectoryUnavailable(f"the directory at {settings.url} does not answer "
                                           f"binds now ({connection.result.get('description')})")
            raise WrongCredentials("unknown user name or wrong password")
        yield connection
    finally:
        connection.unbind()
        if connection.socket is not None:  # ldap3 keeps the socket of a failed connect open
            connection.socket.close()


def _user_dn(server: Server, settings: LdapSettings, username: str) -> str:
    if settings.user_dn_template:
        return settings.user_dn_template.replace("{username}", escape_rdn(username))
    assert settings.user_base is not None  # the settings have one or the other
    query = settings.user_filter.replace("{username}", escape_filter_chars(username))
    try:
        with _bound(server, settings, settings.bind_dn, settings.bind_password) as connection:
            connection.search(settings.user_base, query, SUBTREE, attributes=[], size_limit=2)
            found = _entries(connection)
    except WrongCredentials:
        raise DirectoryUnavailable(f"the directory at {settings.url} refuses the search "
                                   "account (USM_LDAP_BIND_DN)") from None
    if len(found) != 1:  # none, or a name that is not unique: nobody to sign in
        raise WrongCredentials("unknown user name or wrong password")
    return str(found[0]["dn"])


def _entry(connection: Connection, dn: str) -> dict[str, Any]:
    connection.search(dn, "(objectClass=*)", BASE, attributes=_PROFILE)
    found = _entries(connection)
    if not found:  # bound, yet may not read their own entry: sign in with what is known
        return {"dn": dn, "attributes": {}}
    return found[0]


def _groups(connection: Connection, settings: LdapSettings, dn: str) -> list[str]:
    query = settings.group_filter.replace("{user_dn}", escape_filter_chars(dn))
    connection.search(settings.group_base, query, SUBTREE, attributes=[])
    return [str(entry["dn"]) for entry in _entries(connection)]


def _entries(connection: Connection) -> list[dict[str, Any]]:
    """The entries a search found (referrals and a refused search give none)."""
    return [item for item in connection.response or [] if item.get("type") == "searchResEntry"]


def _display_name(attributes: dict[str, Any], username: str) -> str:
    for name in ("displayName", "cn"):
        value = attributes.get(name)
        if isinstance(value, list):
            value = value[0] if value else None
        if value:
            return str(value)
    return username
