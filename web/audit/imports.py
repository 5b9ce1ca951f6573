"""The coordinator's import screen: upload discovered inventory, see the reconciliation with the
BIR, choose the differences to accept; accepting registers one audit-correction change.

A 100k-row file must stay usable: the page shows counts per kind and one page of differences, and
the coordinator accepts or ignores a kind as a whole or ticks differences on the pages, so the
form posts kinds and the ticked ids, never one field per difference. Moving between pages posts
the same form (its choices travel along) to the reconciliation view, which reconciles the stored
upload again: once per request, never per row."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from usm.services.audit import (
    DEFAULT_MATCH_ORDER,
    DRIFT,
    FORMATS,
    KINDS,
    MAX_BYTES_PER_USER,
    MAX_UPLOADS_PER_USER,
    NOT_SEEN,
    UNREGISTERED,
    ImportFailed,
    ImportProblem,
    UploadQuotaFull,
    accepted_ids,
    claim_upload,
    discard_upload,
    parse_match_order,
    reconcile_file,
    record_acceptance,
    register_correction,
    release_claim,
    save_options,
    store_upload,
    upload_options,
    upload_path,
)
from usm.services.changes import ValidationFailed
from web.audit.blueprint import bp
from web.support import access
from web.support.context import database
from web.support.security import roles_required

MAX_UPLOAD_BYTES = 32 * 1024 * 1024  # the app's MAX_CONTENT_LENGTH
FORMAT_LABELS = {"csv": _l("CSV (BIR columns)"), "json": _l("JSON (BIR fields)"),
                 "snipeit": _l("Snipe-IT asset export (CSV)"),
                 "netbox": _l("NetBox device export (CSV)"),
                 "cyclonedx": _l("CycloneDX SBOM (JSON)")}
GONE = _l("this upload is gone (uploads are kept for a day); upload the file again")
PAGE_SIZE = 100
# The order of the sections and the counts, with what each kind is called on the screen.
KIND_LABELS = {UNREGISTERED: _l("Found, not registered"), DRIFT: _l("Drifted fields"),
               NOT_SEEN: _l("Registered, not seen")}
MODES = {"all": _l("Accept all"), "choose": _l("Choose on the pages"),
         "ignore": _l("Ignore all")}


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
        raise ValueError(_("format: choose one of %(formats)s", formats=", ".join(FORMATS)))
    try:
        return fmt, parse_match_order(request.form.get("match"))
    except ValueError as exc:
        raise ValueError(f"match: {exc}") from exc


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_error: RequestEntityTooLarge) -> ResponseReturnValue:
    """Raised when the form is first read (by the CSRF check), before the view runs."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH") or MAX_UPLOAD_BYTES
    size = f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{limit} bytes"
    return _form(_("file: the upload is larger than %(size)s; split it, or import it with "
                   "`usm import` on the server", size=size), 413)


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
        return _form(_("file: choose the file to import"), 400, **values)
    try:
        token = store_upload(upload.stream, current_user.username)
    except UploadQuotaFull as exc:
        return _form(_("file: you keep %(count)s uploads not yet accepted, and at most "
                       "%(limit)s uploads of %(size)s MB in all are kept per user; accept one "
                       "of them, or upload again when they are removed, a day after their upload",
                       count=exc.uploads, limit=MAX_UPLOADS_PER_USER,
                       size=MAX_BYTES_PER_USER // (1024 * 1024)), 429, **values)
    save_options(token, {"format": fmt, "match": ",".join(order), "name": upload.filename})
    try:
        return _reconciliation(token, upload.filename, fmt, order)
    except BaseException:  # an upload nobody can accept is not kept
        discard_upload(token)
        raise


@bp.route("/audit/import/<token>", methods=["GET", "POST"])
@roles_required(*access.CHANGE_EDITORS)
def reconciliation(token: str) -> ResponseReturnValue:
    """Pages of a stored upload's reconciliation: GET ``?page-<kind>=N`` for a fresh view, POST
    from the accept form's page buttons to keep the choices made so far."""
    options = upload_options(token)
    if options is None or upload_path(token) is None:
        abort(404, description=str(GONE))
    order = tuple(options["match"].split(","))
    return _reconciliation(token, options["name"], options["format"], order)


def _modes(default: str) -> dict[str, str]:
    """Kind -> all, choose or ignore, as posted (``default`` for a kind the request omits)."""
    modes = {}
    for kind in KINDS:
        # Retiring what a file does not list is never the default: a partial file would retire
        # everything it leaves out.
        mode = request.values.get(f"mode-{kind}") or (
            "ignore" if kind == NOT_SEEN and default == "all" else default)
        if mode not in MODES:
            abort(400, description=f"mode-{kind}: " + _("choose one of %(modes)s",
                                                          modes=", ".join(MODES)))
        modes[kind] = mode
    return modes


def _page_of(kind: str) -> int:
    """The page of ``kind``'s differences to show: a page button's ``kind:page``, else
    ``page-<kind>`` (the form's hidden field, or the query string), else the first."""
    shown, _sep, number = (request.form.get("show") or "").partition(":")
    if shown != kind:
        number = request.values.get(f"page-{kind}", "1")
    return int(number) if number.isdigit() and len(number) < 9 else 1


def _page_numbers(current: int, pages: int) -> list[int | None]:
    """The page buttons: first, last and two either side of ``current``; ``None`` for a gap."""
    shown = sorted({1, pages, *range(max(1, current - 2), min(pages, current + 2) + 1)})
    numbers: list[int | None] = []
    for n in shown:
        if numbers and n - (numbers[-1] or 0) > 1:
            numbers.append(None)
        numbers.append(n)
    return numbers


def _reconciliation(token: str, name: str, fmt: str, order: tuple[str, ...],
                    error: str | None = None, mode: str = "all") -> ResponseReturnValue:
    """Render a page of the reconciliation; ``mode`` is the choice of a kind the request does
    not post (all on a fresh page; choose when an older form posted ticked ids only)."""
    path = upload_path(token)
    if path is None:
        abort(404, description=str(GONE))
    try:
        rec = reconcile_file(database(), path, fmt, match_order=order, name=name)
    except ImportFailed as exc:
        discard_upload(token)
        return _form(None, 400, exc.problems, format=fmt, match=",".join(order))
    if not rec.ok:  # nothing can be accepted from it: the page lists the problems, from memory
        discard_upload(token)
    pages = {kind: rec.page(kind, _page_of(kind), PAGE_SIZE) for kind in KIND_LABELS}
    chosen = request.form.getlist("accept") if request.method == "POST" else []
    on_pages = {d.id for page in pages.values() for d in page.differences}
    status = 200 if rec.ok and not error else 400
    return render_template(
        "audit/reconciliation.html", rec=rec, token=token, name=name, fmt=fmt,
        match=",".join(order), error=error, kinds=KIND_LABELS, modes=MODES, mode=_modes(mode),
        pages=pages, page_numbers={k: _page_numbers(p.number, p.pages) for k, p in pages.items()},
        chosen=set(chosen), carried=[i for i in dict.fromkeys(chosen) if i not in on_pages],
        title=request.form.get("title", "")), status


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
        abort(404, description=str(GONE))
    modes = _modes("choose")  # a form without modes (an older page) posts ticked ids only
    # One accept per upload, even when two submits arrive together (the same claim as the API's).
    claim = claim_upload(token)
    if claim is None:
        abort(409, description=_("this upload is being accepted by another request"))
    try:
        rec = reconcile_file(database(), path, fmt, match_order=order, name=name)
        chosen = accepted_ids(rec, kinds=[k for k, m in modes.items() if m == "all"],
                              ids=request.form.getlist("accept"),
                              ignore=[k for k, m in modes.items() if m == "ignore"])
        summary = register_correction(database(), current_user.username, rec, chosen,
                                      title=request.form.get("title") or None)
    except ImportFailed as exc:
        release_claim(claim)
        return _reconciliation(token, name, fmt, order, error=str(exc), mode="choose")
    except ValidationFailed as exc:
        release_claim(claim)
        return _reconciliation(token, name, fmt, order, mode="choose",
                               error="; ".join(f"{e.field}: {e.message}" for e in exc.errors))
    except BaseException:
        release_claim(claim)
        raise
    record_acceptance(claim, summary.key)
    flash(_("%(key)s registered: the accepted differences now go through the CHM steps.",
            key=summary.key), "success")
    return redirect(url_for("changes.detail", key=summary.key))
