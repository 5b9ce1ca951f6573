"""Lifecycle report page: expiries (warranty, lease), end of life, stock, data quality and counts by
status, as of any day, with charts and CSV/XLSX export of each table."""

from __future__ import annotations

from collections.abc import Callable

from flask import Response, abort, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from usm.services import platform, reports
from usm.services.platform import default_currency
from usm.services.reports import LifecycleItem, LifecycleReport
from usm.services.user_input import InputError, parse_day, parse_whole
from web.reports.blueprint import TOPICS, Topic, bp
from web.support import access
from web.support.charts import Series, bar_chart, column_chart
from web.support.context import database
from web.support.formatting import status_label, when
from web.support.security import roles_required

TOPICS.append(Topic("reports.lifecycle", _l("Lifecycle"),
                    _l("Warranties and leases about to expire, items past end of life, stock per "
                       "class and location, items missing an owner, cost centre or currency, "
                       "counts by status.")))

ITEM_HEADERS = ("Key", "Name", "Class", "Status", "Owner", "Location", "Cost centre")


def _export_status(status: str) -> str:
    """A status in an export: the same English words whatever the screen's language."""
    return status.replace("_", " ").capitalize()


def _item_cells(item: LifecycleItem) -> list[str | None]:
    return [item.key, item.name, item.class_name, _export_status(item.status), item.owner,
            item.location, item.cost_centre]


def _sheets(report: LifecycleReport) -> dict[str, Callable[[], platform.Sheet]]:
    """Each table of the page as an export sheet, by the ``table`` name its link asks for."""
    return {
        "expiring": lambda: platform.Sheet(
            f"Expiring by {report.until}", (*ITEM_HEADERS, "Expires", "Ends on", "Days left"),
            [[*_item_cells(e.item), e.kind, e.ends_on, e.days_left] for e in report.expiring]),
        "end-of-life": lambda: platform.Sheet(
            "Past end of life", (*ITEM_HEADERS, "End of life", "Days past"),
            [[*_item_cells(p.item), p.end_of_life, p.days_past]
             for p in report.past_end_of_life]),
        "stock": lambda: platform.Sheet(
            "Stock", ("Class code", "Class", "Location", "In stock"),
            [[s.class_code, s.class_name, s.location, s.count] for s in report.stock]),
        "data-quality": lambda: platform.Sheet(
            "Data quality", (*ITEM_HEADERS, "Missing"),
            [[*_item_cells(m.item), ", ".join(m.missing)] for m in report.data_quality]),
        "status": lambda: platform.Sheet(
            "Counts by status", ("Status", "Items"),
            [[_export_status(s), n] for s, n in report.status_counts]),
        "expiries-by-month": lambda: platform.Sheet(
            "Expiries by month", ("Month", "Warranties", "Leases", "Total"),
            [[m.month.strftime("%Y-%m"), m.warranty, m.lease, m.warranty + m.lease]
             for m in report.months]),
    }


def _report() -> tuple[LifecycleReport | None, str | None]:
    try:
        day = parse_day(request.args.get("as_of"))
        days = parse_whole(request.args.get("days"), "days", reports.MIN_DAYS,
                           reports.MAX_DAYS, reports.DEFAULT_DAYS)
    except InputError as exc:
        return None, str(exc)
    return reports.lifecycle_report(database(), day, days), None


@bp.get("/lifecycle", endpoint="lifecycle")
@roles_required(*access.REPORT_READERS)
def lifecycle_page() -> ResponseReturnValue:
    report, error = _report()
    if report is None:
        return render_template("reports/lifecycle.html", error=error, report=None,
                               form=request.args), 400
    months_chart = column_chart(
        [m.month.strftime("%Y-%m") for m in report.months],
        [Series(_("Warranty ends"), [m.warranty for m in report.months]),
         Series(_("Lease ends"), [m.lease for m in report.months])],
        title=_("Warranty and lease expiries per month from %(day)s", day=when(report.as_of)))
    status_chart = bar_chart([(status_label(s), n) for s, n in report.status_counts],
                             title=_("Items by status as of %(day)s", day=when(report.as_of)),
                             value_header=_("Items"))
    return render_template("reports/lifecycle.html", error=None, report=report,
                           form={"as_of": report.as_of.isoformat(), "days": report.days},
                           months_chart=months_chart, status_chart=status_chart,
                           can_correct=bool(set(current_user.roles) & set(access.CHANGE_EDITORS)),
                           without_currency=sum("currency" in m.missing
                                                for m in report.data_quality),
                           default_currency=default_currency())


@bp.get("/lifecycle/export")
@roles_required(*access.REPORT_READERS)
def lifecycle_export() -> ResponseReturnValue:
    report, error = _report()
    if report is None:
        abort(400, description=error)
    table, fmt = request.args.get("table", "expiring"), request.args.get("format", "csv")
    sheets = _sheets(report)
    if table not in sheets:
        abort(400, description=f"table: choose one of {', '.join(sheets)}")
    if fmt not in platform.FORMATS:
        abort(400, description=f"format: choose one of {', '.join(platform.FORMATS)}")
    return download(*platform.export(fmt, sheets[table]()),
                    f"lifecycle-{table}-{report.as_of.isoformat()}.{fmt}")


def download(data: bytes, media: str, filename: str) -> Response:
    """An export served as a file to save, not to show."""
    response = Response(data, mimetype=media.split(";")[0])
    if media.startswith("text/"):
        response.charset = "utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


__all__ = ["download", "lifecycle_export", "lifecycle_page"]
