"""The coordinator's import screen: upload discovered inventory, see the reconciliation with the
BIR, tick the differences to accept; accepting registers one audit-correction change."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from usm.services.audit.correction import FORMATS, reconcile_file, register_correction
from usm.services.audit.found import ImportFailed, ImportProblem
from usm.services.audit.reconcile import DEFAULT_MATCH_ORDER, parse_match_order
from usm.services.audit.uploads import (
    claim_upload,
    discard_upload,
    record_acceptance,
    release_claim,
    store_upload,
    upload_path,
)
from usm.services.changes import ValidationFailed
from web import access
from web.context import database
from web.security import roles_required

bp = Blueprint("audit", __name__)
MAX_UPLOAD_BYTES = 32 * 1024 * 1024  # the app's MAX_CONTENT_LENGTH
FORMAT_LABELS = {"csv": "CSV (BIR columns)", "json": "JSON (BIR fields)",
                 "snipeit": "Snipe-IT asset export (CSV)", "netbox": "NetBox device export (CSV)",
                 "cyclonedx": "CycloneDX SBOM (JSON)"}


def _form(error: str | None = None, status: int = 200, problems: list[ImportProblem] | None = None,
          **values: str) -> ResponseReturnValue:
    return render_template("audit/import.html", error=error, problems=problems or [],
                           formats=FORMAT_LABELS, default_match=",".join(DEFAULT_MATCH_ORDER),
                           values=values), status


@bp.get("/audit/import")
@roles_required(*access.CHANGE_EDITORS)
def upload_form() -> ResponseReturnValue:
    return _form()


def _options() -> tuple[str, tuple[str, ...]]:
    fmt = request.form.get("format", "")
    if fmt not in FORMATS:
        raise ValueError(f"format: choose one of {', '.join(FORMATS)}")
    try:
        return fmt, parse_match_order(request.form.get("match"))
    except ValueError as exc:
        raise ValueError(f"match: {exc}") from exc


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_error: RequestEntityTooLarge) -> ResponseReturnValue:
    """Raised when the form is first read (by the CSRF check), before the view runs."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH") or MAX_UPLOAD_BYTES
    size = f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{limit} bytes"
    return _form(f"file: the upload is larger than {size}; split it, or import it with "
                 "`usm import` on the server", 413)


@bp.post("/audit/import")
@roles_required(*access.CHANGE_EDITORS)
def upload() -> ResponseReturnValue:
    upload = request.files.get("file")
    values = {"format": request.form.get("format", ""), "match": request.form.get("match", "")}
    try:
        fmt, order = _options()
    except ValueError as exc:
        return _form(str(exc), 400, **values)
    if upload is None or not upload.filename:
        return _form("file: choose the file to import", 400, **values)
    token = store_upload(upload.stream)
    return _reconciliation(token, upload.filename, fmt, order)


def _reconciliation(token: str, name: str, fmt: str, order: tuple[str, ...],
                    error: str | None = None) -> ResponseReturnValue:
    path = upload_path(token)
    if path is None:
        abort(404, description="this upload is gone (uploads are kept for a day); upload the "
                               "file again")
    try:
        rec = reconcile_file(database(), path, fmt, match_order=order, name=name)
    except ImportFailed as exc:
        discard_upload(token)
        return _form(None, 400, exc.problems, format=fmt, match=",".join(order))
    status = 200 if rec.ok and not error else 400
    return render_template("audit/reconciliation.html", rec=rec, token=token, name=name, fmt=fmt,
                           match=",".join(order), error=error), status


@bp.post("/audit/import/<token>/accept")
@roles_required(*access.CHANGE_EDITORS)
def accept(token: str) -> ResponseReturnValue:
    name = request.form.get("name") or "upload"
    try:
        fmt, order = _options()
    except ValueError as exc:
        abort(400, description=str(exc))
    path = upload_path(token)
    if path is None:
        abort(404, description="this upload is gone (uploads are kept for a day); upload the "
                               "file again")
    chosen = request.form.getlist("accept")
    # One accept per upload, even when two submits arrive together (the same claim as the API's).
    if not claim_upload(token):
        abort(409, description="this upload is being accepted by another request")
    try:
        rec = reconcile_file(database(), path, fmt, match_order=order, name=name)
        summary = register_correction(database(), current_user.username, rec, chosen,
                                      title=request.form.get("title") or None)
    except ImportFailed as exc:
        release_claim(token)
        return _reconciliation(token, name, fmt, order, error=str(exc))
    except ValidationFailed as exc:
        release_claim(token)
        return _reconciliation(token, name, fmt, order,
                               error="; ".join(f"{e.field}: {e.message}" for e in exc.errors))
    except BaseException:
        release_claim(token)
        raise
    record_acceptance(token, summary.key)
    flash(f"{summary.key} registered: the accepted differences now go through the CHM steps.",
          "success")
    return redirect(url_for("changes.detail", key=summary.key))
