"""Failures recorded from incidents (issue 20, point 5): an incident tool (or a coordinator on the
item's page) records that an item failed, when, under which incident, replaced or repaired. The
record is incident data, not a register edit; the item page shows it; and the spares report
counts the recorded failures of a pool instead of inferring them from status moves, saying
which it did. Service, API and screens, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.reports.test_spares import UTRECHT, build_pool, pool
from tests.support.api import ApiClient, error_of
from tests.support.helpers import at, implement_normal_change, laptop
from tests.support.web import csrf_token, login, make_app
from usm.services import incidents, register
from usm.services.errors import Invalid, NotFound
from usm.services.platform import Database
from usm.services.reports import spares_report

NOW = datetime.now(UTC)


def one_laptop(db: Database) -> str:
    implement_normal_change(db, [laptop("a", "SN-F-1", status="in_use")], at("2026-01-10"))
    return "LAP-000001"


def fields_of(exc: Invalid) -> dict[str, str]:
    return {e.field: e.message for e in exc.errors}


# -- the service -----------------------------------------------------------------------------------

def test_a_failure_is_recorded_and_read_back_newest_first(db: Database) -> None:
    key = one_laptop(db)
    before = register.item_view(db, key)
    first = incidents.record_failure(db, "carol", key, at=at("2026-02-01"),
                                     incident_reference="INC-2026-0001", outcome="repaired",
                                     note="keyboard")
    second = incidents.record_failure(db, "carol", key.lower(), at=at("2026-03-01"),
                                      incident_reference="INC-2026-0002", outcome="replaced")
    assert (first.item_key, first.item_name, first.outcome, first.note, first.recorded_by) == (
        key, "Laptop SN-F-1", "repaired", "keyboard", "carol")
    assert [f.id for f in incidents.item_failures(db, key)] == [second.id, first.id]
    # Not a register edit: the item has the same version, status and history as before.
    after = register.item_view(db, key)
    assert (after.version, after.core["status"]) == (before.version, before.core["status"])
    assert len(register.item_history(db, key)) == 1
    # The same incident may report the other outcome for the same item.
    incidents.record_failure(db, "carol", key, at=at("2026-02-02"),
                             incident_reference="INC-2026-0001", outcome="replaced")
    assert len(incidents.item_failures(db, key)) == 3


def test_the_same_failure_twice_is_refused_naming_the_first_record(db: Database) -> None:
    key = one_laptop(db)
    first = incidents.record_failure(db, "carol", key, at=at("2026-02-01"),
                                     incident_reference="INC-7", outcome="repaired")
    with pytest.raises(incidents.DuplicateFailure) as twice:
        incidents.record_failure(db, "carol", key, at=at("2026-02-03"),
                                 incident_reference="INC-7", outcome="repaired")
    assert twice.value.first.id == first.id
    assert str(twice.value).startswith(
        f"{key} already has a failure recorded under INC-7 with the outcome repaired: record "
        f"{first.id}, failed at 2026-02-01T09:00:00+00:00, recorded by carol")
    assert len(incidents.item_failures(db, key)) == 1


def test_moments_references_and_outcomes_are_checked_by_name(db: Database) -> None:
    key = one_laptop(db)
    with pytest.raises(Invalid) as future:
        incidents.record_failure(db, "carol", key, at=NOW + timedelta(hours=1),
                                 incident_reference="INC-1", outcome="replaced")
    assert fields_of(future.value) == {
        "at": "is in the future: give the moment the item failed"}
    with pytest.raises(Invalid) as early:
        incidents.record_failure(db, "carol", key, at=at("2026-01-09"),
                                 incident_reference="INC-1", outcome="replaced")
    assert fields_of(early.value)["at"].startswith(f"is before {key} was first registered")
    with pytest.raises(Invalid) as bad:
        incidents.record_failure(db, "carol", key, at=at("2026-02-01"),
                                 incident_reference="INC 1", outcome="lost", note="x" * 501)
    assert set(fields_of(bad.value)) == {"incident_reference", "outcome", "note"}
    with pytest.raises(NotFound):
        incidents.record_failure(db, "carol", "LAP-999999", at=at("2026-02-01"),
                                 incident_reference="INC-1", outcome="replaced")
    assert incidents.item_failures(db, key) == []


def test_the_list_filters_on_moment_and_class_and_pages(db: Database) -> None:
    key = one_laptop(db)
    implement_normal_change(db, [{"op": "create_item", "class": "hardware.monitor",
                                  "name": "Monitor 1", "status": "in_use"}], at("2026-01-11"))
    monitor = "MON-000001"
    for n, (item, day) in enumerate([(key, "2026-02-01"), (monitor, "2026-03-01"),
                                     (key, "2026-04-01")]):
        incidents.record_failure(db, "carol", item, at=at(day), incident_reference=f"INC-{n}",
                                 outcome="repaired")
    assert [f.incident_reference for f in incidents.list_failures(db)] == [
        "INC-2", "INC-1", "INC-0"]
    assert [f.incident_reference for f in incidents.list_failures(
        db, start=at("2026-02-15"), end=at("2026-03-15"))] == ["INC-1"]
    assert [f.item_key for f in incidents.list_failures(db, class_code="hardware")] == [
        key, monitor, key]
    assert [f.item_key for f in incidents.list_failures(db, class_code="hardware.laptop")] == [
        key, key]
    page = incidents.list_failures(db, limit=2)
    assert [f.incident_reference for f in incidents.list_failures(
        db, limit=2, after=page[-1].id)] == ["INC-0"]
    with pytest.raises(Invalid) as reversed_:
        incidents.list_failures(db, start=at("2026-03-01"), end=at("2026-02-01"))
    assert set(fields_of(reversed_.value)) == {"to"}


# -- spares: measured vs inferred ------------------------------------------------------------------

def test_without_records_the_failures_are_inferred_as_before(db: Database) -> None:
    build_pool(db)
    report = spares_report(db, pool("2026-06-30"))
    assert report.failures_from == "inferred" and report.recorded_failures == []
    assert report.failures_counted == len(report.replacements) == 4
    assert report.demand == Decimal(2) and report.spares_needed == 5


def test_recorded_failures_of_the_pool_replace_the_inferred_ones(db: Database) -> None:
    keys = build_pool(db)
    for serial, day, ref in [("U06", "2026-04-01", "INC-101"), ("U07", "2026-05-02", "INC-102"),
                             ("U08", "2026-06-20", "INC-103")]:
        incidents.record_failure(db, "carol", keys[serial], at=at(day), incident_reference=ref,
                                 outcome="replaced")
    # Not of the pool in its window: before the window (U09), in Amsterdam (A01), and after the
    # as-of day (U10).
    incidents.record_failure(db, "carol", keys["U09"], at=at("2026-03-01"),
                             incident_reference="INC-100", outcome="repaired")
    incidents.record_failure(db, "carol", keys["A01"], at=at("2026-05-01"),
                             incident_reference="INC-104", outcome="replaced")
    incidents.record_failure(db, "carol", keys["U10"], at=at("2026-07-01"),
                             incident_reference="INC-106", outcome="repaired")

    report = spares_report(db, pool("2026-06-30"))
    assert report.failures_from == "measured"
    assert [(f.item_name, f.incident_reference) for f in report.recorded_failures] == [
        ("Laptop U06", "INC-101"), ("Laptop U07", "INC-102"), ("Laptop U08", "INC-103")]
    assert report.failures_counted == 3
    assert len(report.replacements) == 4  # still listed, no longer counted
    # r = 3 / (10 x 100) = 0.003; lambda = 10 x 0.003 x 50 = 1.5;
    # P(<=3) = e^-1.5 (1 + 1.5 + 1.125 + 0.5625) = 0.934358 < 0.95
    # P(<=4) = e^-1.5 (4.1875 + 0.2109375) = 0.981424 >= 0.95 -> S = 4 (inferred: 5)
    assert report.rate_per_day == Decimal("0.003")
    assert report.demand == Decimal("1.5")
    assert report.spares_needed == 4 and report.shortfall == 2

    # Amsterdam's pool has its own record; Utrecht's before the first record is inferred.
    amsterdam = spares_report(db, replace(pool("2026-06-30"), location="Amsterdam office"))
    assert (amsterdam.failures_from, amsterdam.failures_counted) == ("measured", 1)
    early = spares_report(db, pool("2026-02-28"))  # before U09 failed on 1 March
    assert early.failures_from == "inferred"


# -- the API ---------------------------------------------------------------------------------------

@pytest.fixture
def app(db_url: str) -> Iterator[Flask]:
    """The web app on each backend."""
    made = make_app(db_url)
    yield made
    made.extensions["usm_db"].dispose()


@pytest.fixture
def api(app: Flask) -> ApiClient:
    one_laptop(app.extensions["usm_db"])
    return ApiClient(app)


FAILURE = {"at": "2026-02-01T10:30:00+01:00", "incident_reference": "INC-2026-0042",
           "outcome": "replaced", "note": "screen broken"}


def test_an_incident_tool_records_a_failure_over_the_api(api: ApiClient) -> None:
    done = api.post("/items/LAP-000001/failures", json=FAILURE)
    assert done.status_code == 201, done.get_data(as_text=True)
    body = done.get_json()
    assert (body["item_key"], body["at"], body["outcome"], body["recorded_by"]) == (
        "LAP-000001", "2026-02-01T09:30:00Z", "replaced", "carol")
    assert done.headers["Location"].endswith("/api/v1/items/LAP-000001/failures")
    twice = api.post("/items/LAP-000001/failures", json=FAILURE)
    assert twice.status_code == 409
    assert f"record {body['id']}" in error_of(twice)["message"]

    listed = api.get("/items/LAP-000001/failures", user="sam")
    assert listed.status_code == 200
    assert [f["incident_reference"] for f in listed.get_json()["failures"]] == ["INC-2026-0042"]
    assert api.get("/failures?from=2026-01-01&to=2026-12-31&class=hardware.laptop",
                   user="pat").get_json()["failures"][0]["id"] == body["id"]
    assert api.get("/failures?class=hardware.monitor").get_json()["failures"] == []
    assert api.get("/items/LAP-999999/failures").status_code == 404


def test_failures_are_refused_by_field_and_by_role(api: ApiClient) -> None:
    future = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    for body, field in [({**FAILURE, "at": future}, "at"), ({**FAILURE, "at": "2026-01-01"}, "at"),
                        ({**FAILURE, "outcome": "lost"}, "outcome"),
                        ({**FAILURE, "incident_reference": "INC 42"}, "incident_reference"),
                        ({k: v for k, v in FAILURE.items() if k != "at"}, "at")]:
        refused = api.post("/items/LAP-000001/failures", json=body)
        assert refused.status_code == 422, body
        assert [f["field"] for f in error_of(refused)["fields"]] == [field]
    assert api.post("/items/LAP-999999/failures", json=FAILURE).status_code == 404
    assert api.post("/items/LAP-000001/failures", user=None, json=FAILURE).status_code == 401
    assert api.get("/failures", user=None).status_code == 401
    for reader in ("sam", "pat"):
        assert api.post("/items/LAP-000001/failures", user=reader, json=FAILURE).status_code == 403
    assert api.get("/failures", user="ada").status_code == 403
    assert api.get("/items/LAP-000001/failures").get_json()["failures"] == []


def test_the_list_of_failures_pages(api: ApiClient) -> None:
    for n in range(3):
        assert api.post("/items/LAP-000001/failures", json={
            **FAILURE, "incident_reference": f"INC-{n}"}).status_code == 201
    first = api.get("/failures?limit=2").get_json()
    assert [f["incident_reference"] for f in first["failures"]] == ["INC-2", "INC-1"]
    rest = api.get(first["next"]).get_json()
    assert [f["incident_reference"] for f in rest["failures"]] == ["INC-0"]
    assert rest["next"] is None
    assert api.get("/failures?cursor=nonsense").status_code == 422


def test_the_spares_api_says_which_failures_it_counts(app: Flask) -> None:
    db: Database = app.extensions["usm_db"]
    keys = build_pool(db)
    api = ApiClient(app)
    query = f"/reports/spares?class=hardware.laptop&location={UTRECHT}&as_of=2026-06-30" \
            "&window_days=100"
    inferred = api.get(query, user="sam").get_json()
    assert (inferred["failures_from"], inferred["failures_counted"]) == ("inferred", 4)
    assert inferred["spares_needed"] == 5
    for serial, ref in [("U06", "INC-1"), ("U07", "INC-2"), ("U08", "INC-3")]:
        assert api.post(f"/items/{keys[serial]}/failures", json={
            "at": "2026-05-01", "incident_reference": ref, "outcome": "repaired"}
        ).status_code == 201
    measured = api.get(query, user="sam").get_json()
    assert (measured["failures_from"], measured["failures_counted"]) == ("measured", 3)
    assert [f["incident_reference"] for f in measured["recorded_failures"]] == [
        "INC-1", "INC-2", "INC-3"]
    assert measured["demand"] == "1.5000" and measured["spares_needed"] == 4


# -- the screens -----------------------------------------------------------------------------------

def client_of(app: Flask, user: str) -> FlaskClient:
    client = app.test_client()
    assert login(client, user).status_code == 302
    return client


def test_the_item_page_shows_its_failures_newest_first(app: Flask) -> None:
    db: Database = app.extensions["usm_db"]
    key = one_laptop(db)
    implement_normal_change(db, [laptop("b", "SN-F-2", status="in_use")], at("2026-01-11"))
    incidents.record_failure(db, "carol", key, at=at("2026-02-01"),
                             incident_reference="INC-OLD", outcome="repaired")
    incidents.record_failure(db, "carol", key, at=at("2026-03-01"),
                             incident_reference="INC-NEW", outcome="replaced")
    sam = client_of(app, "sam")
    page = sam.get(f"/items/{key}").get_data(as_text=True)
    assert "Failures from incidents" in page
    assert page.index("INC-NEW") < page.index("INC-OLD")
    assert "replaced" in page and "repaired" in page
    assert "Record a failure" not in page  # a service owner reads, does not record
    empty = sam.get("/items/LAP-000002").get_data(as_text=True)
    assert "No failure of this item has been recorded from an incident." in empty


def test_a_coordinator_records_a_failure_on_the_item_page(app: Flask) -> None:
    db: Database = app.extensions["usm_db"]
    key = one_laptop(db)
    carol = client_of(app, "carol")
    item_page = f"/items/{key}"
    assert "Record a failure" in carol.get(item_page).get_data(as_text=True)
    form = {"at": "2026-02-01T10:30", "incident_reference": "INC-WEB-1", "outcome": "repaired",
            "note": "fan"}
    no_token = carol.post(f"/items/{key}/failures", data=form)
    assert no_token.status_code == 400  # CSRF
    done = carol.post(f"/items/{key}/failures",
                      data={**form, "csrf_token": csrf_token(carol, item_page)})
    assert done.status_code == 302 and done.headers["Location"].endswith("#failures-heading")
    page = carol.get(item_page).get_data(as_text=True)
    assert "The failure of LAP-000001 under INC-WEB-1 is recorded." in page
    assert "INC-WEB-1" in page and "fan" in page
    again = carol.post(f"/items/{key}/failures",
                       data={**form, "csrf_token": csrf_token(carol, item_page)})
    assert again.status_code == 302
    assert "already has a failure recorded under INC-WEB-1" in carol.get(item_page).get_data(
        as_text=True)
    late = carol.post(f"/items/{key}/failures", data={
        **form, "at": "2099-01-01T00:00", "incident_reference": "INC-WEB-2",
        "csrf_token": csrf_token(carol, item_page)})
    assert late.status_code == 302
    assert "The failure was not recorded" in carol.get(item_page).get_data(as_text=True)
    assert [f.incident_reference for f in incidents.item_failures(db, key)] == ["INC-WEB-1"]
    sam = client_of(app, "sam")
    refused = sam.post(f"/items/{key}/failures",
                       data={**form, "csrf_token": csrf_token(sam, item_page)})
    assert refused.status_code == 403


def test_the_spares_page_says_which_failures_it_counts(app: Flask) -> None:
    db: Database = app.extensions["usm_db"]
    keys = build_pool(db)
    sam = client_of(app, "sam")
    url = (f"/reports/spares?class=hardware.laptop&location={UTRECHT}&as_of=2026-06-30"
           "&window_days=100")
    assert "Inferred from repairs and retirements" in sam.get(url).get_data(as_text=True)
    for serial, ref in [("U06", "INC-1"), ("U07", "INC-2"), ("U08", "INC-3")]:
        incidents.record_failure(db, "carol", keys[serial], at=at("2026-05-01"),
                                 incident_reference=ref, outcome="replaced")
    page = sam.get(url).get_data(as_text=True)
    assert "Measured: 3 failures recorded from incidents" in page
    assert "Failures recorded from incidents" in page and "INC-2" in page
    assert "Not counted: the failures recorded from incidents are used instead." in page
