"""Spares report page: how many spare devices a pool (class + location) needs to serve the SLA's
share of replacement requests from stock, measured from the register, explained with its inputs,
and compared with the stock on hand."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from flask import abort, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l

from usm.services import platform, reports
from usm.services.reports import SparesReport
from usm.services.user_input import InputError
from web.reports.blueprint import TOPICS, Topic, bp
from web.reports.lifecycle import download
from web.support import access
from web.support.context import database
from web.support.security import roles_required

TOPICS.append(Topic("reports.spares", _l("Spares"),
                        _l("How many spare devices a pool needs so the SLA's share of replacement "
                        "requests is served from stock: a Poisson base-stock calculation from the "
                        "measured failure rate and replenishment lead time.")))

DEFAULT_CLASS = reports.DEFAULT_CLASS
FORM_FIELDS = ("class", "location", "as_of", "window_days", "service_level", "growth_percent",
               "rate_percent", "lead_time_days")


def rate_text(rate: Decimal | None) -> str | None:
    """A rate per device per day with six significant digits (e.g. 0.000547945)."""
    return None if rate is None else f"{rate:.6g}" if rate else "0"


def hundredths(value: Decimal | None, quantum: str = "0.01") -> Decimal | None:
    return None if value is None else value.quantize(Decimal(quantum), rounding=ROUND_HALF_UP)


def percent(probability: float | None) -> str | None:
    """A probability as a percentage with two decimals ("94.73")."""
    return None if probability is None else f"{probability * 100:.2f}"


REASONS = {"failure": "failure", "lost_or_stolen": "lost or stolen", "end_of_life": "end of life",
           "other": "other"}
PROBLEMS = {"no_order_date": "no order date recorded",
            "no_delivery_date": "no delivery date recorded",
            "delivered_first": "delivered before it was ordered"}
FAILURE_SOURCES = {"measured": "measured: recorded from incidents",
                   "inferred": "inferred from repairs and retirements"}
LEVEL_SOURCES = {"given": "given by the user", "service": "agreed level of the service",
                 "default": "default (no agreed level recorded)"}


def reason_text(to_status: str, reason: str | None) -> str:
    """Why a device left use, in words (export sheets are in English, as the API is)."""
    if to_status == "maintenance":
        return "repair"
    if reason is None:
        return "reason not recorded"
    return REASONS.get(reason, reason)


def figure_sheets(report: SparesReport) -> list[platform.Sheet]:
    """The calculation, its probabilities and the measurements behind it (each with the changes
    it came from), as export sheets."""
    q = report.query
    used = ", ".join(f"{a.service_key} {a.service_name}" for a in report.services_used)
    inputs = [
        ("As of", report.as_of), ("Item class", f"{report.class_name} ({q.class_code})"),
        ("Location", q.location or "every location"),
        ("Look-back window (days)", q.window_days),
        ("Observed from", report.observed_from),
        ("Observed days", report.observed_days),
        ("Short observation", report.observation_short),
        ("Installed base (in use)", report.installed_base),
        ("Replacements (failures) observed", report.failures_counted),
        ("Failures from", FAILURE_SOURCES[report.failures_from]),
        ("Retirements not counted", len(report.not_counted)),
        ("Measured rate per device per day", rate_text(report.measured_rate_per_day)),
        ("Rate used per device per day", rate_text(report.rate_per_day)),
        ("Rate given by the user", report.rate_given),
        ("Deliveries", len(report.deliveries)),
        ("Delivered devices with a lead time", report.devices_measured),
        ("Measured lead time (days)", hundredths(report.measured_lead_days)),
        ("Lead time used (days)", hundredths(report.lead_days)),
        ("Lead time given by the user", report.lead_given),
        ("Planned growth (%)", q.growth_percent),
        ("Service level (%)", report.service_level),
        ("Service level from", LEVEL_SOURCES[report.service_level_from]
         + (f": {used}" if used else "")),
        ("Demand during lead time (lambda)", hundredths(report.demand, "0.0001")),
        ("Spares needed", report.spares_needed),
        ("Stock on hand", report.stock_on_hand),
        ("Still to buy", report.shortfall),
        ("Service level of the stock on hand (%)", percent(report.stock_service_level)),
    ]
    moved = ("Item", "Name", "Change", "At", "To status", "Reason")
    return [
        platform.Sheet("Spares calculation", ("Figure", "Value"),
                      inputs),
        platform.Sheet("Poisson P(X <= k)", ("k", "P(X <= k) (%)"),
                      [(k, percent(p)) for k, p in report.cumulative]),
        platform.Sheet("Replacements", moved,
                      [(r.item_key, r.item_name, r.change_key, r.at, r.to_status,
                        reason_text(r.to_status, r.reason)) for r in report.replacements]),
        platform.Sheet("Retirements not counted", moved,
                      [(r.item_key, r.item_name, r.change_key, r.at, r.to_status,
                        reason_text(r.to_status, r.reason)) for r in report.not_counted]),
        platform.Sheet("Deliveries", ("Delivered by", "Title", "Devices", "Ordered",
                                     "Ordered by", "Delivered", "Days"),
                      [(d.change_key, d.title, d.devices, d.ordered,
                        d.order_change_key or "order date on the receipt", d.delivered,
                        hundredths(d.days) if d.days is not None else PROBLEMS[d.problem or ""])
                       for d in report.deliveries]),
        platform.Sheet("Agreed service levels", ("Service", "Name", "Agreed level (%)", "Used"),
                      [(a.service_key, a.service_name, a.percent, a in report.services_used)
                       for a in report.agreed_levels]),
    ] + ([platform.Sheet("Failures from incidents", (
        "Item", "Name", "Failed at", "Incident", "Outcome", "Recorded by"),
        [(f.item_key, f.item_name, f.at, f.incident_reference, f.outcome, f.recorded_by)
         for f in report.recorded_failures])] if report.recorded_failures else [])


def _report() -> tuple[SparesReport | None, str | None]:
    args = dict(request.args)
    args.setdefault("class", DEFAULT_CLASS)
    try:
        return reports.spares_report(database(), reports.query_from_args(args)), None
    except InputError as exc:
        return None, str(exc)


@bp.get("/spares", endpoint="spares")
@roles_required(*access.REPORT_READERS)
def spares_page() -> ResponseReturnValue:
    report, error = _report()
    classes, locations = reports.pool_choices(database())
    # Only the form's own fields: they are echoed into the form and the export links.
    form = {name: request.args[name] for name in FORM_FIELDS if request.args.get(name)}
    form.setdefault("class", DEFAULT_CLASS)
    if report is None:
        return render_template("reports/spares.html", error=error, report=None, form=form,
                               classes=classes, locations=locations, rate_text=rate_text), 400
    form["as_of"] = report.as_of.isoformat()
    return render_template("reports/spares.html", error=None, report=report, form=form,
                           classes=classes, locations=locations, rate_text=rate_text)


@bp.get("/spares/export")
@roles_required(*access.REPORT_READERS)
def spares_export() -> ResponseReturnValue:
    report, error = _report()
    if report is None:
        abort(400, description=error)
    fmt = request.args.get("format", "xlsx")
    if fmt not in platform.FORMATS:
        abort(400, description=f"format: choose one of {', '.join(platform.FORMATS)}")
    pool = report.query.class_code + (f"-{report.query.location}" if report.query.location else "")
    safe = "".join(ch if ch.isalnum() or ch in ".-_" else "-" for ch in pool)[:80]
    return download(*platform.export(fmt, *figure_sheets(report)),
                    f"spares-{safe}-{report.as_of.isoformat()}.{fmt}")


__all__ = ["figure_sheets", "spares_export", "spares_page"]
