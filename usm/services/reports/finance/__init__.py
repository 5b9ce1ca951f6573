"""Finance over the one register: depreciation, book values at any moment, disposals with their
gain or loss, and cost over a period per service (TCO) and per cost centre. Read only."""

from usm.services.reports.finance.book_values import (
    BookValueReport,
    Disposal,
    GroupTotal,
    ItemBookValue,
    ItemNotFound,
    ItemSchedule,
    book_values,
    disposals,
    item_schedule,
)
from usm.services.reports.finance.depreciation import Period, Terms, book_value_on, schedule
from usm.services.reports.finance.period_costs import (
    MAX_MONTHS,
    CostLine,
    cost_centre_costs,
    default_period,
    months_of,
    service_costs,
)
from usm.services.reports.finance.report import (
    TABLES,
    FinanceReport,
    finance_report,
    report_sheet,
    schedule_sheet,
)
from usm.services.user_input import day_end

__all__ = [
    "TABLES", "FinanceReport", "finance_report", "report_sheet", "schedule_sheet",
    "MAX_MONTHS", "BookValueReport", "CostLine", "Disposal", "GroupTotal",
    "ItemBookValue", "ItemNotFound", "ItemSchedule", "Period", "Terms", "book_value_on",
    "book_values", "cost_centre_costs", "default_period", "disposals", "day_end",
    "item_schedule", "months_of", "schedule", "service_costs",
]
