"""Controls that hold against what a change really does, not only against what was typed: a cost
limit weighs the change set's value, an amount never goes in without its currency, and the
approvals a model waits for authorise the change by themselves."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.support.helpers import laptop
from usm.services import changes
from usm.services.errors import ValidationFailed
from usm.services.platform import Database


def _storage_array(cost: str, currency: str = "EUR") -> dict[str, Any]:
    return {"op": "create_item", "ref": "array", "class": "hardware.storage",
            "name": "Storage array", "serial_number": "SAN-1", "status": "in_stock",
            "purchase_cost": cost, "currency": currency}


def _receipt(db: Database, operations: list[dict[str, Any]], estimate: str = "100") -> str:
    """A hardware receipt checked and ready to accept, with a low typed estimate."""
    key = changes.register_change(
        db, "carol", model="hardware-receipt", title="Storage delivery", operations=operations,
        risk="low", cost_estimate=estimate, currency="EUR",
        fields={"purchase_order": "PO-1", "delivery_note": "DN-1"}).key
    changes.move_change(db, key, "check_delivery", "carol")
    return key


def test_a_low_estimate_does_not_carry_a_costly_change_set_past_the_limit(db: Database) -> None:
    key = _receipt(db, [_storage_array("90000.00")])

    detail = changes.change_detail(db, key, "carol")
    assert detail.change_set_value == {"EUR": Decimal("90000.00")}
    accept = next(o for o in detail.options if o.trigger == "accept_delivery")
    assert not accept.allowed
    assert accept.reasons == [
        "the change set is worth 90000.00 EUR, above this model's limit of 25000"]
    with pytest.raises(changes.TransitionRefused, match="worth 90000.00 EUR"):
        changes.move_change(db, key, "accept_delivery", "carol")
    assert changes.change_detail(db, key).summary.step == "assessment", "not pre-authorised"


def test_a_change_set_within_the_limit_is_pre_authorised_on_its_value(db: Database) -> None:
    key = _receipt(db, [laptop("a", "SN-1", purchase_cost="1249.50", currency="EUR",
                               status="in_stock"),
                        laptop("b", "SN-2", purchase_cost="1249.50", currency="EUR",
                               status="in_stock")], estimate="100")
    assert changes.change_detail(db, key).change_set_value == {"EUR": Decimal("2499.00")}
    assert changes.move_change(db, key, "accept_delivery", "carol").step == "planning"


def test_the_higher_of_estimate_and_value_counts(db: Database) -> None:
    key = _receipt(db, [_storage_array("900.00")], estimate="30000")
    with pytest.raises(changes.TransitionRefused, match="cost 30000.00 is above this model's "
                                                        "limit of 25000"):
        changes.move_change(db, key, "accept_delivery", "carol")


def test_amounts_in_two_currencies_are_not_weighed_against_one_limit(db: Database) -> None:
    key = _receipt(db, [_storage_array("900.00", "USD"),
                        laptop("a", "SN-1", purchase_cost="900.00", currency="EUR",
                               status="in_stock")])
    with pytest.raises(changes.TransitionRefused, match="amounts are in EUR and USD"):
        changes.move_change(db, key, "accept_delivery", "carol")


def test_the_value_follows_the_change_set_when_it_is_edited(db: Database) -> None:
    key = _receipt(db, [_storage_array("900.00")])
    changes.replace_change_set(db, key, "carol", [_storage_array("120000.00")])
    assert changes.change_detail(db, key).change_set_value == {"EUR": Decimal("120000.00")}


@pytest.mark.parametrize("operation, field", [
    (laptop("a", "SN-1", purchase_cost="1249.00"), "operations[0].currency"),
    (laptop("a", "SN-1", residual_value="100.00"), "operations[0].currency"),
])
def test_an_amount_is_never_registered_without_its_currency(db: Database, operation: dict[str, Any],
                                                            field: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        changes.register_change(db, "carol", model="normal-change", title="No currency",
                                operations=[operation])
    assert [(e.field, e.message) for e in refused.value.errors] == [
        (field, f"give the currency of {next(k for k in operation if k.endswith(('_cost', '_value')))} "
                "(e.g. EUR)")]
    assert changes.list_changes(db, open_only=False) == []


def _within_window_model(db: Database) -> None:
    """normal-change with a guard on implementing: only inside the planned window."""
    from usm.services import change_models
    from usm.services.change_models import TransitionForm, set_transition

    draft = change_models.draft_from(db, "normal-change", 1)
    source = change_models.version_source(db, "normal-change", draft.version)
    change_models.update_draft(db, "normal-change", draft.version, set_transition(
        source, TransitionForm(trigger="implement", label="Implement and register",
                               sources=["building"], dest="implemented",
                               roles=["change_coordinator"], flags=["within_window"]),
        original="implement"))
    change_models.publish(db, "normal-change", draft.version)


def test_a_model_can_refuse_implementation_outside_the_planned_window(db: Database) -> None:
    from tests.support.helpers import at, to_realisation

    _within_window_model(db)
    key = changes.register_change(db, "carol", model="normal-change", title="Windowed",
                                  operations=[laptop("a", "SN-1")], now=at("2026-03-01")).key
    to_realisation(db, key, at("2026-03-01"))  # window: 10:00 to 11:00 on 2026-03-01
    with pytest.raises(changes.TransitionRefused, match=r"outside the planned window "
                                                        r"\(2026-03-01 10:00 to 2026-03-01 "
                                                        r"11:00 UTC\)"):
        changes.move_change(db, key, "implement", "carol", now=at("2026-03-01", 12))
    assert changes.move_change(db, key, "implement", "carol",
                               now=at("2026-03-01", 10)).step == "implementation"
