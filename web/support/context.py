"""What a view needs from the running app, without importing the composition root."""

from __future__ import annotations

from flask import current_app

from usm.services.accounts import SingleSignOn
from usm.services.platform import Database

DATABASE_EXTENSION = "usm_db"
SSO_EXTENSION = "usm_sso"


def database() -> Database:
    """The app's database handle; every service function takes it."""
    db: Database = current_app.extensions[DATABASE_EXTENSION]
    return db


def single_sign_on() -> SingleSignOn:
    """The app's single sign-on settings (OpenID Connect, LDAP, the role map); with none
    configured, local accounts only."""
    settings: SingleSignOn = current_app.extensions.get(SSO_EXTENSION) or SingleSignOn()
    return settings
