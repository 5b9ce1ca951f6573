"""The finance report as one bundle of tables (what the page shows and each export holds)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from usm.services.platform import Database, Sheet
from usm.services.reports.finance.book_values import (
    BookValueReport,
    Disposal,
    GroupTotal,
    ItemSchedule,
    book_values,
    disposals,
)
from usm.services.reports.finance.period_costs import CostLine, cost_centre_costs, service_costs
from usm.services.user_input import day_end


@dataclass(frozen=True)
class FinanceReport:
    as_of: date
    start: date
    end: date
    book: BookValueReport
    services: list[CostLine]
    cost_centres: list[CostLine]
    disposals: list[Disposal]


def finance_report(db: Database, as_of: date, start: date, end: date) -> FinanceReport:
    """Book values at the end of ``as_of``; TCO per service, cost per cost centre and disposals
    over the whole months ``[start, end)``. Raises ``InputError`` for a bad period."""
    services = service_costs(db, start, end)  # checks the period first
    return FinanceReport(
        as_of, start, end, book_values(db, day_end(as_of)), services,
        cost_centre_costs(db, start, end),
        disposals(db, datetime.combine(start, time(), UTC), datetime.combine(end, time(), UTC)))


def _book_sheet(title: str, first: str, groups: list[GroupTotal]) -> Sheet:
    return Sheet(title, [first, "Currency", "Items", "Cost", "Depreciated", "Book value"], [
        [g.label, g.currency, g.items, g.cost, g.depreciated, g.book_value] for g in groups])


def _cost_sheet(title: str, first: str, lines: list[CostLine], with_key: bool) -> Sheet:
    headers = ([first, "Name"] if with_key else [first]) + [
        "Currency", "Items", "Depreciation", "Recurring cost", "Total"]
    return Sheet(title, headers, [
        ([line.group, line.label] if with_key else [line.label])
        + [line.currency, line.items, line.depreciation, line.recurring, line.total]
        for line in lines])


# Export name -> (file-name part, sheet builder).
TABLES = {
    "book-by-class": lambda r: _book_sheet("Book value by class", "Class", r.book.by_class),
    "book-by-cost-centre": lambda r: _book_sheet("Book value by cost centre", "Cost centre",
                                                 r.book.by_cost_centre),
    "book-items": lambda r: Sheet(
        "Book value per item",
        ["Key", "Name", "Class", "Status", "Cost centre", "Method", "Start", "Currency", "Cost",
         "Depreciated", "Book value"],
        [[i.key, i.name, i.class_code, i.status, i.cost_centre, i.method, i.start, i.currency,
          i.cost, i.depreciated, i.book_value] for i in r.book.items]),
    "service-tco": lambda r: _cost_sheet("TCO per service", "Service", r.services, True),
    "cost-centres": lambda r: _cost_sheet("Cost per cost centre", "Cost centre",
                                          r.cost_centres, False),
    "disposals": lambda r: Sheet(
        "Disposals",
        ["Key", "Name", "Class", "Disposed at", "Change", "Currency", "Cost",
         "Book value at disposal", "Proceeds", "Gain or loss"],
        [[d.key, d.name, d.class_code, d.disposed_at, d.change_key, d.currency, d.cost,
          d.book_value, d.proceeds, d.gain] for d in r.disposals]),
}


def report_sheet(report: FinanceReport, table: str) -> Sheet:
    """One table of the report; ``KeyError`` for a name not in ``TABLES``."""
    return TABLES[table](report)  # type: ignore[no-untyped-call]


def schedule_sheet(item: ItemSchedule) -> Sheet:
    return Sheet(f"Depreciation {item.key}",
                 ["Period", "From", "To (booked on)", "Opening", "Depreciation", "Closing",
                  "Currency"],
                 [[p.number, p.start, p.end, p.opening, p.amount, p.closing, item.currency]
                  for p in item.periods])
