"""The finance report pages: book values at a date, TCO per service and cost per cost centre over
whole months, disposals with their gain or loss, and an item's depreciation schedule; each table
exports to CSV and XLSX."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import Response, abort, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from usm.services import platform
from usm.services.reports import finance
from usm.services.reports.finance import (
    TABLES,
    FinanceReport,
    finance_report,
    report_sheet,
    schedule_sheet,
)
from usm.services.user_input import InputError, parse_day
from web.reports.blueprint import TOPICS, Topic, bp
from web.support import access
from web.support.context import database
from web.support.security import roles_required

TOPICS.append(Topic("reports.finance_page", _l("Finance"),
                        _l("Book value by class and cost centre at any date, depreciation schedules, "
                        "total cost of ownership per service, cost per cost centre, disposals with "
                        "gain or loss.")))



@bp.app_context_processor
def _report_access() -> dict[str, bool]:
    """Whether a page (the register's item page) may link to the finance report."""
    roles = set(current_user.roles) if current_user.is_authenticated else set()
    return {"sees_reports": bool(roles & set(access.REPORT_READERS))}


def _day(name: str, default: date) -> date:
    return parse_day(request.args.get(name), name, default)


def _inputs() -> tuple[date, date, date]:
    """as_of (default today), and the period from (default 1 January of that year) to (default
    the 1st of the month after as_of)."""
    today = datetime.now(UTC).date()
    as_of = _day("as_of", today)
    start, end = finance.default_period(as_of)
    return as_of, _day("from", start), _day("to", end)


def _report() -> FinanceReport | tuple[str, dict[str, str]]:
    try:
        as_of, start, end = _inputs()
        return finance_report(database(), as_of, start, end)
    except InputError as exc:
        return str(exc), dict(request.args)


@bp.get("/finance")
@roles_required(*access.REPORT_READERS)
def finance_page() -> ResponseReturnValue:
    report = _report()
    if isinstance(report, tuple):
        error, form = report
        return render_template("reports/finance.html", report=None, error=error, form=form), 400
    form = {"as_of": report.as_of.isoformat(), "from": report.start.isoformat(),
            "to": report.end.isoformat()}
    return render_template("reports/finance.html", report=report, error=None, form=form,
                           tables=TABLES)


@bp.get("/finance/export/<table>.<fmt>")
@roles_required(*access.REPORT_READERS)
def finance_export(table: str, fmt: str) -> ResponseReturnValue:
    if table not in TABLES or fmt not in platform.FORMATS:
        abort(404, description="no such finance table or format (csv, xlsx)")
    report = _report()
    if isinstance(report, tuple):
        abort(400, description=report[0])
    name = f"finance-{table}-{report.as_of.isoformat()}"
    if table not in ("book-by-class", "book-by-cost-centre", "book-items"):
        name = f"finance-{table}-{report.start.isoformat()}-to-{report.end.isoformat()}"
    return _download(name, fmt, report_sheet(report, table))


def _download(name: str, fmt: str, sheet: platform.Sheet) -> Response:
    body, media_type = platform.export(fmt, sheet)
    return Response(body, mimetype=media_type.split(";")[0], headers={
        "Content-Type": media_type,
        "Content-Disposition": f'attachment; filename="{name}.{fmt}"'})


def _schedule(key: str) -> finance.ItemSchedule:
    try:
        as_of = _day("as_of", datetime.now(UTC).date())
    except InputError as exc:
        abort(400, description=str(exc))
    return finance.item_schedule(database(), key, finance.day_end(as_of))


@bp.get("/finance/items/<key>")
@roles_required(*access.REPORT_READERS)
def item_schedule(key: str) -> ResponseReturnValue:
    return render_template("reports/finance_schedule.html", item=_schedule(key))


@bp.get("/finance/items/<key>/schedule.<fmt>")
@roles_required(*access.REPORT_READERS)
def item_schedule_export(key: str, fmt: str) -> ResponseReturnValue:
    if fmt not in platform.FORMATS:
        abort(404, description="no such format (csv, xlsx)")
    item = _schedule(key)
    return _download(f"depreciation-{item.key}-{item.as_of.date().isoformat()}", fmt,
                     schedule_sheet(item))
