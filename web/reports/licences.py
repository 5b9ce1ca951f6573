"""Licences (software asset management): the licence position per product and metric, a product's
entitlements and installations, and the audit export, as of any day."""

from __future__ import annotations

from datetime import date

from flask import Response, abort, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l

from usm.services.reports import licences
from usm.services.user_input import InputError, parse_day
from web.reports.blueprint import TOPICS, Topic, bp
from web.support import access
from web.support.context import database
from web.support.security import roles_required

TOPICS.append(Topic("reports.licences", _l("Licences"),
                        _l("The licence position per product and metric: entitled, consumed, surplus or "
                        "shortfall and its cost; the audit export for a vendor.")))


def _day() -> tuple[date | None, str | None]:
    """The ``as_of`` day asked for (today when not given), or why it cannot be read."""
    try:
        return parse_day(request.args.get("as_of")), None
    except InputError as exc:
        return None, str(exc)


@bp.get("/licences", endpoint="licences")
@roles_required(*access.REPORT_READERS)
def licences_position() -> ResponseReturnValue:
    day, error = _day()
    if error:
        return render_template("reports/licences.html", error=error, report=None,
                               rules=licences.METRIC_RULES,
                               asked=request.args.get("as_of", "")), 400
    report = licences.licence_position(database(), day)
    return render_template("reports/licences.html", error=None, report=report,
                           rules=licences.METRIC_RULES, asked=report.day.isoformat())


@bp.get("/licences/products/<path:product>")
@roles_required(*access.REPORT_READERS)
def licence_product(product: str) -> ResponseReturnValue:
    day, error = _day()
    if error:
        return render_template("reports/licence_product.html", error=error, detail=None,
                               product=product, rules=licences.METRIC_RULES,
                               asked=request.args.get("as_of", "")), 400
    detail = licences.product_position(database(), product, day)
    return render_template("reports/licence_product.html", error=None, detail=detail,
                           product=detail.product, rules=licences.METRIC_RULES,
                           asked=detail.report.day.isoformat())


@bp.get("/licences/export")
@roles_required(*access.REPORT_READERS)
def licence_export() -> ResponseReturnValue:
    day, error = _day()
    if error:
        abort(400, description=error)
    try:
        data, media, filename = licences.audit_export(
            database(), request.args.get("format", "xlsx"), day,
            table=request.args.get("table", "positions"),
            product=request.args.get("product") or None)
    except licences.BadExport as exc:
        abort(400, description=str(exc))
    response = Response(data, mimetype=media.split(";")[0])
    if media.startswith("text/"):
        response.charset = "utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
