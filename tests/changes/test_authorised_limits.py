"""A change is implemented as it was authorised: once past authorisation its cost and risk cannot be
raised without authorising it again (a standard change pre-authorised at 900 / low cannot become
250,000 / high by an edit), through the services, the web form and the API alike. Lowering them,
and every other detail, stays free."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from tests.support.api import ApiClient, error_of
from tests.support.helpers import at, implement_normal_change, laptop
from tests.support.web import csrf_token, login
from usm.services import changes
from usm.services.errors import ValidationFailed
from usm.services.platform import Database

MONITOR = {"op": "create_item", "ref": "m", "class": "hardware.monitor", "name": "Spare monitor",
           "status": "in_stock"}
INSTANCE = {"op": "create_item", "ref": "vm", "class": "cloud.instance", "name": "web-1",
            "attributes": {"provider": "aws", "instance_type": "t3.small"}}
WINDOW = {"planned_start": at("2026-03-01"), "planned_end": at("2026-03-02")}
STANDARD_WAY = "withdraw the change and register it again"


def _pre_authorised(db: Database, cost: str = "900", risk: str = "low") -> str:
    """A standard change the model authorised for ``cost`` EUR and ``risk``: now in planning."""
    key = changes.register_change(db, "carol", model="standard-change", title="Spare monitor",
                                  operations=[MONITOR], impact="none", risk=risk,
                                  cost_estimate=cost, currency="EUR").key
    changes.move_change(db, key, "check", "carol")
    assert changes.move_change(db, key, "confirm_standard", "carol").step == "planning"
    return key


def _refusal(db: Database, key: str, values: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as refused:
        changes.update_change(db, key, "carol", values)
    return {e.field: e.message for e in refused.value.errors}


def test_cost_and_risk_cannot_be_raised_after_pre_authorisation(db: Database) -> None:
    key = _pre_authorised(db)
    version = changes.change_summary(db, key).version

    problems = _refusal(db, key, {"cost_estimate": "250000", "risk": "high"})

    assert problems == {
        "risk": f"{key} was authorised at risk low; risk high needs a new authorisation: "
                f"this model has no way back from here; {STANDARD_WAY}",
        "cost_estimate": f"{key} was authorised for a cost of at most 900.00 EUR; a cost of "
                         f"250000.00 EUR needs a new authorisation: this model has no way back "
                         f"from here; {STANDARD_WAY}",
    }
    detail = changes.change_detail(db, key)
    assert (detail.cost_estimate, detail.risk) == (Decimal("900.00"), "low")
    assert detail.summary.version == version, "nothing was written"


def test_lower_limits_and_other_details_stay_free(db: Database) -> None:
    key = _pre_authorised(db)
    changes.update_change(db, key, "carol", {"cost_estimate": "450", **WINDOW,
                                             "description": "the second monitor"})
    changes.update_change(db, key, "carol", {"cost_estimate": "900.00", "risk": "low"})
    assert changes.change_detail(db, key).cost_estimate == Decimal("900.00")
    # an amount in another currency cannot be weighed against the authorised one
    assert set(_refusal(db, key, {"currency": "USD"})) == {"cost_estimate"}
    assert set(_refusal(db, key, {"cost_estimate": "900.01"})) == {"cost_estimate"}


def test_the_way_back_the_model_offers_is_named_and_authorises_again(db: Database) -> None:
    key = changes.register_change(db, "carol", model="cloud-instance-request", title="web-1",
                                  operations=[INSTANCE], risk="low", cost_estimate="1500",
                                  currency="EUR", fields={"business_justification": "load"},
                                  **WINDOW).key
    for trigger in ("size", "confirm_catalogue", "provision"):
        changes.move_change(db, key, trigger, "carol")
    assert changes.change_summary(db, key).step == "realisation"

    problems = _refusal(db, key, {"cost_estimate": "2500"})
    assert problems["cost_estimate"].endswith(
        "needs a new authorisation: send it back to authorisation first (Resize (back to "
        "sizing))")

    changes.move_change(db, key, "resize", "carol")  # back to sizing: limits are open again
    changes.update_change(db, key, "carol", {"cost_estimate": "2500"})
    with pytest.raises(changes.TransitionRefused, match="above this model's limit of 2000"):
        changes.move_change(db, key, "confirm_catalogue", "carol")
    changes.update_change(db, key, "carol", {"cost_estimate": "1900"})
    changes.move_change(db, key, "confirm_catalogue", "carol")
    assert set(_refusal(db, key, {"cost_estimate": "1900.50"})) == {"cost_estimate"}


def test_an_approved_change_keeps_the_risk_its_approvers_saw(db: Database) -> None:
    key = changes.register_change(db, "carol", model="normal-change", title="Two laptops",
                                  operations=[laptop("a", "SN-1")]).key
    changes.move_change(db, key, "assess", "carol")
    changes.update_change(db, key, "carol", {"risk": "medium", "impact": "some"})
    changes.move_change(db, key, "submit_for_approval", "carol")
    changes.approve_change(db, key, "sam")
    assert changes.change_summary(db, key).step == "planning"
    assert set(_refusal(db, key, {"risk": "high"})) == {"risk"}
    # no cost was given at authorisation: a cost now was never authorised
    assert _refusal(db, key, {"cost_estimate": "10", "currency": "EUR"})["cost_estimate"] \
        .startswith(f"{key} was authorised for a cost of at most nothing (no cost was given);")
    changes.update_change(db, key, "carol", {"risk": "low", "cost_estimate": "0",
                                             "currency": "EUR"})


def test_after_implementation_the_actual_cost_may_be_recorded(db: Database) -> None:
    key = implement_normal_change(db, [laptop("a", "SN-1")], at("2026-01-10"))
    changes.move_change(db, key, "evaluate", "carol")
    changes.update_change(db, key, "carol", {"cost_estimate": "1200", "currency": "EUR",
                                             "risk": "high"})
    assert changes.change_detail(db, key).cost_estimate == Decimal("1200.00")


def test_the_web_form_names_the_refusal(web_client: FlaskClient, web_db: Database) -> None:
    key = _pre_authorised(web_db)
    login(web_client, "carol")
    page = f"/changes/{key}"
    version = changes.change_summary(web_db, key).version
    response = web_client.post(page + "/details", data={
        "csrf_token": csrf_token(web_client, page), "version": str(version),
        "cost_estimate": "250000", "currency": "EUR", "risk": "high", "impact": "none"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "was authorised for a cost of at most 900.00 EUR" in html
    assert "was authorised at risk low" in html
    assert changes.change_detail(web_db, key).cost_estimate == Decimal("900.00")


def test_the_api_refuses_the_patch(web_app: Flask, web_db: Database) -> None:
    api = ApiClient(web_app)
    key = _pre_authorised(web_db)
    etag = api.get(f"/changes/{key}").headers["ETag"]
    response = api.patch(f"/changes/{key}", headers={"If-Match": etag},
                         json={"cost_estimate": "250000.00", "risk": "high"})
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "validation_failed"
    assert {f["field"] for f in error["fields"]} == {"cost_estimate", "risk"}
    assert api.get(f"/changes/{key}").get_json()["cost_estimate"] == "900.00"
    lowered = api.patch(f"/changes/{key}", headers={"If-Match": etag},
                        json={"cost_estimate": "800.00"})
    assert lowered.status_code == 200, lowered.get_json()


def test_changes_past_authorisation_before_0012_keep_what_they_stand_at(db_url: str) -> None:
    from alembic import command

    from usm.db import alembic_config, upgrade

    database = Database.connect(db_url)
    try:
        key = _pre_authorised(database, cost="900.50")
    finally:
        database.dispose()
    command.downgrade(alembic_config(db_url), "0011")
    upgrade(db_url)
    database = Database.connect(db_url)
    try:
        with database.engine.connect() as connection:
            stored = connection.execute(text("SELECT authorised FROM chm_change WHERE key = :key"),
                                        {"key": key}).scalar_one()
        assert (stored if isinstance(stored, dict) else json.loads(stored)) == {
            "risk": "low", "cost_estimate": "900.50", "currency": "EUR", "change_set_value": {}}
        assert set(_refusal(database, key, {"risk": "medium"})) == {"risk"}
    finally:
        database.dispose()
