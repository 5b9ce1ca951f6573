"""Asset labels over the API: the web's PDF for keys, who may have it, and its refusals."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.support.api import ApiClient, error_of
from tests.support.helpers import at, implement_normal_change, laptop
from tests.support.pdf import page_count, qr_codes
from usm.services.platform import Database


@pytest.fixture
def api(web_app: Flask, web_db: Database) -> ApiClient:
    implement_normal_change(web_db, [laptop("a", "SN-P-1"), laptop("b", "SN-P-2")],
                            at("2026-01-10"))
    return ApiClient(web_app)


def test_register_readers_get_the_labels_pdf(api: ApiClient) -> None:
    for user in ("carol", "sam", "pat"):
        response = api.get("/labels", user, query_string={
            "keys": "LAP-000002,lap-000001", "sheet": "avery-5160", "first": "30"})
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        assert response.mimetype == "application/pdf"
        assert response.headers["Content-Disposition"] == 'attachment; filename="labels-2.pdf"'
        assert page_count(response.data) == 2
        assert qr_codes(response.data, 0) == ["http://localhost/items/LAP-000002"]
    assert api.get("/labels?keys=LAP-000001", "ada").status_code == 403
    assert api.get("/labels?keys=LAP-000001", None).status_code == 401


def test_refusals_name_the_parameter(api: ApiClient) -> None:
    unknown = api.get("/labels?keys=LAP-000001,LAP-000009")
    assert unknown.status_code == 404 and "LAP-000009" in error_of(unknown)["message"]
    position = api.get("/labels?keys=LAP-000001&sheet=avery-l7163&first=15")
    assert position.status_code == 422
    assert error_of(position)["fields"][0]["field"] == "first"
    sheet = api.get("/labels?keys=LAP-000001&sheet=a4-99")
    assert sheet.status_code == 422 and error_of(sheet)["fields"][0]["field"] == "sheet"
    assert api.get("/labels").status_code == 422  # keys are required
