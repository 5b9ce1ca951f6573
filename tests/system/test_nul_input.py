"""A NUL character is bad input wherever it comes in: no database column keeps one (PostgreSQL
refuses it outright), so every web form and query value, every path, every API string and every
imported cell holding one is refused with a clear 4xx naming where it was, never a 500. On both
backends, because SQLite would store what PostgreSQL refuses."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.support.api import ApiClient, error_of
from tests.support.web import csrf_token, login, make_app
from usm.services import changes
from usm.services.platform import Database

FOUND = b"class,name,serial_number\nhardware.laptop,Lap\x00top,SN-N-1\n"


@pytest.fixture(autouse=True)
def _instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USM_INSTANCE_PATH", str(tmp_path / "instance"))


@pytest.fixture
def web_app(db_url: str):  # type: ignore[no-untyped-def]
    """The app on each backend: PostgreSQL is where a NUL used to end in a 500."""
    app = make_app(db_url)
    yield app
    app.extensions["usm_db"].dispose()


def _refused(response, where: str) -> None:  # type: ignore[no-untyped-def]
    html = response.get_data(as_text=True)
    assert response.status_code == 400, html[-1500:]
    assert f"{where}: holds a NUL character" in html, html[-1500:]


@pytest.mark.parametrize(("user", "path", "where"), [
    ("carol", "/changes?coordinator=car%00ol", "coordinator"),
    ("carol", "/changes?model=normal%00", "model"),
    ("sam", "/items?owner=%00", "owner"),
    ("sam", "/items?%00=x", "the query"),
    ("carol", "/changes/CHG-00%000001", "the address"),
    ("carol", "/changes/calendar?month=2026-01%00", "month"),
    ("ada", "/admin/users/car%00ol", "the address"),
    ("sam", "/reports/finance?owner=%00", "owner"),
])
def test_pages_and_filters_refuse_a_nul(web_client: FlaskClient, user: str, path: str,
                                        where: str) -> None:
    login(web_client, user)
    _refused(web_client.get(path), where)


def test_sign_in_refuses_a_nul(web_client: FlaskClient) -> None:
    response = web_client.post("/login", data={"username": "car\x00ol", "password": "x",
                                                "csrf_token": csrf_token(web_client)})
    _refused(response, "username")


def test_forms_refuse_a_nul(web_client: FlaskClient, web_db: Database) -> None:
    login(web_client, "carol")
    _refused(web_client.post("/account/tokens", data={
        "name": "agent\x00", "csrf_token": csrf_token(web_client, "/account/tokens")}), "name")
    key = changes.register_change(web_db, "carol", model="normal-change", title="A change",
                                  operations=[{"op": "create_item", "ref": "a",
                                               "class": "hardware.laptop", "name": "L"}]).key
    page = f"/changes/{key}"
    _refused(web_client.post(f"{page}/comments", data={
        "body": "hello\x00", "csrf_token": csrf_token(web_client, page)}), "body")
    _refused(web_client.post(f"{page}/details", data={
        "description": "x\x00", "version": "1", "csrf_token": csrf_token(web_client, page)}),
        "description")
    assert changes.change_detail(web_db, key).description is None


def test_an_imported_value_with_a_nul_is_named_by_row_and_column(web_client: FlaskClient,
                                                                 tmp_path: Path) -> None:
    login(web_client, "carol")
    response = web_client.post("/audit/import", content_type="multipart/form-data", data={
        "csrf_token": csrf_token(web_client, "/audit/import"), "format": "csv",
        "match": "serial_number", "file": (io.BytesIO(FOUND), "found.csv")})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "found.csv, row 2, column name: holds a NUL character" in html
    assert 'name="accept"' not in html


# -- the API -------------------------------------------------------------------------------------


@pytest.fixture
def api(web_app: Flask) -> ApiClient:
    return ApiClient(web_app)


def test_the_api_refuses_a_nul_with_422(api: ApiClient) -> None:
    for response in (
        api.get("/changes", query_string={"coordinator": "car\x00ol"}),
        api.get("/changes/CHG-00%000001"),
        api.get("/items", query_string={"owner": "\x00"}),
        api.post("/tokens", json={"name": "agent\x00"}),
        api.post("/changes", json={"model": "normal-change", "title": "Title\x00",
                                   "operations": [{"op": "create_item", "ref": "a",
                                                   "class": "hardware.laptop", "name": "L"}]}),
    ):
        assert response.status_code == 422, response.get_data(as_text=True)[:300]
        assert error_of(response)["code"] == "invalid_request"


def test_an_imported_value_with_a_nul_is_a_422_over_the_api(api: ApiClient,
                                                            tmp_path: Path) -> None:
    response = api.post("/imports", query_string={"format": "csv", "name": "found.csv"},
                        data=FOUND, content_type="text/csv")
    assert response.status_code == 422
    error = error_of(response)
    assert error["fields"] == [{"field": "found.csv, row 2, column name",
                                "message": "holds a NUL character, which cannot be stored"}]
    json_rows = b'[{"class": "hardware.laptop", "name": "x", "serial_number": "S\\u0000"}]'
    response = api.post("/imports", query_string={"format": "json", "name": "found.json"},
                        data=json_rows, content_type="application/json")
    assert response.status_code == 422
    assert error_of(response)["fields"][0]["field"] == "found.json, row 1, column serial_number"
