"""RFCs filed from incidents (issue 20, point 5): a change from INC names the incident it recovers
from, as the incident tool calls it. The reference is stored on the change, shown on its page,
filterable in the queue and the API, required for source inc and refused for any other; several
changes may name the same incident. Service, API and screens, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.support.api import ApiClient, error_of
from tests.support.helpers import at, laptop
from tests.support.web import login, make_app, post_form
from usm.services import changes
from usm.services.changes import ValidationFailed
from usm.services.platform import Database

INCIDENT = "INC-2026-0042"


def file_rfc(db: Database, serial: str, **details: Any) -> str:
    return changes.register_change(
        db, "carol", model="normal-change", title=f"Replace the laptop {serial}",
        operations=[laptop("a", serial)], now=at("2026-03-02"), **details).key


def fields_of(exc: ValidationFailed) -> dict[str, str]:
    return {e.field: e.message for e in exc.errors}


# -- the service -----------------------------------------------------------------------------------

def test_a_change_from_inc_keeps_its_incident_and_the_queue_filters_on_it(db: Database) -> None:
    first = file_rfc(db, "SN-INC-1", source="inc", incident_reference=f"  {INCIDENT} ")
    second = file_rfc(db, "SN-INC-2", source="inc", incident_reference=INCIDENT)
    other = file_rfc(db, "SN-INC-3", source="inc", incident_reference="SD-17")
    file_rfc(db, "SN-INC-4")  # from a customer: no incident

    detail = changes.change_detail(db, first)
    assert (detail.source, detail.incident_reference) == ("inc", INCIDENT)
    assert detail.log[0].comment == f"registered from inc (incident {INCIDENT})"
    assert [c.key for c in changes.list_changes(db, incident=INCIDENT)] == [second, first]
    assert [c.key for c in changes.list_changes(db, incident="SD-17")] == [other]
    assert changes.list_changes(db, incident="INC-0000") == []
    queue = changes.change_queue(db, changes.ChangeFilter(incident=INCIDENT))
    assert queue.total == 2 and {r.incident_reference for r in queue.rows} == {INCIDENT}
    assert len(changes.list_changes(db)) == 4


def test_a_change_from_inc_without_a_reference_is_refused_naming_the_field(db: Database) -> None:
    with pytest.raises(ValidationFailed) as missing:
        file_rfc(db, "SN-INC-5", source="inc")
    assert fields_of(missing.value) == {"incident_reference": "give the incident's reference"}
    with pytest.raises(ValidationFailed) as bad:
        file_rfc(db, "SN-INC-6", source="inc", incident_reference="INC 42; drop table")
    assert "incident_reference" in fields_of(bad.value)
    with pytest.raises(ValidationFailed) as long:
        file_rfc(db, "SN-INC-7", source="inc", incident_reference="I" * 65)
    assert "incident_reference" in fields_of(long.value)
    with pytest.raises(ValidationFailed) as not_inc:
        file_rfc(db, "SN-INC-8", source="customer", incident_reference=INCIDENT)
    assert "source inc" in fields_of(not_inc.value)["incident_reference"]
    assert changes.list_changes(db, open_only=False) == []  # nothing was registered


# -- the API ---------------------------------------------------------------------------------------

@pytest.fixture
def app(db_url: str) -> Iterator[Flask]:
    """The web app on each backend."""
    made = make_app(db_url)
    yield made
    made.extensions["usm_db"].dispose()


def rfc_body(serial: str, **fields: Any) -> dict[str, Any]:
    return {"model": "normal-change", "title": f"Replace the laptop {serial}",
            "operations": [laptop("a", serial)], **fields}


def test_an_incident_tool_files_rfcs_and_finds_them_by_incident(app: Flask) -> None:
    api = ApiClient(app)
    filed = api.post("/changes", json=rfc_body("SN-API-1", source="inc",
                                               incident_reference=INCIDENT))
    assert filed.status_code == 201, filed.get_data(as_text=True)
    body = filed.get_json()
    assert (body["source"], body["incident_reference"]) == ("inc", INCIDENT)
    again = api.post("/changes", json=rfc_body("SN-API-2", source="inc",
                                               incident_reference=INCIDENT))
    assert again.status_code == 201
    api.post("/changes", json=rfc_body("SN-API-3"))

    found = api.get(f"/changes?incident={INCIDENT}").get_json()["changes"]
    assert [c["key"] for c in found] == [again.get_json()["key"], body["key"]]
    assert {c["incident_reference"] for c in found} == {INCIDENT}
    assert api.get(f"/changes/{body['key']}").get_json()["incident_reference"] == INCIDENT
    assert len(api.get("/changes").get_json()["changes"]) == 3
    # a service owner reads them too
    assert api.get(f"/changes?incident={INCIDENT}", user="sam").status_code == 200


def test_the_api_refuses_an_rfc_from_inc_without_or_with_a_bad_reference(app: Flask) -> None:
    api = ApiClient(app)
    missing = api.post("/changes", json=rfc_body("SN-API-4", source="inc"))
    assert missing.status_code == 422
    assert [f["field"] for f in error_of(missing)["fields"]] == ["incident_reference"]
    bad = api.post("/changes", json=rfc_body("SN-API-5", source="inc",
                                             incident_reference="INC/42?x=1"))
    assert bad.status_code == 422
    assert [f["field"] for f in error_of(bad)["fields"]] == ["incident_reference"]
    other = api.post("/changes", json=rfc_body("SN-API-6", source="rim",
                                               incident_reference=INCIDENT))
    assert other.status_code == 422
    assert [f["field"] for f in error_of(other)["fields"]] == ["incident_reference"]
    assert api.get("/changes").get_json()["changes"] == []
    unauthenticated = api.post("/changes", user=None, json=rfc_body(
        "SN-API-7", source="inc", incident_reference=INCIDENT))
    assert unauthenticated.status_code == 401
    owner = api.post("/changes", user="sam", json=rfc_body(
        "SN-API-8", source="inc", incident_reference=INCIDENT))
    assert owner.status_code == 403


def test_the_openapi_document_states_the_reference_and_the_filter(app: Flask) -> None:
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    text = str(spec)
    assert "incident_reference" in text and "INC-2026-0042" in text
    params = {p["name"] for p in spec["paths"]["/api/v1/changes"]["get"]["parameters"]}
    assert "incident" in params


# -- the screens -----------------------------------------------------------------------------------

@pytest.fixture
def carol(app: Flask) -> FlaskClient:
    client = app.test_client()
    assert login(client, "carol").status_code == 302
    return client


def test_the_change_page_says_which_incident_raised_it(app: Flask, carol: FlaskClient) -> None:
    db: Database = app.extensions["usm_db"]
    key = file_rfc(db, "SN-WEB-1", source="inc", incident_reference=INCIDENT)
    plain = file_rfc(db, "SN-WEB-2")
    page = carol.get(f"/changes/{key}").get_data(as_text=True)
    assert f"Raised from incident {INCIDENT}" in page
    assert f"/changes?incident={INCIDENT}" in page
    assert "Raised from incident" not in carol.get(f"/changes/{plain}").get_data(as_text=True)


def test_the_queue_filters_on_the_incident(app: Flask, carol: FlaskClient) -> None:
    db: Database = app.extensions["usm_db"]
    first = file_rfc(db, "SN-WEB-3", source="inc", incident_reference=INCIDENT)
    second = file_rfc(db, "SN-WEB-4", source="inc", incident_reference=INCIDENT)
    plain = file_rfc(db, "SN-WEB-5")
    page = carol.get(f"/changes?incident={INCIDENT}").get_data(as_text=True)
    assert first in page and second in page and plain not in page
    assert f'value="{INCIDENT}"' in page  # the filter keeps what was asked
    assert "No change matches" in carol.get("/changes?incident=INC-0").get_data(as_text=True)
    everything = carol.get("/changes").get_data(as_text=True)
    assert first in everything and plain in everything


def test_the_new_change_form_takes_the_incident_reference(app: Flask, carol: FlaskClient) -> None:
    form = {"action": "register", "title": "Replace a broken laptop", "source": "inc",
            "create-0-class": "hardware.laptop", "create-0-name": "Laptop SN-WEB-6",
            "create-0-serial_number": "SN-WEB-6"}
    refused = post_form(carol, "/changes/new/normal-change", "/changes/new/normal-change", form)
    assert refused.status_code == 422
    assert "give the incident&#39;s reference" in refused.get_data(as_text=True)
    done = post_form(carol, "/changes/new/normal-change", "/changes/new/normal-change",
                     {**form, "incident_reference": INCIDENT})
    assert done.status_code == 302, done.get_data(as_text=True)[:2000]
    db: Database = app.extensions["usm_db"]
    (summary,) = changes.list_changes(db, incident=INCIDENT)
    assert summary.title == "Replace a broken laptop"
