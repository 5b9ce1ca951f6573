"""Helpers for tests that drive the web app over HTTP with Flask's test client."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.conftest import PASSWORD
from usm.app import create_app
from usm.config import Settings

CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def make_app(url: str) -> Flask:
    return create_app(Settings(database_url=url, secret_key="test", testing=True))


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token of the form on ``path`` (CSRF stays on in tests, as in production)."""
    match = CSRF_INPUT.search(client.get(path).get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client: FlaskClient, username: str = "carol", password: str = PASSWORD) -> TestResponse:
    """Sign in as one of the test users: carol (change coordinator), sam (service owner),
    pat (process designer), ada (administrator)."""
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": csrf_token(client)})


def post_form(client: FlaskClient, form_page: str, action: str, data: dict[str, str]
              ) -> TestResponse:
    """Post ``data`` to ``action`` with the CSRF token read from ``form_page``."""
    return client.post(action, data={**data, "csrf_token": csrf_token(client, form_page)})
