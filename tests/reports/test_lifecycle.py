"""The lifecycle report: expiries within N days and per month, end of life, stock per class and
location, data quality and counts by status, as of days before and after the changes that move
them. Figures worked by hand from the register built below."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import event, select

from bir.items import Item
from tests.reports.test_spares import build_pool
from tests.support.helpers import at, implement_normal_change, laptop
from usm.services.platform import Database
from usm.services.reports import SparesQuery, lifecycle_report, spares_report
from usm.services.reports.lifecycle import month_starts
from usm.services.user_input import InputError


def build_estate(db: Database) -> dict[str, str]:
    """Seven laptops created on 2026-01-05; L6 retired on 2026-02-10. Keys by serial number.

    L1 in use (Ann, CC-1): warranty 2026-03-15, lease 2026-05-31, end of life 2028-01-01
    L2 in use (no owner, CC-1): warranty 2026-02-20, end of life 2026-01-31
    L3 in stock, Store A: warranty 2026-04-10     L4 in stock, Store A     L5 in stock, Store B
    L6 in use (Eve, CC-2): warranty 2026-03-01, end of life 2025-12-31 (retired 2026-02-10)
    L7 in use (Bob, no cost centre)
    """
    implement_normal_change(db, [
        laptop("l1", "L1", status="in_use", owner="Ann", cost_centre="CC-1",
               warranty_end="2026-03-15", lease_end="2026-05-31", end_of_life="2028-01-01"),
        laptop("l2", "L2", status="in_use", cost_centre="CC-1", warranty_end="2026-02-20",
               end_of_life="2026-01-31"),
        laptop("l3", "L3", status="in_stock", location="Store A", warranty_end="2026-04-10"),
        laptop("l4", "L4", status="in_stock", location="Store A"),
        laptop("l5", "L5", status="in_stock", location="Store B"),
        laptop("l6", "L6", status="in_use", owner="Eve", cost_centre="CC-2",
               warranty_end="2026-03-01", end_of_life="2025-12-31"),
        laptop("l7", "L7", status="in_use", owner="Bob"),
    ], at("2026-01-05"), title="Laptops arrive")
    with db.reading() as session:
        keys = dict(session.execute(select(Item.serial_number, Item.key)).all())
    implement_normal_change(db, [{"op": "set_status", "item": keys["L6"], "status": "retired"}],
                            at("2026-02-10"), title="Retire L6")
    return keys


def test_figures_as_of_the_first_of_february(db: Database) -> None:
    k = build_estate(db)
    report = lifecycle_report(db, date(2026, 2, 1), 60)

    # Until 2026-02-01 + 60 days = 2026-04-02. L2 ends 02-20 (19 days), L6 03-01 (28 days:
    # 27 left in February + 1), L1 03-15 (42 days). L3 (04-10) and L1's lease (05-31) are later.
    assert report.until == date(2026, 4, 2)
    assert [(e.item.key, e.kind, e.days_left) for e in report.expiring] == [
        (k["L2"], "warranty", 19), (k["L6"], "warranty", 28), (k["L1"], "warranty", 42)]
    # End of life before 02-01: L6 (2025-12-31, 31 + 1 = 32 days), L2 (2026-01-31, 1 day).
    assert [(p.item.key, p.days_past) for p in report.past_end_of_life] == [
        (k["L6"], 32), (k["L2"], 1)]
    assert [(s.location, s.count) for s in report.stock] == [("Store A", 2), ("Store B", 1)]
    assert report.stock_total == 3
    assert [(m.item.key, m.missing) for m in report.data_quality] == [
        (k["L2"], ("owner",)), (k["L7"], ("cost centre",))]
    assert dict(report.status_counts) == {
        "planned": 0, "ordered": 0, "in_stock": 3, "in_use": 4, "maintenance": 0,
        "retired": 0, "disposed": 0}
    # Per month from February 2026: Feb L2 warranty; Mar L6 + L1 warranties; Apr L3 warranty;
    # May L1's lease; nothing after.
    assert [(m.month, m.warranty, m.lease) for m in report.months[:5]] == [
        (date(2026, 2, 1), 1, 0), (date(2026, 3, 1), 2, 0), (date(2026, 4, 1), 1, 0),
        (date(2026, 5, 1), 0, 1), (date(2026, 6, 1), 0, 0)]
    assert len(report.months) == 12 and report.months[-1].month == date(2027, 1, 1)


def test_the_day_before_and_after_the_retirement(db: Database) -> None:
    k = build_estate(db)
    before = lifecycle_report(db, date(2026, 2, 9), 60)
    after = lifecycle_report(db, date(2026, 2, 10), 60)

    # 02-09: L6 still in use, 2025-12-31 -> 2026-02-09 = 31 + 9 = 40 days past its end of life.
    assert (k["L6"], 40) in [(p.item.key, p.days_past) for p in before.past_end_of_life]
    assert dict(before.status_counts)["in_use"] == 4
    # 02-10 (retired at 09:00 that day): L6 leaves both lists; until 04-11 now takes in L3.
    assert [(e.item.key, e.days_left) for e in after.expiring] == [
        (k["L2"], 10), (k["L1"], 33), (k["L3"], 59)]
    assert [p.item.key for p in after.past_end_of_life] == [k["L2"]]
    assert dict(after.status_counts)["in_use"] == 3
    assert dict(after.status_counts)["retired"] == 1
    # March now holds only L1's warranty.
    assert [(m.warranty, m.lease) for m in after.months[:4]] == [(1, 0), (1, 0), (1, 0), (0, 1)]


def test_before_anything_was_registered_everything_is_empty(db: Database) -> None:
    build_estate(db)
    report = lifecycle_report(db, date(2026, 1, 4), 90)
    assert report.expiring == [] and report.past_end_of_life == [] and report.stock == []
    assert report.data_quality == []
    assert sum(n for _, n in report.status_counts) == 0
    assert all(m.warranty == m.lease == 0 for m in report.months)


def test_days_is_checked_and_months_roll_over_the_year() -> None:
    for days in (0, 3651):
        with pytest.raises(InputError) as problem:
            lifecycle_report(None, date(2026, 1, 1), days)  # type: ignore[arg-type]
        assert problem.value.field == "days"
    assert month_starts(date(2026, 11, 23), 3) == [date(2026, 11, 1), date(2026, 12, 1),
                                                     date(2027, 1, 1)]


def test_a_fixed_number_of_statements_whatever_the_size(db: Database) -> None:
    def statements(run) -> int:  # type: ignore[no-untyped-def]
        seen: list[str] = []

        def counter(_conn, _cursor, statement, *_rest) -> None:  # type: ignore[no-untyped-def]
            if statement.lstrip().upper().startswith(("SELECT", "WITH")):
                seen.append(statement)

        event.listen(db.engine, "before_cursor_execute", counter)
        try:
            run()
        finally:
            event.remove(db.engine, "before_cursor_execute", counter)
        return len(seen)

    build_estate(db)
    small = statements(lambda: lifecycle_report(db, date(2026, 2, 1), 60))
    query = SparesQuery(class_code="hardware.laptop", as_of=date(2026, 6, 30))
    small_spares = statements(lambda: spares_report(db, query))
    build_pool(db)  # 21 more laptops, five replacements and two receipts
    assert statements(lambda: lifecycle_report(db, date(2026, 2, 1), 60)) == small == 5
    # spares: the pool's figures, its status moves, its failures recorded from incidents, its
    # deliveries and its agreed levels
    assert statements(lambda: spares_report(db, query)) == small_spares == 5
