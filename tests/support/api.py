"""Helpers for the API tests (no tests here): a client that speaks to /api/v1 with a user's token."""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.test import TestResponse

from usm.services.accounts import create_token
from usm.services.platform import Database

API = "/api/v1"


class ApiClient:
    """Calls the API as one of the test users (carol, sam, pat, ada), each with a token of their
    own; ``user=None`` sends no token."""

    def __init__(self, app: Flask):
        self.app = app
        self.client = app.test_client()
        self.db: Database = app.extensions["usm_db"]
        self.tokens: dict[str, str] = {}

    def token(self, user: str) -> str:
        if user not in self.tokens:
            self.tokens[user] = create_token(self.db, user, f"tests ({user})").secret
        return self.tokens[user]

    def call(self, method: str, path: str, user: str | None = "carol", *,
             token: str | None = None, headers: dict[str, str] | None = None,
             **kwargs: Any) -> TestResponse:
        sent = dict(headers or {})
        secret = token or (self.token(user) if user else None)
        if secret:
            sent["Authorization"] = f"Bearer {secret}"
        url = path if path.startswith("/") and path.startswith(API) else f"{API}{path}"
        return self.client.open(url, method=method, headers=sent, **kwargs)

    def get(self, path: str, user: str | None = "carol", **kwargs: Any) -> TestResponse:
        return self.call("GET", path, user, **kwargs)

    def post(self, path: str, user: str | None = "carol", **kwargs: Any) -> TestResponse:
        return self.call("POST", path, user, **kwargs)

    def patch(self, path: str, user: str | None = "carol", **kwargs: Any) -> TestResponse:
        return self.call("PATCH", path, user, **kwargs)

    def delete(self, path: str, user: str | None = "carol", **kwargs: Any) -> TestResponse:
        return self.call("DELETE", path, user, **kwargs)


def error_of(response: TestResponse) -> dict[str, Any]:
    """The error object of an error answer, after checking it has the API's one shape."""
    assert response.mimetype == "application/json", response.get_data(as_text=True)[:200]
    body = response.get_json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "fields"}
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    assert all(set(f) == {"field", "message"} for f in error["fields"])
    return error
