"""Helpers for tests that drive the web app over HTTP with Flask's test client."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server
from werkzeug.test import TestResponse

from tests.conftest import PASSWORD
from usm.app import create_app
from usm.config import Settings

CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def make_app(url: str) -> Flask:
    return create_app(Settings(database_url=url, secret_key="test", testing=True))


@contextmanager
def served(app: Flask) -> Iterator[Flask]:
    """``app`` served on a free local port in a thread (its address in ``LIVE_URL``), for tests
    that drive it over real HTTP; stopped, and its database closed, afterwards."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.config["LIVE_URL"] = f"http://127.0.0.1:{server.server_port}"
    try:
        yield app
    finally:
        server.shutdown()
        thread.join(timeout=10)
        app.extensions["usm_db"].dispose()


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
