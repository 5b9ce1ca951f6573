"""Single sign-on settings: nothing set is local accounts only; whatever is set is checked at
start, every problem named by its variable; the role map's format and how groups match it."""

from __future__ import annotations

import pytest

from tests.support.web import login
from usm.app import create_app
from usm.config import Settings
from usm.services.accounts import LDAP, OIDC, roles_for
from usm.sso_config import RoleGrant, SingleSignOn, SingleSignOnSettingsError, single_sign_on

LDAP_ENV = {"USM_LDAP_URL": "ldap://127.0.0.1:389",
            "USM_LDAP_USER_DN_TEMPLATE": "uid={username},ou=people,dc=example,dc=org",
            "USM_LDAP_GROUP_BASE": "ou=groups,dc=example,dc=org"}


def _problems(env: dict[str, str]) -> list[str]:
    with pytest.raises(SingleSignOnSettingsError) as refused:
        single_sign_on(env)
    return refused.value.problems


def test_nothing_set_is_local_accounts_only() -> None:
    assert single_sign_on({"USM_DATABASE_URL": "sqlite://"}) == SingleSignOn()
    assert Settings(database_url="sqlite://", secret_key="x").single_sign_on == SingleSignOn()


def test_the_role_map_format() -> None:
    settings = single_sign_on({**LDAP_ENV, "USM_SSO_ROLE_MAP": (
        " change_coordinator = cn=coordinators,ou=groups,dc=example,dc=org ;\n"
        "service_owner=owners;;service_owner=cn=finance,ou=groups,dc=example,dc=org;"
        "service_owner=owners")})
    assert settings.role_map == (
        RoleGrant("change_coordinator", "cn=coordinators,ou=groups,dc=example,dc=org"),
        RoleGrant("service_owner", "owners"),
        RoleGrant("service_owner", "cn=finance,ou=groups,dc=example,dc=org"))
    assert settings.ldap is not None and settings.oidc is None


def test_every_problem_is_named_by_its_variable() -> None:
    problems = _problems({
        "USM_OIDC_ISSUER": "http://idp.example.org", "USM_OIDC_CLIENT_ID": "usm",
        "USM_OIDC_SCOPES": "profile", "USM_LDAP_URL": "https://ldap.example.org",
        "USM_LDAP_USER_DN_TEMPLATE": "uid=x,ou=people", "USM_LDAP_BIND_PASSWORD": "secret",
        "USM_LDAP_TIMEOUT": "soon",
        "USM_SSO_ROLE_MAP": "boss=admins;owners;administrator=cn=,dc=org"})
    assert problems == [
        "USM_OIDC_ISSUER: must be an https:// URL (http:// only on this machine), not "
        "'http://idp.example.org'",
        "USM_OIDC_CLIENT_SECRET: missing (the client registered at the identity provider)",
        "USM_OIDC_SCOPES: must include openid, not 'profile'",
        "USM_LDAP_URL: must be ldap://host[:port] or ldaps://host[:port], not "
        "'https://ldap.example.org'",
        "USM_LDAP_USER_DN_TEMPLATE: must contain {username}, e.g. "
        "uid={username},ou=people,dc=example,dc=org, not 'uid=x,ou=people'",
        "USM_LDAP_GROUP_BASE: missing (where the groups are, e.g. ou=groups,dc=example,dc=org)",
        "USM_LDAP_BIND_DN: missing (USM_LDAP_BIND_PASSWORD is set)",
        "USM_LDAP_TIMEOUT: seconds between 0 and 120, not 'soon'",
        "USM_SSO_ROLE_MAP entry 1 ('boss=admins'): unknown role 'boss' (known: "
        "change_coordinator, service_owner, process_designer, administrator)",
        "USM_SSO_ROLE_MAP entry 2 ('owners'): write role=group",
        "USM_SSO_ROLE_MAP entry 3 ('administrator=cn=,dc=org'): 'cn=,dc=org' is not a valid "
        "distinguished name",
    ]


def test_a_source_without_a_role_map_and_a_map_without_a_source_are_refused() -> None:
    assert _problems(LDAP_ENV) == [
        "USM_SSO_ROLE_MAP: missing; map at least one group to a role, e.g. "
        "administrator=cn=usm-admins,ou=groups,dc=example,dc=org"]
    assert _problems({"USM_SSO_ROLE_MAP": "administrator=admins"}) == [
        "USM_SSO_ROLE_MAP: set, but neither USM_OIDC_ISSUER nor USM_LDAP_URL is"]
    assert _problems({**LDAP_ENV, "USM_LDAP_USER_BASE": "ou=people,dc=example,dc=org",
                      "USM_SSO_ROLE_MAP": "administrator=admins"}) == [
        "USM_LDAP_USER_DN_TEMPLATE or USM_LDAP_USER_BASE: set exactly one (the DN made from the "
        "user name, or where to search for the user)"]


def test_the_app_refuses_to_start_on_bad_settings(monkeypatch: pytest.MonkeyPatch,
                                                  tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("USM_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("USM_LDAP_URL", "ldap://127.0.0.1:389")
    with pytest.raises(SingleSignOnSettingsError, match="USM_LDAP_GROUP_BASE: missing"):
        create_app()


def test_directory_groups_match_by_dn_or_cn_ignoring_case() -> None:
    grants = [RoleGrant("change_coordinator", "CN=Coordinators, OU=Groups,DC=example,DC=org"),
              RoleGrant("service_owner", "Owners"), RoleGrant("administrator", "admins")]
    groups = ["cn=coordinators,ou=groups,dc=example,dc=org", "cn=OWNERS,ou=teams,dc=example,dc=org"]
    assert roles_for(grants, LDAP, groups) == ["change_coordinator", "service_owner"]
    assert roles_for(grants, LDAP, ["cn=canteen,ou=groups,dc=example,dc=org"]) == []


def test_provider_groups_match_exactly() -> None:
    grants = [RoleGrant("administrator", "usm-admins"), RoleGrant("service_owner", "Owners")]
    assert roles_for(grants, OIDC, ["usm-admins", "owners"]) == ["administrator"]
    assert roles_for(grants, OIDC, ["USM-ADMINS"]) == []


def test_without_single_sign_on_the_sign_in_page_is_as_before(web_client) -> None:  # type: ignore[no-untyped-def]
    page = web_client.get("/login").get_data(as_text=True)
    assert "Sign in with" not in page
    answer = web_client.get("/login/oidc", follow_redirects=True)
    assert "Single sign-on is not set up here" in answer.get_data(as_text=True)
    assert login(web_client, "ada").status_code == 302
