"""The coordinator's import screen: upload discovered inventory, see the reconciliation with the
BIR, choose the differences to accept; accepting registers one audit-correction change.

A 100k-row file must stay usable: the page shows counts per kind and one page of differences, and
the coordinator accepts or ignores a kind as a whole or ticks differences on the pages, so the
form posts kinds and the ticked ids, never one field per difference. Moving between pages posts
the same form (its choices travel along) to the reconciliation view, which reconciles the stored
upload again: once per request, never per row."""

from __future__ import annotations

import json

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
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
    ImportSettings,
    UploadQuotaFull,
    accepted_ids,
    claim_upload,
    discard_upload,
    host_unknown,
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
from usm.services.item_classes import list_item_classes
from usm.services.platform import default_currency
from usm.services.register import STATUSES
from web.audit.blueprint import bp
from web.support import access
from web.support.context import database
from web.support.security import roles_required

MAX_UPLOAD_BYTES = 32 * 1024 * 1024  # the app's MAX_CONTENT_LENGTH
FORMAT_LABELS = {"csv": _l("CSV (BIR columns)"), "json": _l("JSON (BIR fields)"),
                 "snipeit": _l("Snipe-IT asset export or Custom Asset Report (CSV)"),
                 "netbox": _l("NetBox device export (CSV)"),
                 "cyclonedx": _l("CycloneDX SBOM or OBOM (JSON, 1.4 to 1.6)")}
# Where a CycloneDX document's host came from (SbomReport.host_from), as the page says it.
HOST_SOURCES = {"chosen": _l("chosen at the import"),
                "metadata.component": _l("the device the document describes"),
                "metadata.properties": _l("named in the document's metadata"),
                "system_info": _l("cdxgen's system information")}
# What a CycloneDX document lists that is not software (SbomReport.not_registered), as the page
# names it; another kind (a CycloneDX type such as data or file) is shown as the document says.
NOT_SOFTWARE = {"certificate": _l("certificate"), "service": _l("service"),
                "process": _l("process"), "listening port": _l("listening port"),
                "open socket": _l("open socket"), "scheduled task": _l("scheduled task"),
                "startup item": _l("startup item"), "device driver": _l("device driver"),
                "kernel module": _l("kernel module"), "patch": _l("patch"),
                "kernel": _l("kernel"), "system info": _l("system info")}
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
                           default_currency=default_currency(), values=values), status


def _currency(text: str | None) -> str | None:
    """The currency chosen on the screen (``None``: the register's default); ``ValueError``
    for one that is not a three-letter code."""
    code = (text or "").strip().upper()
    if not code:
        return None
    if len(code) != 3 or not code.isalpha():
        raise ValueError(_("currency: give a three-letter currency code, such as EUR"))
    return code


def _settings(options: dict[str, str]) -> ImportSettings:
    """The choices kept with a stored upload (currency, values, defaults)."""
    stored = options.get("settings")
    return ImportSettings.from_dict(json.loads(stored) if stored else None)


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
    values = {"format": request.form.get("format", ""), "match": request.form.get("match", ""),
              "currency": request.form.get("currency", ""),
              "host": request.form.get("host", "")}
    try:
        fmt, order = _options()
        currency = _currency(request.form.get("currency"))
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
    settings = ImportSettings(currency=currency)
    save_options(token, {"format": fmt, "match": ",".join(order), "name": upload.filename,
                         "settings": json.dumps(settings.as_dict())})
    save_options(token, {"host": _host(request.form.get("host"))})
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
    settings = _settings(upload_options(token) or {})
    try:
        rec = reconcile_file(database(), path, fmt, match_order=order, name=name,
                             settings=settings, host=_stored_host(token))
    except ImportFailed as exc:
        if host_unknown(exc.problems):  # kept: the coordinator chooses the host on the form
            return _form(None, 400, exc.problems, format=fmt, match=",".join(order),
                         choose_host=token, host=_stored_host(token) or "")
        discard_upload(token)
        return _form(None, 400, exc.problems, format=fmt, match=",".join(order))
    fixable = bool(rec.unknown_values or rec.missing_attributes)
    fixable = fixable or host_unknown(rec.problems)  # the host is chosen on the page
    if not rec.ok and not fixable:  # nothing can be accepted from it: the page lists the
        discard_upload(token)  # problems, from memory
    pages = {kind: rec.page(kind, _page_of(kind), PAGE_SIZE) for kind in KIND_LABELS}
    chosen = request.form.getlist("accept") if request.method == "POST" else []
    on_pages = {d.id for page in pages.values() for d in page.differences}
    status = 200 if rec.ok and not error else 400
    return render_template(
        "audit/reconciliation.html", rec=rec, token=token, name=name, fmt=fmt,
        match=",".join(order), error=error, kinds=KIND_LABELS, modes=MODES, mode=_modes(mode),
        pages=pages, page_numbers={k: _page_numbers(p.number, p.pages) for k, p in pages.items()},
        chosen=set(chosen), carried=[i for i in dict.fromkeys(chosen) if i not in on_pages],
        title=request.form.get("title", ""), settings=settings, fixable=fixable,
        classes=[c.code for c in list_item_classes(database()) if not c.abstract],
        statuses=list(STATUSES), choose_host=host_unknown(rec.problems),
        host=_stored_host(token) or "", host_sources=HOST_SOURCES,
        not_software=NOT_SOFTWARE), status


@bp.post("/audit/import/<token>/settings")
@roles_required(*access.CHANGE_EDITORS)
def choose(token: str) -> ResponseReturnValue:
    """Keep the coordinator's choices for an upload (what an unknown value stands for, a default
    per missing class attribute, leaving such rows out, the currency) and reconcile again."""
    options = upload_options(token)
    if options is None or upload_path(token) is None:
        abort(404, description=str(GONE))
    old = _settings(options)
    values: dict[str, dict[str, str]] = {t: dict(v) for t, v in old.values.items()}
    form = request.form
    allowed = {"class": {c.code for c in list_item_classes(database()) if not c.abstract},
               "status": set(STATUSES)}  # what the selects offer; anything else is ignored
    for target, source, value in zip(form.getlist("u-target"), form.getlist("u-source"),
                                     form.getlist("u-value"), strict=False):
        if source and value in allowed.get(target, ()):
            values.setdefault(target, {})[source] = value
    fill = dict(old.fill)
    for attribute, value in zip(form.getlist("fill-attribute"), form.getlist("fill-value"),
                                strict=False):
        if attribute and value.strip():
            fill[attribute] = value.strip()
        elif attribute:
            fill.pop(attribute, None)
    try:
        currency = _currency(form.get("currency")) if "currency" in form else old.currency
    except ValueError as exc:
        abort(400, description=str(exc))
    settings = ImportSettings(currency=currency, values=values, fill=fill,
                              skip_gaps=form.get("skip_gaps") == "1")
    save_options(token, {"settings": json.dumps(settings.as_dict())})
    return redirect(url_for("audit.reconciliation", token=token))


def _host(text: str | None) -> str:
    """The host a CycloneDX document's software is on, as typed (blank: the one it names)."""
    return " ".join((text or "").split())[:200]


def _stored_host(token: str) -> str | None:
    return (upload_options(token) or {}).get("host") or None


@bp.post("/audit/import/<token>/host")
@roles_required(*access.CHANGE_EDITORS)
def choose_host(token: str) -> ResponseReturnValue:
    """Keep the host chosen for a CycloneDX upload that names none, or one the register does
    not know, and reconcile again."""
    options = upload_options(token)
    if options is None or upload_path(token) is None:
        abort(404, description=str(GONE))
    host = _host(request.form.get("host"))
    if not host:
        return _form(_("host: give the key or host name of the device the software is on"),
                     400, format=options.get("format", ""), match=options.get("match", ""),
                     choose_host=token)
    save_options(token, {"host": host})
    return redirect(url_for("audit.reconciliation", token=token))


@bp.get("/audit/import/<token>/mapping.yaml")
@roles_required(*access.CHANGE_EDITORS)
def mapping_file(token: str) -> ResponseReturnValue:
    """The upload's mapping with the values chosen on the screen, as the YAML file
    ``usm import --mapping`` reads: the choices kept for the next import."""
    options = upload_options(token)
    if options is None or options.get("format") not in FORMATS:
        abort(404, description=str(GONE))
    _reader, mapping = FORMATS[options["format"]]
    body = _settings(options).apply(mapping()).to_yaml()
    return Response(body, mimetype="application/yaml", headers={
        "Content-Disposition": f"attachment; filename={options['format']}-mapping.yaml"})


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
        rec = reconcile_file(database(), path, fmt, match_order=order, name=name,
                             settings=_settings(upload_options(token) or {}),
                             host=_stored_host(token))
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
