"""Licences (software asset management): the licence position per product and metric, a product's
entitlements and installations, and the audit export, as of any day; and the one-click change
that marks a product as needing no licence (free, open source, bundled) or needing one."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from usm.services.errors import Invalid
from usm.services.reports import licences
from usm.services.user_input import InputError, parse_day
from web.reports.blueprint import TOPICS, Topic, bp
from web.support import access
from web.support.context import database
from web.support.security import roles_required

TOPICS.append(Topic("reports.licences", _l("Licences"),
                        _l("The licence position per product and metric: entitled, consumed, surplus or "
                        "shortfall and its cost; the audit export for a vendor.")))


# A software product's licensing (class software.product), as the screens name it.
LICENSING_LABELS = {
    "commercial": _l("Commercial"),
    "free": _l("Free"),
    "open_source": _l("Open source"),
    "bundled": _l("Bundled"),
}


def _page_context() -> dict[str, Any]:
    return dict(rules=licences.METRIC_RULES, licensing_labels=LICENSING_LABELS,
                no_licence_needed=[c for c in licences.LICENSING if c in licences.NO_LICENCE_NEEDED],
                can_mark=bool(set(current_user.roles) & set(access.CHANGE_EDITORS)))


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
                               asked=request.args.get("as_of", ""), **_page_context()), 400
    report = licences.licence_position(database(), day)
    return render_template("reports/licences.html", error=None, report=report,
                           asked=report.day.isoformat(), **_page_context())


@bp.get("/licences/products/<path:product>")
@roles_required(*access.REPORT_READERS)
def licence_product(product: str) -> ResponseReturnValue:
    day, error = _day()
    if error:
        return render_template("reports/licence_product.html", error=error, detail=None,
                               product=product, asked=request.args.get("as_of", ""),
                               **_page_context()), 400
    detail = licences.product_position(database(), product, day)
    return render_template("reports/licence_product.html", error=None, detail=detail,
                           product=detail.product, asked=detail.report.day.isoformat(),
                           **_page_context())


@bp.post("/licences/licensing")
@roles_required(*access.CHANGE_EDITORS)
def licence_licensing() -> ResponseReturnValue:
    """Register the change that sets a product's licensing; it goes through CHM like any."""
    form = request.form
    product = form.get("product", "")
    try:
        registered = licences.register_licensing_change(
            database(), current_user.username, product, form.get("licensing", ""),
            vendor=form.get("vendor") or None)
    except Invalid as exc:
        flash(str(exc), "error")
        return redirect(url_for("reports.licences", _anchor="unlicensed-heading"))
    flash(_("Registered %(key)s “%(title)s”: it goes through the change process like any "
            "change; the licence position counts the product as marked from the day it is "
            "implemented.", key=registered.key, title=registered.title), "success")
    return redirect(url_for("changes.detail", key=registered.key))


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
