"""Spares: the Poisson base-stock figure, worked by hand, and its inputs measured from the register
(installed base, replacements, lead time of hardware receipts), as of days before and after the
changes that move them; overrides and bad input."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from bir.items import Item
from tests.support.helpers import at, implement_normal_change, laptop
from usm.services import changes
from usm.services.platform import Database
from usm.services.reports import SparesQuery, query_from_args, spares_report
from usm.services.reports.spares import base_stock, poisson_cumulative
from usm.services.user_input import InputError

UTRECHT = "Utrecht office"

# -- the Poisson calculation, by hand --------------------------------------------------------------


def test_lambda_two_at_95_percent_needs_five() -> None:
    # P(X<=4) = e^-2 (1 + 2 + 2 + 4/3 + 2/3) = 7 e^-2 = 0.947347 < 0.95
    # P(X<=5) = e^-2 (7 + 32/120) = 7.266667 e^-2 = 0.983436 >= 0.95  -> S = 5
    sums = poisson_cumulative(2.0, 5)
    assert sums[4] == pytest.approx(7 * math.exp(-2), abs=1e-12)
    assert round(sums[4], 4) == 0.9473
    assert round(sums[5], 4) == 0.9834
    assert base_stock(2.0, 0.95) == 5
    # At 98.5% five no longer do: 0.983436 < 0.985 <= P(X<=6) = (7.266667 + 64/720) e^-2 = 0.995466
    assert base_stock(2.0, 0.985) == 6


def test_small_demand_and_no_demand() -> None:
    # lambda = 0.5: P(0) = e^-0.5 = 0.606531; P(<=1) = 1.5 e^-0.5 = 0.909796;
    # P(<=2) = 1.625 e^-0.5 = 0.985612 -> 95% needs 2; 90% needs 1 (0.909796 >= 0.90)
    assert base_stock(0.5, 0.95) == 2
    assert base_stock(0.5, 0.90) == 1
    assert base_stock(0.5, 0.60) == 0  # 0.606531 >= 0.60
    assert base_stock(0.0, 0.9999) == 0  # nothing breaks: no spare needed
    assert poisson_cumulative(0.0, 2) == [1.0, 1.0, 1.0]


def test_large_demand_does_not_underflow() -> None:
    # e^-1000 underflows a float; the terms are taken in log space. For a large lambda the
    # Poisson is close to normal: S(95%) ~ lambda + 1.645 sqrt(lambda) = 1000 + 52.0
    assert 1050 <= base_stock(1000.0, 0.95) <= 1054


def test_service_level_must_be_a_share() -> None:
    with pytest.raises(ValueError):
        base_stock(2.0, 1.0)


# -- measured from the register --------------------------------------------------------------------

def receive(db: Database, operations: list[dict], implemented: datetime,
            title: str = "Laptops delivered", **dates: str) -> str:
    """A hardware-receipt change registered on the delivery day (six hours before ``implemented``,
    its steps an hour apart), recording the order and delivery ``dates`` given (``ordered_on``,
    ``delivered_on``)."""
    registered = implemented - timedelta(hours=6)
    key = changes.register_change(
        db, "carol", model="hardware-receipt", title=title, operations=operations,
        now=registered, risk="low", coordinator="carol", cost_estimate="0",
        fields={"purchase_order": "PO-1", "delivery_note": "DN-1", **dates}).key
    for hour, trigger in enumerate(("check_delivery", "accept_delivery", "start_labelling"), 1):
        changes.move_change(db, key, trigger, "carol", now=registered + timedelta(hours=hour))
    changes.move_change(db, key, "register_stock", "carol", now=implemented)
    return key


def retire(db: Database, items: list[str], when: datetime, reason: str | None,
           title: str = "Laptops retired") -> str:
    """An asset-retirement change of ``items`` implemented at ``when`` (registered six hours
    before), recording ``reason`` as its retirement reason (none when ``None``)."""
    start = when - timedelta(hours=6)
    fields = {"disposal_method": "recycling", "data_wipe_certificate": "WIPE-1"}
    if reason is not None:
        fields["retirement_reason"] = reason
    key = changes.register_change(
        db, "carol", model="asset-retirement", title=title, now=start, fields=fields,
        operations=[{"op": "set_status", "item": item, "status": "retired"} for item in items]).key
    changes.move_change(db, key, "assess", "carol", now=start + timedelta(hours=1))
    changes.update_change(db, key, "carol", {
        "risk": "low", "impact": "none", "planned_start": when - timedelta(hours=1),
        "planned_end": when + timedelta(hours=1)}, now=start + timedelta(hours=1, minutes=30))
    changes.move_change(db, key, "submit_for_approval", "carol", now=start + timedelta(hours=2))
    changes.approve_change(db, key, "sam", now=start + timedelta(hours=3))
    changes.move_change(db, key, "start_decommissioning", "carol", now=start + timedelta(hours=4))
    changes.move_change(db, key, "retire", "carol", now=when)
    return key


def build_pool(db: Database) -> dict[str, str]:
    """A laptop pool in Utrecht, as the spares tests and the web and API tests use it.

    2026-01-10: 15 laptops in use and 2 in stock in Utrecht, 1 in use in Amsterdam.
    2026-02-01: U01 to maintenance (before any 100-day window below).
    2026-04-10: receipt 1, ordered 2026-03-01 (40 days), 1 laptop into the central store.
    2026-06-10: receipt 2, ordered 2026-04-11 (60 days), 1 laptop into the central store.
    2026-05-20: U02, U03 to maintenance.  2026-06-15: U04, U05 and A01 retired as failures.
    Each receipt is registered on its delivery day. Returns the item keys by serial number and the
    change keys as "receipt 1", "receipt 2" and "failures".
    """
    ops = [laptop(f"u{n}", f"U{n:02d}", name=f"Laptop U{n:02d}", status="in_use",
                  location=UTRECHT) for n in range(1, 16)]
    ops += [laptop(f"s{n}", f"S{n:02d}", status="in_stock", location=UTRECHT) for n in (1, 2)]
    ops += [laptop("a1", "A01", status="in_use", location="Amsterdam office")]
    implement_normal_change(db, ops, at("2026-01-10"), title="Laptops in use")
    with db.reading() as session:
        keys = dict(session.execute(select(Item.serial_number, Item.key)).all())
    implement_normal_change(db, [{"op": "set_status", "item": keys["U01"],
                                  "status": "maintenance"}], at("2026-02-01"))
    keys["receipt 1"] = receive(
        db, [laptop("r1", "R01", status="in_stock", location="Central store")],
        at("2026-04-10", 14), ordered_on="2026-03-01", delivered_on="2026-04-10")
    keys["receipt 2"] = receive(
        db, [laptop("r2", "R02", status="in_stock", location="Central store")],
        at("2026-06-10", 14), ordered_on="2026-04-11", delivered_on="2026-06-10")
    implement_normal_change(db, [{"op": "set_status", "item": keys[s], "status": "maintenance"}
                                 for s in ("U02", "U03")], at("2026-05-20"))
    keys["failures"] = retire(db, [keys[s] for s in ("U04", "U05", "A01")], at("2026-06-15"),
                              "failure", title="Broken laptops retired")
    return keys


def pool(as_of: str, **given: object) -> SparesQuery:
    return SparesQuery(class_code="hardware.laptop", location=UTRECHT,
                       as_of=datetime.fromisoformat(as_of).date(), window_days=100,
                       **given)  # type: ignore[arg-type]


def test_measured_inputs_give_lambda_two_and_five_spares(db: Database) -> None:
    keys = build_pool(db)
    report = spares_report(db, pool("2026-06-30"))

    # Base: 15 in use - U01 - U02 - U03 - U04 - U05 = 10. Stock: S01, S02 (R01/R02 are elsewhere).
    assert (report.installed_base, report.stock_on_hand) == (10, 2)
    # Window: the 100 days up to 2026-06-30: U02, U03 (May 20), U04, U05 (June 15); A01 is in
    # Amsterdam and U01 (February) is before the window.
    assert sorted(r.item_name for r in report.replacements) == [
        "Laptop U02", "Laptop U03", "Laptop U04", "Laptop U05"]
    assert {r.change_key for r in report.replacements if r.to_status == "retired"} == {
        keys["failures"]}
    assert report.not_counted == []
    # The pool was registered on 2026-01-10, before the window: all 100 days are observed.
    assert (report.observed_from, report.observed_days) == (date(2026, 3, 22), 100)
    assert not report.observation_short
    # r = 4 / (10 x 100) = 0.004 per device per day
    assert report.rate_per_day == Decimal("0.004")
    # L = (40 + 60) / 2 = 50 days, from the order and delivery dates the receipts record
    assert [(d.change_key, d.ordered, d.delivered, d.days) for d in report.deliveries] == [
        (keys["receipt 1"], date(2026, 3, 1), date(2026, 4, 10), Decimal(40)),
        (keys["receipt 2"], date(2026, 4, 11), date(2026, 6, 10), Decimal(60))]
    assert report.lead_days == Decimal(50)
    # No service the laptops support records an agreed level: the default 95%.
    assert (report.service_level, report.service_level_from) == (Decimal(95), "default")
    # lambda = 10 x 0.004 x 50 x 1 = 2 -> S = 5 (see the Poisson test above)
    assert report.demand == Decimal(2)
    assert report.spares_needed == 5
    assert report.shortfall == 3  # 5 needed - 2 in stock
    # Two spares serve P(X<=2) = 5 e^-2 = 0.676676 of lead times
    assert report.stock_service_level == pytest.approx(5 * math.exp(-2))
    assert [k for k, _ in report.cumulative] == [1, 2, 3, 4, 5, 6, 7]


def test_as_of_before_the_retirements_and_before_the_second_receipt(db: Database) -> None:
    build_pool(db)
    before_retirement = spares_report(db, pool("2026-06-14"))
    # Base 15 - 3 = 12; replacements in the window: U02, U03 -> r = 2 / (12 x 100);
    # receipts 40 and 60 days -> L = 50; lambda = 12 x 2/1200 x 50 = 1.
    # P(<=2) = 2.5 e^-1 = 0.919699 < 0.95 <= P(<=3) = 2.666667 e^-1 = 0.981012 -> S = 3
    assert before_retirement.installed_base == 12
    assert len(before_retirement.replacements) == 2
    assert before_retirement.demand == Decimal(1)
    assert before_retirement.spares_needed == 3
    assert before_retirement.shortfall == 1

    before_receipt = spares_report(db, pool("2026-06-09"))
    # Receipt 2 was registered on June 10: only receipt 1 (40 days) counts.
    # lambda = 12 x 2/1200 x 40 = 0.8; P(<=1) = 1.8 e^-0.8 = 0.808792;
    # P(<=2) = 2.12 e^-0.8 = 0.952577 >= 0.95 -> S = 2, which the 2 in stock cover.
    assert before_receipt.lead_days == Decimal(40)
    assert before_receipt.demand == Decimal("0.8")
    assert before_receipt.spares_needed == 2
    assert before_receipt.shortfall == 0


def test_without_any_receipt_the_lead_time_must_be_given(db: Database) -> None:
    build_pool(db)
    report = spares_report(db, pool("2026-04-01"))
    assert report.deliveries == [] and report.lead_days is None
    assert report.demand is None and report.spares_needed is None
    assert report.missing == ["lead_time_days"]
    # Given 50 days: base 14 (U01 in maintenance). The 100-day window would start on
    # 2025-12-22, but the pool was first registered on 2026-01-10: 82 days are observed
    # (January 10 to April 1, both counted), holding U01's move (February 1) -> r = 1 / (14 x 82);
    # lambda = 14 x 1/1148 x 50 = 50/82 = 0.609756; P(<=1) = 1.609756 e^-0.609756 = 0.874889
    # < 0.95 <= P(<=2) = 1.795671 e^-0.609756 = 0.975936 -> S = 2
    given = spares_report(db, pool("2026-04-01", lead_time_days=Decimal(50)))
    assert (given.observed_from, given.observed_days) == (date(2026, 1, 10), 82)
    assert given.observation_short
    assert given.rate_per_day == Decimal(1) / Decimal(14 * 82)
    assert (given.installed_base, given.spares_needed) == (14, 2)
    assert given.demand == pytest.approx(Decimal(50) / Decimal(82))
    # Nothing in use at a location without laptops: no demand, whatever the lead time.
    empty = spares_report(db, SparesQuery(class_code="hardware.laptop", location="Nowhere",
                                          as_of=at("2026-04-01").date()))
    assert (empty.installed_base, empty.demand, empty.spares_needed) == (0, Decimal(0), 0)


def test_receipts_before_the_window_are_used_when_none_fall_in_it(db: Database) -> None:
    build_pool(db)
    # 2026-04-20 with a 7-day window (from 04-13): no receipt in it; the only earlier one is
    # receipt 1 (registered 04-10, 40 days): L = 40.
    report = spares_report(db, SparesQuery(class_code="hardware.laptop", location=UTRECHT,
                                           as_of=at("2026-04-20").date(), window_days=7))
    assert report.deliveries_in_window is False
    assert report.lead_days == Decimal(40)


def test_overrides_rate_lead_time_growth_and_service_level(db: Database) -> None:
    build_pool(db)
    report = spares_report(db, pool("2026-06-30", rate_percent_per_year=Decimal("36.5"),
                                    lead_time_days=Decimal(100), growth_percent=Decimal(50)))
    # r = 36.5% / 100 / 365 = 0.001 per day; lambda = 10 x 0.001 x 100 x 1.5 = 1.5
    # e^-1.5 = 0.223130; cumulative terms 1, 2.5, 3.625, 4.1875, 4.398438 ->
    # P(<=3) = 0.934358 < 0.95 <= P(<=4) = 0.981424 -> S = 4
    assert report.rate_given and report.lead_given
    assert report.measured_rate_per_day == Decimal("0.004")  # still shown beside the given one
    assert report.measured_lead_days == Decimal(50)
    assert report.demand == Decimal("1.5")
    assert report.spares_needed == 4
    at_90 = spares_report(db, pool("2026-06-30", rate_percent_per_year=Decimal("36.5"),
                                   lead_time_days=Decimal(100), growth_percent=Decimal(50),
                                   service_level_percent=Decimal(90)))
    assert (at_90.service_level, at_90.service_level_from) == (Decimal(90), "given")
    assert at_90.spares_needed == 3  # 0.934358 >= 0.90


def test_every_location_and_the_whole_hardware_class(db: Database) -> None:
    build_pool(db)
    everywhere = spares_report(db, SparesQuery(class_code="hardware", as_of=at("2026-06-30").date(),
                                               window_days=100))
    # Amsterdam's A01 now counts as a replacement (5); it is retired, so the base stays 10;
    # stock adds R01 and R02 in the central store (4).
    assert len(everywhere.replacements) == 5
    assert (everywhere.installed_base, everywhere.stock_on_hand) == (10, 4)
    # r = 5 / (10 x 100) = 0.005; lambda = 10 x 0.005 x 50 = 2.5
    assert everywhere.demand == Decimal("2.5")
    assert everywhere.class_name == "Hardware"


# -- issue 17.6: each input measured from the moments it stands for --------------------------------

def test_lead_time_runs_from_order_to_delivery_not_from_registration(db: Database) -> None:
    # Three laptops registered as ordered on March 2 (14:00) and received into stock by a
    # receipt on April 1 (14:00): 30 days each, from their status history.
    ordered = implement_normal_change(db, [
        laptop(f"o{n}", f"O{n}", status="ordered", location="Central store") for n in (1, 2, 3)],
        at("2026-03-02", 14), title="Laptops ordered")
    with db.reading() as session:
        keys = dict(session.execute(select(Item.serial_number, Item.key)).all())
    received = receive(db, [{"op": "set_status", "item": keys[f"O{n}"], "status": "in_stock"}
                            for n in (1, 2, 3)], at("2026-04-01", 14), title="Order received")
    # One laptop created in stock by a receipt registered on its delivery day (April 1), ordered
    # on March 12: 20 days, not the hours between the receipt's registration and implementation.
    dated = receive(db, [laptop("d1", "D1", status="in_stock", location="Central store")],
                    at("2026-04-01", 15), ordered_on="2026-03-12", delivered_on="2026-04-01")
    # A receipt that records no order date measures nothing (it is no lead time of 0 days).
    undated = receive(db, [laptop("n1", "N1", status="in_stock", location="Central store")],
                      at("2026-04-02", 15), delivered_on="2026-04-02")

    report = spares_report(db, SparesQuery(class_code="hardware.laptop",
                                           as_of=date(2026, 4, 30), window_days=100))
    assert [(d.change_key, d.devices, d.order_change_key, d.days, d.problem)
            for d in report.deliveries] == [
        (received, 3, ordered, Decimal(30), None),
        (dated, 1, None, Decimal(20), None),
        (undated, 1, None, None, "no_order_date")]
    # The mean over the four devices with a lead time: (3 x 30 + 20) / 4 = 27.5 days.
    assert report.devices_measured == 4
    assert report.lead_days == Decimal("27.5")


def test_a_receipt_without_dates_leaves_the_lead_time_to_the_user(db: Database) -> None:
    implement_normal_change(db, [laptop(f"u{n}", f"U{n}", status="in_use") for n in (1, 2)],
                            at("2026-03-01"))
    with db.reading() as session:
        broken = session.scalar(select(Item.key).where(Item.serial_number == "U1"))
    implement_normal_change(db, [{"op": "set_status", "item": broken, "status": "maintenance"}],
                            at("2026-03-20"))
    undated = receive(db, [laptop("n1", "N1", status="in_stock")], at("2026-04-02", 15))
    report = spares_report(db, SparesQuery(class_code="hardware.laptop",
                                           as_of=date(2026, 4, 30), window_days=100))
    assert [(d.change_key, d.problem) for d in report.deliveries] == [(undated, "no_order_date")]
    assert report.lead_days is None and report.spares_needed is None
    assert report.missing == ["lead_time_days"]


def test_the_rate_is_measured_over_the_days_the_pool_was_observed(db: Database) -> None:
    implement_normal_change(db, [laptop(f"l{n}", f"L{n:02d}", status="in_use", location="Lab")
                                 for n in range(1, 11)], at("2026-06-21"))
    with db.reading() as session:
        first = session.scalar(select(Item.key).where(Item.serial_number == "L01"))
    implement_normal_change(db, [{"op": "set_status", "item": first, "status": "maintenance"}],
                            at("2026-06-25"))
    lab = SparesQuery(class_code="hardware.laptop", location="Lab", as_of=date(2026, 6, 30),
                      lead_time_days=Decimal(10))
    report = spares_report(db, lab)
    # Registered on June 21: 10 days observed (21 to 30), not the 365 of the window.
    # r = 1 / (9 x 10) (nine in use at the end of June 30).
    assert (report.observed_from, report.observed_days) == (date(2026, 6, 21), 10)
    assert report.observation_short
    assert report.rate_per_day == Decimal(1) / Decimal(90)
    # A pool registered on the as-of day itself is observed for one day, never less.
    today = spares_report(db, replace(lab, as_of=date(2026, 6, 21)))
    assert (today.observed_days, today.rate_per_day) == (1, Decimal(0))


def test_only_failures_are_replacements(db: Database) -> None:
    keys = build_pool(db)
    planned = retire(db, [keys["U06"]], at("2026-06-20"), "end_of_life", title="Refresh")
    lost = retire(db, [keys["U08"]], at("2026-06-21"), "Lost or stolen", title="Stolen laptop")
    silent = implement_normal_change(db, [{"op": "set_status", "item": keys["U07"],
                                           "status": "retired"}], at("2026-06-22"))
    unsaid = retire(db, [keys["U09"]], at("2026-06-23"), None, title="Laptop retired")
    free = retire(db, [keys["U12"]], at("2026-06-24"), "Broken screen", title="Laptop retired")
    report = spares_report(db, pool("2026-06-30"))

    # Failures: U02, U03 (repairs), U04, U05 (failure), U08 (lost or stolen).
    assert [(r.item_name, r.reason) for r in report.replacements] == [
        ("Laptop U02", None), ("Laptop U03", None), ("Laptop U04", "failure"),
        ("Laptop U05", "failure"), ("Laptop U08", "lost_or_stolen")]
    assert report.replacements[-1].change_key == lost
    # The planned refresh, the retirements that say no reason and the one whose reason is none
    # of the model's (failure, end_of_life, lost_or_stolen, other) are shown, not counted.
    assert [(r.item_name, r.change_key, r.reason) for r in report.not_counted] == [
        ("Laptop U06", planned, "end_of_life"), ("Laptop U07", silent, None),
        ("Laptop U09", unsaid, None), ("Laptop U12", free, "Broken screen")]
    # Base 10 - 5 = 5; r = 5 / (5 x 100).
    assert report.installed_base == 5
    assert report.rate_per_day == Decimal(5) / Decimal(500)


def _service(ref: str, name: str, level: str | None) -> dict[str, object]:
    attributes = {"spares_service_level": level} if level else {}
    return {"op": "create_item", "ref": ref, "class": "service", "name": name,
            "status": "in_use", "attributes": attributes}


def test_the_service_level_is_the_agreed_level_of_the_supported_service(db: Database) -> None:
    keys = build_pool(db)
    implement_normal_change(db, [
        _service("desk", "Workplace", "99"), _service("lab", "Lab support", "97.5"),
        _service("web", "Website", None),
        {"op": "add_relation", "kind": "supports", "source": keys["U10"], "target": "@desk"},
        {"op": "add_relation", "kind": "supports", "source": keys["S01"], "target": "@lab"},
        {"op": "add_relation", "kind": "supports", "source": keys["U11"], "target": "@web"},
    ], at("2026-06-01"))
    with db.reading() as session:
        services = dict(session.execute(select(Item.name, Item.key)).all())

    report = spares_report(db, pool("2026-06-30"))
    # The highest agreed level among the services the pool's laptops support: Workplace's 99%.
    assert [(a.service_key, a.percent) for a in report.agreed_levels] == [
        (services["Workplace"], Decimal(99)), (services["Lab support"], Decimal("97.5"))]
    assert (report.service_level, report.service_level_from) == (Decimal(99), "service")
    assert [a.service_name for a in report.services_used] == ["Workplace"]
    # lambda 2 at 99%: P(<=5) = 0.983436 < 0.99 <= P(<=6) = 0.995466 -> S = 6
    assert report.spares_needed == 6
    # A level the user gives wins; before the services were related, the default applies.
    given = spares_report(db, pool("2026-06-30", service_level_percent=Decimal(95)))
    assert (given.service_level, given.service_level_from, given.spares_needed) == (
        Decimal(95), "given", 5)
    before = spares_report(db, pool("2026-05-31"))
    assert (before.service_level_from, before.agreed_levels) == ("default", [])


def test_unknown_class_and_bad_inputs_name_the_field(db: Database) -> None:
    with pytest.raises(InputError) as unknown:
        spares_report(db, SparesQuery(class_code="hardware.toaster"))
    assert unknown.value.field == "class"
    bad = {"window_days": "0", "service_level": "100", "rate_percent": "lots",
           "lead_time_days": "-1", "growth_percent": "2000", "as_of": "2026-13-01"}
    for field, value in bad.items():
        with pytest.raises(InputError) as problem:
            query_from_args({"class": "hardware.laptop", field: value})
        assert problem.value.field == field, (field, value)
    query = query_from_args({"class": "hardware.laptop", "service_level": "99.5",
                             "rate_percent": "5,5", "as_of": "2026-06-30"})
    assert query.service_level_percent == Decimal("99.5")
    assert query.rate_percent_per_year == Decimal("5.5")
    assert query.location is None
    # Without a service level, the report takes the agreed one (None: not given).
    assert query_from_args({"class": "hardware.laptop"}).service_level_percent is None
