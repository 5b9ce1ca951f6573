"""A number in a URL larger than the database's integer columns is a 404, on every backend (on
PostgreSQL it used to overflow INTEGER in the lookup and answer 500)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from tests.support.api import ApiClient, error_of
from tests.support.web import login, make_app

HUGE = 99_999_999_999  # > 2**31 - 1


@pytest.fixture
def app(db_url: str) -> Iterator[Flask]:
    """The app on SQLite and on PostgreSQL, where the overflow showed."""
    app = make_app(db_url)
    yield app
    app.extensions["usm_db"].dispose()


@pytest.mark.parametrize("path", [
    f"/designer/definitions/normal-change/{HUGE}",
    f"/designer/definitions/normal-change/{HUGE}.svg",
    f"/designer/definitions/normal-change/{HUGE}/dry-run",
])
def test_a_page_with_a_huge_version_number_is_not_found(app: Flask, path: str) -> None:
    client = app.test_client()
    login(client, "pat")

    assert client.get(path).status_code == 404
    assert client.get(path.replace(str(HUGE), "1")).status_code == 200


def test_the_api_with_a_huge_version_number_answers_not_found(app: Flask) -> None:
    api = ApiClient(app)

    saved = api.call("PUT", f"/workflow-definitions/normal-change/versions/{HUGE}", "pat",
                     json={"source": "code: normal-change"})
    read = api.get(f"/workflow-definitions/normal-change?version={HUGE}", "pat")

    assert saved.status_code == 404
    assert error_of(saved)["code"] == "not_found"
    assert read.status_code in (404, 422), read.get_data(as_text=True)[:300]
