"""Single sign-on settings from the environment: OpenID Connect, LDAP / Active Directory, and the
one map from the identity provider's or directory's groups to the product's roles.

Nothing set means local accounts only, as without single sign-on. Whatever is set is checked when
the app starts, and every problem is named by its variable in one ``SingleSignOnSettingsError``,
so a misconfigured server refuses to start rather than refusing people later.

The role map (``USM_SSO_ROLE_MAP``) is a list of ``role=group`` entries separated by ``;`` (or
new lines), e.g. ``change_coordinator=cn=coordinators,ou=groups,dc=example,dc=org;
service_owner=owners;administrator=usm-admins``. A role may appear in several entries; a user
holds every role one of their groups is mapped to. The role is one of the product's four; the
group is either a distinguished name (anything with ``=``), compared with a directory group's DN
ignoring case and the spaces around ``,``, or a plain name, compared with a directory group's
``cn`` ignoring case and with an OpenID Connect groups claim value exactly.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from ldap3.core.exceptions import LDAPInvalidDnError
from ldap3.utils.dn import parse_dn

from workflows.skeleton import ROLES

OIDC_VARIABLES = ("USM_OIDC_ISSUER", "USM_OIDC_CLIENT_ID", "USM_OIDC_CLIENT_SECRET",
                  "USM_OIDC_NAME", "USM_OIDC_SCOPES", "USM_OIDC_GROUPS_CLAIM",
                  "USM_OIDC_REDIRECT_URI")
LDAP_VARIABLES = ("USM_LDAP_URL", "USM_LDAP_USER_DN_TEMPLATE", "USM_LDAP_USER_BASE",
                  "USM_LDAP_USER_FILTER", "USM_LDAP_BIND_DN", "USM_LDAP_BIND_PASSWORD",
                  "USM_LDAP_GROUP_BASE", "USM_LDAP_GROUP_FILTER", "USM_LDAP_CA_FILE",
                  "USM_LDAP_TIMEOUT")
DEFAULT_USER_FILTER = "(uid={username})"
DEFAULT_GROUP_FILTER = "(|(member={user_dn})(uniqueMember={user_dn}))"
DEFAULT_SCOPES = "openid profile email"
# Plain http only where nothing travels over a network: a provider on this machine.
_LOOPBACK = {"localhost", "127.0.0.1", "::1"}


class SingleSignOnSettingsError(ValueError):
    """The single sign-on settings cannot work; ``problems`` names each variable and what is
    wrong with it."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("single sign-on settings: " + "; ".join(self.problems))


@dataclass(frozen=True)
class RoleGrant:
    """One entry of the role map: members of ``group`` hold ``role``."""

    role: str
    group: str

    @property
    def is_dn(self) -> bool:
        return "=" in self.group


@dataclass(frozen=True)
class OidcSettings:
    issuer: str
    client_id: str
    client_secret: str
    name: str | None = None  # on the sign-in button, "Sign in with <name>" (None: "single sign-on")
    scopes: str = DEFAULT_SCOPES
    groups_claim: str = "groups"
    redirect_uri: str | None = None  # default: this app's callback URL as the request sees it


@dataclass(frozen=True)
class LdapSettings:
    url: str
    group_base: str
    # Either the user's DN is made from the user name, or it is searched for under user_base
    # with user_filter (bound as bind_dn, or anonymously without one).
    user_dn_template: str | None = None
    user_base: str | None = None
    user_filter: str = DEFAULT_USER_FILTER
    bind_dn: str | None = None
    bind_password: str | None = None
    group_filter: str = DEFAULT_GROUP_FILTER
    ca_file: str | None = None
    timeout: float = 5.0


@dataclass(frozen=True)
class SingleSignOn:
    oidc: OidcSettings | None = None
    ldap: LdapSettings | None = None
    role_map: tuple[RoleGrant, ...] = ()


def single_sign_on(environ: Mapping[str, str] | None = None) -> SingleSignOn:
    """The single sign-on settings in ``environ`` (default: the process environment); raises
    ``SingleSignOnSettingsError`` naming every problem."""
    source = os.environ if environ is None else environ
    env = {key: value.strip() for key, value in source.items()
           if key.startswith("USM_") and value.strip()}
    problems: list[str] = []
    oidc = _oidc(env, problems)
    ldap = _ldap(env, problems)
    known = len(problems)
    role_map = role_map_from_text(env.get("USM_SSO_ROLE_MAP", ""), problems)
    if (oidc or ldap) and not role_map and len(problems) == known:
        problems.append("USM_SSO_ROLE_MAP: missing; map at least one group to a role, e.g. "
                        "administrator=cn=usm-admins,ou=groups,dc=example,dc=org")
    if role_map and not any(name in env for name in OIDC_VARIABLES + LDAP_VARIABLES):
        problems.append("USM_SSO_ROLE_MAP: set, but neither USM_OIDC_ISSUER nor USM_LDAP_URL is")
    if problems:
        raise SingleSignOnSettingsError(problems)
    return SingleSignOn(oidc=oidc, ldap=ldap, role_map=role_map)


def role_map_from_text(text: str, problems: list[str]) -> tuple[RoleGrant, ...]:
    """The entries of a ``USM_SSO_ROLE_MAP`` text; each bad entry is added to ``problems``."""
    grants: list[RoleGrant] = []
    entries = [e.strip() for e in text.replace("\n", ";").split(";")]
    for number, entry in enumerate((e for e in entries if e), start=1):
        where = f"USM_SSO_ROLE_MAP entry {number} ({entry!r})"
        role, sep, group = (part.strip() for part in entry.partition("="))
        if not sep or not group:
            problems.append(f"{where}: write role=group")
        elif role not in ROLES:
            problems.append(f"{where}: unknown role {role!r} (known: {', '.join(ROLES)})")
        elif "=" in group and not _valid_dn(group):
            problems.append(f"{where}: {group!r} is not a valid distinguished name")
        elif (grant := RoleGrant(role, group)) not in grants:
            grants.append(grant)
    return tuple(grants)


def normal_dn(dn: str) -> str:
    """``dn`` as compared: attribute types and values in lower case, no spaces around ``,``.
    Raises ``ValueError`` when it is not a DN."""
    return "".join(f"{kind.lower()}={value.lower()}{sep}" for kind, value, sep in _parsed(dn))


def first_rdn_value(dn: str) -> str:
    """The value of the first attribute of ``dn`` in lower case (a group's ``cn``). Raises
    ``ValueError`` when it is not a DN."""
    return _parsed(dn)[0][1].lower()


def _parsed(dn: str) -> list[tuple[str, str, str]]:
    try:
        return list(parse_dn(dn, strip=True))
    except LDAPInvalidDnError as exc:
        raise ValueError(f"{dn!r} is not a distinguished name: {exc}") from None


def _valid_dn(text: str) -> bool:
    try:
        _parsed(text)
    except ValueError:
        return False
    return True


def _oidc(env: dict[str, str], problems: list[str]) -> OidcSettings | None:
    given = [name for name in OIDC_VARIABLES if name in env]
    if not given:
        return None
    issuer = env.get("USM_OIDC_ISSUER", "")
    if not issuer:
        problems.append(f"USM_OIDC_ISSUER: missing ({', '.join(given)} set)")
    else:
        _check_web_url("USM_OIDC_ISSUER", issuer, problems)
    for name in ("USM_OIDC_CLIENT_ID", "USM_OIDC_CLIENT_SECRET"):
        if name not in env:
            problems.append(f"{name}: missing (the client registered at the identity provider)")
    scopes = env.get("USM_OIDC_SCOPES", DEFAULT_SCOPES)
    if "openid" not in scopes.split():
        problems.append(f"USM_OIDC_SCOPES: must include openid, not {scopes!r}")
    if "USM_OIDC_REDIRECT_URI" in env:
        _check_web_url("USM_OIDC_REDIRECT_URI", env["USM_OIDC_REDIRECT_URI"], problems)
    return OidcSettings(
        issuer=issuer.rstrip("/"), client_id=env.get("USM_OIDC_CLIENT_ID", ""),
        client_secret=env.get("USM_OIDC_CLIENT_SECRET", ""),
        name=env.get("USM_OIDC_NAME"), scopes=scopes,
        groups_claim=env.get("USM_OIDC_GROUPS_CLAIM", OidcSettings.groups_claim),
        redirect_uri=env.get("USM_OIDC_REDIRECT_URI"))


def _check_web_url(name: str, url: str, problems: list[str]) -> None:
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname in _LOOPBACK:
        return
    problems.append(f"{name}: must be an https:// URL (http:// only on this machine), not {url!r}")


def _ldap(env: dict[str, str], problems: list[str]) -> LdapSettings | None:
    given = [name for name in LDAP_VARIABLES if name in env]
    if not given:
        return None
    url = env.get("USM_LDAP_URL", "")
    if not url:
        problems.append(f"USM_LDAP_URL: missing ({', '.join(given)} set)")
    elif urlsplit(url).scheme not in ("ldap", "ldaps") or not urlsplit(url).hostname:
        problems.append(f"USM_LDAP_URL: must be ldap://host[:port] or ldaps://host[:port], "
                        f"not {url!r}")
    template, base = env.get("USM_LDAP_USER_DN_TEMPLATE"), env.get("USM_LDAP_USER_BASE")
    if bool(template) == bool(base):
        problems.append("USM_LDAP_USER_DN_TEMPLATE or USM_LDAP_USER_BASE: set exactly one (the "
                        "DN made from the user name, or where to search for the user)")
    if template and "{username}" not in template:
        problems.append(f"USM_LDAP_USER_DN_TEMPLATE: must contain {{username}}, e.g. "
                        f"uid={{username}},ou=people,dc=example,dc=org, not {template!r}")
    user_filter = env.get("USM_LDAP_USER_FILTER", DEFAULT_USER_FILTER)
    if "{username}" not in user_filter:
        problems.append(f"USM_LDAP_USER_FILTER: must contain {{username}}, not {user_filter!r}")
    for name in ("USM_LDAP_USER_BASE", "USM_LDAP_BIND_DN", "USM_LDAP_GROUP_BASE"):
        if name in env and not _valid_dn(env[name]):
            problems.append(f"{name}: {env[name]!r} is not a valid distinguished name")
    if "USM_LDAP_GROUP_BASE" not in env:
        problems.append("USM_LDAP_GROUP_BASE: missing (where the groups are, e.g. "
                        "ou=groups,dc=example,dc=org)")
    group_filter = env.get("USM_LDAP_GROUP_FILTER", DEFAULT_GROUP_FILTER)
    if "{user_dn}" not in group_filter:
        problems.append(f"USM_LDAP_GROUP_FILTER: must contain {{user_dn}}, not {group_filter!r}")
    if "USM_LDAP_BIND_PASSWORD" in env and "USM_LDAP_BIND_DN" not in env:
        problems.append("USM_LDAP_BIND_DN: missing (USM_LDAP_BIND_PASSWORD is set)")
    if "USM_LDAP_CA_FILE" in env and not os.path.isfile(env["USM_LDAP_CA_FILE"]):
        problems.append(f"USM_LDAP_CA_FILE: no file {env['USM_LDAP_CA_FILE']!r}")
    timeout = _seconds(env.get("USM_LDAP_TIMEOUT", str(LdapSettings.timeout)), problems)
    return LdapSettings(
        url=url, group_base=env.get("USM_LDAP_GROUP_BASE", ""), user_dn_template=template,
        user_base=base, user_filter=user_filter, bind_dn=env.get("USM_LDAP_BIND_DN"),
        bind_password=env.get("USM_LDAP_BIND_PASSWORD"), group_filter=group_filter,
        ca_file=env.get("USM_LDAP_CA_FILE"), timeout=timeout)


def _seconds(text: str, problems: list[str]) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value <= 120:
        problems.append(f"USM_LDAP_TIMEOUT: seconds between 0 and 120, not {text!r}")
        return LdapSettings.timeout
    return value
