"""The single sign-on tests' servers: a real OpenLDAP directory and a real OpenID Connect
provider, each started once per test session (see ``tests/support/directory_server.py`` and
``tests/support/oidc_server.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.directory_server import Directory, run_directory
from tests.support.oidc_server import IdentityProvider, run_identity_provider

# One map for both: directory groups by DN or by cn, the provider's groups by name.
ROLE_MAP = ("change_coordinator=cn=coordinators,ou=groups,dc=example,dc=org;"
            "service_owner=owners;process_designer=designers;administrator=admins;"
            "change_coordinator=usm-coordinators;service_owner=usm-owners;"
            "administrator=usm-admins")


@pytest.fixture(scope="session")
def directory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Directory]:
    yield from run_directory(tmp_path_factory.mktemp("slapd"))


@pytest.fixture(scope="session")
def identity_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IdentityProvider]:
    yield from run_identity_provider(tmp_path_factory.mktemp("oidc"))
