"""Finance: depreciation maths by hand, then book values, disposals and cost over a period read from
a register built through the engine, as of moments before and after the changes that move them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from bir.errors import ValidationFailed
from tests.support.helpers import at, implement_normal_change, laptop
from usm.services import changes
from usm.services.platform import Database
from usm.services.reports import finance
from usm.services.reports.finance.depreciation import (
    Terms,
    book_value_on,
    depreciation_between,
    schedule,
)
from usm.services.user_input import InputError

D = Decimal


# -- pure maths ----------------------------------------------------------------------------------

def test_straight_line_books_a_month_on_each_monthly_anniversary() -> None:
    # (1000.00 - 100.00) / 36 = 25.00 a month, from 15 January 2026.
    terms = Terms(D("1000.00"), D("100.00"), "straight_line", 36, date(2026, 1, 15))
    assert book_value_on(terms, date(2026, 1, 14)) == D("1000.00")  # not in service yet
    assert book_value_on(terms, date(2026, 2, 14)) == D("1000.00")  # first month not over
    assert book_value_on(terms, date(2026, 2, 15)) == D("975.00")  # 1000 - 25
    assert book_value_on(terms, date(2026, 7, 15)) == D("850.00")  # 1000 - 6 x 25
    assert book_value_on(terms, date(2029, 1, 15)) == D("100.00")  # 36 months: the residual
    assert book_value_on(terms, date(2035, 1, 1)) == D("100.00")
    assert sum(p.amount for p in schedule(terms)) == D("900.00")
    # Booked in March 2026: only the period ending 15 March.
    assert depreciation_between(terms, date(2026, 3, 1), date(2026, 4, 1)) == D("25.00")


def test_straight_line_rounds_each_month_to_cents_and_sums_exactly() -> None:
    # 100.00 / 3: cumulative 33.33, 66.67, 100.00 -> months 33.33, 33.34, 33.33.
    terms = Terms(D("100.00"), D("0.00"), "straight_line", 3, date(2026, 1, 1))
    assert [p.amount for p in schedule(terms)] == [D("33.33"), D("33.34"), D("33.33")]
    assert sum(p.amount for p in schedule(terms)) == D("100.00")


def test_declining_balance_doubles_the_rate_then_switches_to_straight_line() -> None:
    # 1200.00 over 12 months, no residual: 2/12 = 1/6 of the opening book value, or the remainder
    # spread over the months left when that is larger. By hand:
    #  1: 1200.00/6 = 200.00 (straight 100.00)        -> 1000.00
    #  2: 1000.00/6 = 166.67 (straight 90.91)          -> 833.33
    #  3: 833.33/6 = 138.89 (83.33)                    -> 694.44
    #  4: 694.44/6 = 115.74 (77.16)                    -> 578.70
    #  5: 578.70/6 = 96.45 (72.34)                     -> 482.25
    #  6: 482.25/6 = 80.375 -> 80.38 (half-even; 68.89) -> 401.87
    #  7: 401.87/6 = 66.98; straight 401.87/6 = 66.98   -> 334.89
    #  8: 334.89/6 = 55.82 < straight 334.89/5 = 66.98  -> 267.91 (switched)
    #  9: 267.91/4 = 66.9775 -> 66.98                    -> 200.93
    # 10: 200.93/3 = 66.9767 -> 66.98                    -> 133.95
    # 11: 133.95/2 = 66.975 -> 66.98 (half-even)         -> 66.97
    # 12: the rest, 66.97                                -> 0.00
    # The start is 31 January: period ends clamp to the month (28 February, 31 March, 30 April).
    terms = Terms(D("1200.00"), D("0.00"), "declining_balance", 12, date(2026, 1, 31))
    periods = schedule(terms)
    assert [p.amount for p in periods] == [D(x) for x in (
        "200.00", "166.67", "138.89", "115.74", "96.45", "80.38", "66.98", "66.98", "66.98",
        "66.98", "66.98", "66.97")]
    assert [p.end for p in periods[:3]] == [date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30)]
    assert periods[-1].closing == D("0.00")
    assert book_value_on(terms, date(2026, 3, 31)) == D("833.33")


def test_declining_balance_never_goes_below_the_residual() -> None:
    # 1200.00, residual 200.00, 12 months: as above until 232.56 after month 9 (the residual
    # leaves the straight-line amount smaller); month 10 wants 232.56/6 = 38.76 but only 32.56
    # is left above the residual, then nothing.
    terms = Terms(D("1200.00"), D("200.00"), "declining_balance", 12, date(2026, 1, 1))
    periods = schedule(terms)
    assert periods[9].amount == D("32.56") and periods[9].closing == D("200.00")
    assert [p.amount for p in periods[10:]] == [D("0.00"), D("0.00")]
    assert sum(p.amount for p in periods) == D("1000.00")


def test_no_method_or_no_period_keeps_the_cost() -> None:
    for terms in (Terms(D("500.00"), D("0.00"), "none", 36, date(2026, 1, 1)),
                  Terms(D("500.00"), D("0.00"), "straight_line", None, date(2026, 1, 1)),
                  Terms(D("500.00"), D("0.00"), "straight_line", 12, None),
                  Terms(D("500.00"), D("600.00"), "straight_line", 12, date(2026, 1, 1))):
        assert schedule(terms) == ()
        assert book_value_on(terms, date(2030, 1, 1)) == D("500.00")


# -- the register --------------------------------------------------------------------------------

def _key(db: Database, name: str) -> str:
    from sqlalchemy import select

    from bir.items import Item
    with db.reading() as session:
        return session.scalars(select(Item.key).where(Item.name == name)).one()


def build_finance_register(db: Database) -> dict[str, str]:
    """Two services, a laptop, a server, a cloud instance and a subscription, through the engine:

    - Laptop FIN-1 (CC-A): 1200.00 EUR straight-line 12 months from 15 Jan 2026 = 100.00/month;
      corrected to 1440.00 on 10 April (120.00/month), retired 10 May, disposed of 20 May for
      900.00 proceeds.
    - Laptop FIN-2 (CC-A): 1000.00 USD, no depreciation.
    - Server (CC-B): 3600.00 EUR straight-line 36 months from 1 Feb 2026 = 100.00/month; supports
      Mail and Portal, no share (split evenly).
    - Cloud instance (CC-B): 300.00 EUR monthly, in use; supports Mail with share 0.25 and Portal.
    - Subscription (CC-A): 90.00 EUR quarterly (30.00/month), in use; supports Mail only.
    """
    implement_normal_change(db, [
        {"op": "create_item", "ref": "mail", "class": "service", "name": "Mail", "status": "in_use"},
        {"op": "create_item", "ref": "portal", "class": "service", "name": "Portal",
         "status": "in_use"},
        laptop("l1", "FIN-1", name="Laptop FIN-1", status="in_use", purchase_cost="1200.00",
               currency="EUR", acquired_on="2026-01-05", in_service_on="2026-01-15",
               depreciation_method="straight_line", depreciation_months=12, cost_centre="CC-A"),
        laptop("l2", "FIN-2", name="Laptop FIN-2", status="in_use", purchase_cost="1000.00",
               currency="USD", depreciation_method="none", cost_centre="CC-A"),
        {"op": "create_item", "ref": "srv", "class": "hardware.server", "name": "Server",
         "status": "in_use", "purchase_cost": "3600.00", "currency": "EUR",
         "in_service_on": "2026-02-01", "depreciation_method": "straight_line",
         "depreciation_months": 36, "cost_centre": "CC-B", "attributes": {"cores": 16}},
        {"op": "create_item", "ref": "ci", "class": "cloud.instance", "name": "Cloud VM",
         "status": "in_use", "recurring_cost": "300.00", "recurring_period": "monthly",
         "currency": "EUR", "cost_centre": "CC-B",
         "attributes": {"provider": "aws", "instance_type": "m5.large"}},
        {"op": "create_item", "ref": "sub", "class": "cloud.subscription", "name": "Support plan",
         "status": "in_use", "recurring_cost": "90.00", "recurring_period": "quarterly",
         "currency": "EUR", "cost_centre": "CC-A", "attributes": {"provider": "aws"}},
        {"op": "add_relation", "kind": "supports", "source": "@srv", "target": "@mail"},
        {"op": "add_relation", "kind": "supports", "source": "@srv", "target": "@portal"},
        {"op": "add_relation", "kind": "supports", "source": "@ci", "target": "@mail",
         "attributes": {"share": "0.25"}},
        {"op": "add_relation", "kind": "supports", "source": "@ci", "target": "@portal"},
        {"op": "add_relation", "kind": "supports", "source": "@sub", "target": "@mail"},
    ], at("2026-01-10"), title="Finance register")
    keys = {name: _key(db, name) for name in ("Mail", "Portal", "Laptop FIN-1", "Laptop FIN-2",
                                              "Server", "Cloud VM", "Support plan")}
    fin1 = keys["Laptop FIN-1"]
    implement_normal_change(db, [{"op": "update_item", "item": fin1, "purchase_cost": "1440.00"}],
                            at("2026-04-10"), title="Invoice correction")
    implement_normal_change(db, [{"op": "set_status", "item": fin1, "status": "retired"}],
                            at("2026-05-10"), title="Retire FIN-1")
    implement_normal_change(db, [{"op": "update_item", "item": fin1, "status": "disposed",
                                  "disposal_proceeds": "900.00"}],
                            at("2026-05-20"), title="Dispose of FIN-1")
    return keys


@pytest.fixture
def keys(db: Database) -> dict[str, str]:
    return build_finance_register(db)


def _by(groups: list[finance.GroupTotal]) -> dict[tuple[str, str | None], tuple[int, str, str]]:
    return {(g.label, g.currency): (g.items, f"{g.cost}", f"{g.book_value}") for g in groups}


def test_book_value_at_a_date_per_item_class_and_cost_centre(db: Database,
                                                             keys: dict[str, str]) -> None:
    report = finance.book_values(db, finance.day_end(date(2026, 3, 31)))
    values = {i.key: i.book_value for i in report.items}
    # FIN-1: periods booked 15 Feb and 15 Mar: 1200 - 2 x 100 = 1000.00.
    # Server: one period booked 1 Mar: 3600 - 100 = 3500.00. FIN-2: no method, its cost.
    assert values == {keys["Laptop FIN-1"]: D("1000.00"), keys["Laptop FIN-2"]: D("1000.00"),
                      keys["Server"]: D("3500.00")}
    # Never EUR and USD together: EUR 1200 + 3600 = 4800 cost, 1000 + 3500 = 4500 book.
    assert _by(report.totals) == {("All items", "EUR"): (2, "4800.00", "4500.00"),
                                  ("All items", "USD"): (1, "1000.00", "1000.00")}
    assert _by(report.by_class) == {("Laptop", "EUR"): (1, "1200.00", "1000.00"),
                                    ("Laptop", "USD"): (1, "1000.00", "1000.00"),
                                    ("Server", "EUR"): (1, "3600.00", "3500.00")}
    assert _by(report.by_cost_centre) == {("CC-A", "EUR"): (1, "1200.00", "1000.00"),
                                          ("CC-A", "USD"): (1, "1000.00", "1000.00"),
                                          ("CC-B", "EUR"): (1, "3600.00", "3500.00")}


def test_book_value_as_of_before_and_after_a_cost_correction(db: Database,
                                                             keys: dict[str, str]) -> None:
    fin1 = keys["Laptop FIN-1"]

    def value(day: date) -> Decimal:
        return {i.key: i.book_value for i in finance.book_values(
            db, finance.day_end(day), class_code="hardware.laptop").items}[fin1]

    # 9 April, before the correction: periods booked 15 Feb and 15 Mar: 1200 - 2 x 100.
    assert value(date(2026, 4, 9)) == D("1000.00")
    # 30 April, after it: 1440.00 / 12 = 120.00 a month, 3 periods booked: 1440 - 360 = 1080.00.
    assert value(date(2026, 4, 30)) == D("1080.00")
    # The earlier answer is not rewritten by the correction.
    assert value(date(2026, 3, 31)) == D("1000.00")


def test_disposal_gain_or_loss_and_book_value_before_and_after(db: Database,
                                                               keys: dict[str, str]) -> None:
    fin1 = keys["Laptop FIN-1"]
    found = finance.disposals(db, at("2026-01-01", 0), at("2026-07-01", 0))
    assert [(d.key, d.change_key is not None) for d in found] == [(fin1, True)]
    disposal = found[0]
    # On 20 May four periods are booked (15 Feb, Mar, Apr, May) at 1440/12 = 120.00:
    # book value 1440 - 480 = 960.00; proceeds 900.00; loss 900 - 960 = -60.00.
    assert (disposal.book_value, disposal.proceeds, disposal.gain) == (
        D("960.00"), D("900.00"), D("-60.00"))
    assert disposal.disposed_at == at("2026-05-20")
    retired_still_held = finance.book_values(db, finance.day_end(date(2026, 5, 19)),
                                             cost_centre="CC-A")
    assert {i.key: i.book_value for i in retired_still_held.items}[fin1] == D("960.00")
    after = finance.book_values(db, finance.day_end(date(2026, 5, 21)), cost_centre="CC-A")
    assert fin1 not in {i.key for i in after.items}
    assert finance.disposals(db, at("2026-06-01", 0), at("2026-07-01", 0)) == []


def test_book_value_of_a_service_is_its_supporting_items(db: Database,
                                                        keys: dict[str, str]) -> None:
    report = finance.book_values(db, finance.day_end(date(2026, 3, 31)),
                                 service_key=keys["Mail"])
    # Mail is supported by the server (3500.00 then), the cloud VM and the subscription (no cost).
    assert [(i.key, i.book_value) for i in report.items] == [(keys["Server"], D("3500.00"))]
    with pytest.raises(InputError) as bad:
        finance.book_values(db, finance.day_end(date(2026, 3, 31)), service_key=keys["Server"])
    assert bad.value.field == "service"
    with pytest.raises(InputError) as bad_class:
        finance.book_values(db, finance.day_end(date(2026, 3, 31)), class_code="hardware.nope")
    assert bad_class.value.field == "class"


def test_tco_per_service_splits_shared_items(db: Database, keys: dict[str, str]) -> None:
    lines = {(c.group, c.currency): c for c in finance.service_costs(
        db, date(2026, 3, 1), date(2026, 5, 1))}
    mail, portal = lines[(keys["Mail"], "EUR")], lines[(keys["Portal"], "EUR")]
    # March and April. Server 100.00/month split evenly: 2 x 50 = 100.00 depreciation each.
    # Cloud VM 300.00/month: Mail's share 0.25 -> 2 x 75 = 150; Portal the rest 2 x 225 = 450.
    # Subscription 90.00 quarterly = 30.00/month, Mail only: 2 x 30 = 60.
    assert (mail.depreciation, mail.recurring, mail.total) == (
        D("100.00"), D("210.00"), D("310.00"))  # 150 + 60
    assert (portal.depreciation, portal.recurring, portal.total) == (
        D("100.00"), D("450.00"), D("550.00"))
    assert (mail.items, portal.items) == (3, 2)


def test_tco_before_the_service_had_costs(db: Database, keys: dict[str, str]) -> None:
    # January: the server is not in service yet (nothing booked); the cloud VM and subscription
    # count from the month the register held them at its end: Mail 75 + 30, Portal 225.
    lines = {c.group: c for c in finance.service_costs(db, date(2026, 1, 1), date(2026, 2, 1))}
    assert (lines[keys["Mail"]].depreciation, lines[keys["Mail"]].recurring) == (
        D("0.00"), D("105.00"))
    assert lines[keys["Portal"]].recurring == D("225.00")


def test_cost_per_cost_centre_over_whole_months(db: Database, keys: dict[str, str]) -> None:
    lines = {(c.label, c.currency): c for c in finance.cost_centre_costs(
        db, date(2026, 3, 1), date(2026, 6, 1))}
    # March to May. CC-A: FIN-1 books 100.00 on 15 March (cost then 1200), 120.00 on 15 April
    # (corrected to 1440 on 10 April); at the end of May it is disposed of, so May carries
    # nothing of it. Subscription 3 x 30 = 90.00. FIN-2 (USD) has no method: no line.
    cc_a = lines[("CC-A", "EUR")]
    assert (cc_a.depreciation, cc_a.recurring, cc_a.total) == (
        D("220.00"), D("90.00"), D("310.00"))
    # CC-B: server 3 x 100 = 300.00; cloud VM 3 x 300 = 900.00.
    cc_b = lines[("CC-B", "EUR")]
    assert (cc_b.depreciation, cc_b.recurring, cc_b.total) == (
        D("300.00"), D("900.00"), D("1200.00"))
    assert ("CC-A", "USD") not in lines


@pytest.mark.parametrize(("start", "end", "field"), [
    (date(2026, 1, 5), date(2026, 2, 1), "from"),
    (date(2026, 1, 1), date(2026, 2, 2), "to"),
    (date(2026, 3, 1), date(2026, 3, 1), "to"),
    (date(2026, 1, 1), date(2029, 2, 1), "to"),
])
def test_a_period_is_whole_months(start: date, end: date, field: str) -> None:
    with pytest.raises(InputError) as bad:
        finance.months_of(start, end)
    assert bad.value.field == field


def test_depreciation_schedule_of_an_item_as_registered(db: Database,
                                                        keys: dict[str, str]) -> None:
    fin1 = keys["Laptop FIN-1"]
    before = finance.item_schedule(db, fin1, finance.day_end(date(2026, 4, 9)))
    assert before.terms is not None and before.terms.cost == D("1200.00")
    assert {p.amount for p in before.periods} == {D("100.00")} and len(before.periods) == 12
    assert before.book_value == D("1000.00")
    after = finance.item_schedule(db, fin1, finance.day_end(date(2026, 4, 30)))
    assert {p.amount for p in after.periods} == {D("120.00")}
    assert after.book_value == D("1080.00")
    with pytest.raises(finance.ItemNotFound):
        finance.item_schedule(db, fin1, finance.day_end(date(2026, 1, 9)))


def test_a_share_must_be_a_fraction_above_0_and_at_most_1(db: Database,
                                                           keys: dict[str, str]) -> None:
    for share in ("0", "1.5", "abc", "-0.25", "NaN"):
        with pytest.raises(ValidationFailed) as refused:
            changes.register_change(db, "carol", model="normal-change", title="Share",
                                    operations=[{"op": "add_relation", "kind": "supports",
                                                 "source": keys["Laptop FIN-2"],
                                                 "target": keys["Portal"],
                                                 "attributes": {"share": share}}],
                                    now=at("2026-06-01"))
        assert refused.value.errors[0].field == "operations[0].attributes.share"
