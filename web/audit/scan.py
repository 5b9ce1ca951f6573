"""The coordinator's scan audit: choose a location, then type or scan item keys or serial numbers
(a USB scanner types and presses Enter); the page lists what was found, what was unexpected and
what is still missing there, and *Finish* opens the same reconciliation as a file import.

Without JavaScript each Enter posts the form and the page comes back with the lists; with
``scan.js`` the scan is posted in the background and the lists are replaced in place (the server
renders them either way, so the page reads the same)."""

from __future__ import annotations

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from usm.services import audit, register
from usm.services.audit import (
    FOUND,
    REPEATED,
    UNEXPECTED,
    ScanOutcome,
    ScanState,
    UploadQuotaFull,
)
from usm.services.errors import Invalid, NotFound, Refused
from web.audit.blueprint import bp
from web.support import access
from web.support.context import database
from web.support.security import roles_required

# The most rows each list shows (the counts are always whole).
SHOWN = 200
KIND_TEXT = {
    FOUND: _l("found"), UNEXPECTED: _l("unexpected: registered elsewhere"),
    audit.UNKNOWN: _l("unknown: no item has this key or serial number"),
    REPEATED: _l("already scanned"),
}


def _start_form(error: str | None = None, status: int = 200, **values: object
                ) -> ResponseReturnValue:
    choices = register.search_choices(database())
    return render_template("audit/scan_start.html", error=error, choices=choices,
                           values=values), status


@bp.get("/audit/scan")
@roles_required(*access.CHANGE_EDITORS)
def scan_start() -> ResponseReturnValue:
    return _start_form(location=request.args.get("location", ""))


@bp.post("/audit/scan")
@roles_required(*access.CHANGE_EDITORS)
def scan_begin() -> ResponseReturnValue:
    location = request.form.get("location", "")
    classes = request.form.getlist("classes")
    try:
        token = audit.start_scan(database(), current_user.username, location, classes)
    except Invalid as exc:
        return _start_form(str(exc), 400, location=location, classes=classes)
    except Refused as exc:
        return _start_form(str(exc), 429, location=location, classes=classes)
    return redirect(url_for("audit.scan_page", token=token))


def _state(token: str) -> ScanState:
    return audit.scan_state(database(), token, current_user.username)


def _page(state: ScanState, error: str | None = None, status: int = 200) -> ResponseReturnValue:
    choices = register.search_choices(database())
    return render_template("audit/scan.html", state=state, error=error, shown=SHOWN,
                           classes=choices.classes), status


@bp.get("/audit/scan/<token>")
@roles_required(*access.CHANGE_EDITORS)
def scan_page(token: str) -> ResponseReturnValue:
    return _page(_state(token))


def _message(outcome: ScanOutcome) -> str:
    item = outcome.item
    named = f"{item.key} {item.name}" if item else outcome.value
    if item and outcome.kind == UNEXPECTED:
        return _("%(item)s: unexpected, registered at %(location)s", item=named,
                 location=item.location or _("no location"))
    return f"{named}: {KIND_TEXT[outcome.kind]}"


@bp.post("/audit/scan/<token>")
@roles_required(*access.CHANGE_EDITORS)
def scan_add(token: str) -> ResponseReturnValue:
    """One scan, without JavaScript: record it and show the page again (a reload repeats
    nothing)."""
    try:
        outcome, _state_now = audit.add_scan(database(), token, current_user.username,
                                             request.form.get("value", ""))
    except Invalid as exc:
        return _page(_state(token), str(exc), 400)
    flash(_message(outcome), "success" if outcome.kind == FOUND else "warning")
    return redirect(url_for("audit.scan_page", token=token) + "#scan")


@bp.post("/audit/scan/<token>/scans")
@roles_required(*access.CHANGE_EDITORS)
def scan_add_json(token: str) -> ResponseReturnValue:
    """One scan from ``scan.js``: what it was and the lists, rendered as on the page."""
    try:
        outcome, state = audit.add_scan(database(), token, current_user.username,
                                        request.form.get("value", ""))
    except NotFound as exc:
        return jsonify(error=str(exc)), 404
    except Invalid as exc:
        return jsonify(error=str(exc)), 400
    return jsonify(kind=outcome.kind, message=_message(outcome),
                   lists=render_template("audit/scan_lists.html", state=state, shown=SHOWN))


@bp.post("/audit/scan/<token>/remove")
@roles_required(*access.CHANGE_EDITORS)
def scan_remove(token: str) -> ResponseReturnValue:
    value = request.form.get("value", "")
    try:
        audit.remove_scan(database(), token, current_user.username, value)
    except Invalid as exc:
        return _page(_state(token), str(exc), 400)
    flash(_("%(value)s removed from the scan.", value=value), "success")
    return redirect(url_for("audit.scan_page", token=token))


@bp.post("/audit/scan/<token>/finish")
@roles_required(*access.CHANGE_EDITORS)
def scan_finish(token: str) -> ResponseReturnValue:
    """The scan as an import reconciled within its location: the import's own page."""
    try:
        upload = audit.finish_scan(database(), token, current_user.username,
                                   new_class=request.form.get("new_class") or None)
    except UploadQuotaFull as exc:
        return _page(_state(token), _(
            "You keep %(count)s uploads not yet accepted, and at most %(limit)s are kept per "
            "user; accept one of them, or finish when they are removed, a day after their "
            "upload.", count=exc.uploads, limit=audit.MAX_UPLOADS_PER_USER), 429)
    except Invalid as exc:
        return _page(_state(token), str(exc), 400)
    return redirect(url_for("audit.reconciliation", token=upload))
