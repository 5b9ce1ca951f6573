"""Audit over the API: downloads of the register (a whole filtered listing, now or as of a moment),
an item's history and the change list as CSV or XLSX (the item columns are the ones an import
reads back); and imports: reconcile a file of discovered inventory with the register (nothing is
written), then accept chosen differences as ONE audit-correction change, run through CHM."""

from __future__ import annotations

import json
from typing import IO, Any

from flask import Response, request, url_for

from usm.services import audit, register
from usm.services.audit import (
    KINDS,
    Difference,
    ImportFailed,
    ImportProblem,
    ImportSettings,
    Reconciliation,
    accepted_ids,
    correction_operations,
    parse_fill,
    parse_match_order,
    parse_values,
    reconcile_file,
    register_correction,
)
from usm.services.changes import ChangeFilter
from web.api.auth import holder, roles_required
from web.api.blueprint import bp
from web.api.errors import ApiError
from web.api.schemas.audit import (
    AcceptImport,
    ChangesExportQuery,
    DifferenceCounts,
    DifferenceOut,
    DifferencePage,
    DifferencesQuery,
    ExportFormatQuery,
    ImportAccepted,
    ImportQuery,
    ImportUpload,
    ItemsExportQuery,
    MissingAttributeOut,
    ReconciliationOut,
    SbomOut,
)
from web.api.spec import api_spec, responses
from web.support import access
from web.support.context import database
from web.support.downloads import download

EXPORT_TAGS = ["exports"]


@bp.get("/exports/items")
@roles_required(*access.REGISTER_READERS)
@api_spec.validate(query=ItemsExportQuery, resp=responses(HTTP_200=None), tags=EXPORT_TAGS,
                   operation_id="exportItems")
def export_items(query: ItemsExportQuery) -> Response:
    """Download the register items matching the filters (all of them), as CSV or XLSX

    The same filters as `GET /items`; with `as_of`, the register as it stood then. An unknown
    class is a 422.
    """
    search = register.SearchQuery(
        text=query.q, class_code=query.class_code, status=query.status, owner=query.owner,
        location=query.location, cost_centre=query.cost_centre, as_of=query.as_of)
    try:
        sheet = register.items_sheet(database(), search)
    except register.BadQuery as exc:
        raise ApiError(422, "validation_failed", str(exc), [("class", str(exc))]) from exc
    moment = f"-{query.as_of:%Y-%m-%dT%H%M}" if query.as_of else ""
    return download(f"register{moment}", query.format, sheet)


@bp.get("/exports/items/<key>/history")
@roles_required(*access.REGISTER_READERS)
@api_spec.validate(query=ExportFormatQuery, resp=responses("HTTP_404", HTTP_200=None),
                   tags=EXPORT_TAGS, operation_id="exportItemHistory")
def export_item_history(key: str, query: ExportFormatQuery) -> Response:
    """Download an item's history (one row per changed field of each version)"""
    sheet = register.history_sheet(database(), key)
    return download(f"history-{key.strip().upper()}", query.format, sheet)


@bp.get("/exports/changes")
@roles_required(*access.CHANGE_PARTICIPANTS)
@api_spec.validate(query=ChangesExportQuery, resp=responses(HTTP_200=None), tags=EXPORT_TAGS,
                   operation_id="exportChanges")
def export_changes(query: ChangesExportQuery) -> Response:
    """Download the changes matching the filters (all of them, newest first)"""
    flt = ChangeFilter(open_only=query.open, step=query.step, model=query.model,
                       coordinator=query.coordinator, incident=query.incident)
    return download("changes", query.format, register.changes_sheet(database(), flt))


IMPORT_TAGS = ["imports"]
GONE = "no such upload (uploads are kept for a day); post the file again"
FIRST_PAGE = 100


def _difference(d: Difference) -> DifferenceOut:
    return DifferenceOut(id=d.id, kind=d.kind, summary=d.summary,  # type: ignore[arg-type]
                         item_key=d.item_key, row=d.row, field=d.field, registered=d.registered,
                         found=d.found, operations=list(d.operations))


def _refused(problems: list[ImportProblem], more: int = 0) -> ApiError:
    """Bad input: every problem named by file, row and column (the first 200 of them, with the
    true count in the message); nothing kept."""
    extra = f", the first {len(problems)} of them listed" if more else ""
    return ApiError(422, "import_failed",
                    f"the file cannot be reconciled: {len(problems) + more} problem(s){extra}; "
                    "nothing was registered",
                    [(f"{p.file}, row {p.row}, column {p.column}", p.message) for p in problems])


def _stored_upload(query: ImportQuery) -> tuple[str, str]:
    """The posted file, saved in the upload store: its token and its name."""
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise ApiError(422, "invalid_request", "send the file in the part named file",
                           [("file", "is missing")])
        return _store(upload.stream), query.name or upload.filename or "upload"
    return _store(request.stream), query.name or f"upload.{query.format}"


def _store(stream: IO[bytes]) -> str:
    try:
        return audit.store_upload(stream, holder().username)
    except audit.UploadQuotaFull as exc:
        raise ApiError(429, "upload_quota", str(exc), [
            ("file", f"at most {audit.MAX_UPLOADS_PER_USER} uploads of "
                     f"{audit.MAX_BYTES_PER_USER // (1024 * 1024)} MB in all are kept per user")
        ]) from exc


@bp.post("/imports")
@roles_required(*access.CHANGE_EDITORS, file_body=True)
@api_spec.validate(query=ImportQuery, form=ImportUpload, resp=responses(
    "HTTP_413", "HTTP_429", HTTP_200=ReconciliationOut), tags=IMPORT_TAGS,
    operation_id="createImport")
def create_import(query: ImportQuery) -> ReconciliationOut:
    """Reconcile a file of discovered inventory with the register (writes nothing)

    Send the file as `multipart/form-data` (part `file`) or as the raw body (any other media
    type, e.g. `text/csv`). Each user keeps at most 5 uploads not yet accepted (200 MB in all;
    a 429 beyond), each for a day. The answer counts the differences per kind (unregistered items
    found, registered items not seen, drift per field) and holds the first page of them with
    their ids; `next` pages on through `GET /imports/{import_id}/differences`. Accept by id or
    by kind with `POST /imports/{import_id}/accept`. A bad file (malformed, unknown column, wrong type,
    unknown class, duplicate key) is a 422 naming file, row and column of each problem; a
    category, status or role the mapping does not know is one problem with its count and the
    mapping line that fixes it (or pass `values=`), and so is a class attribute new items need
    that the file cannot give (pass `default=` or `skip_gaps=true`). `currency` names the
    currency of amounts the file gives without one (Snipe-IT's exports). The answer lists the
    columns the mapping reads nothing from.
    A CycloneDX document's software lands on its host: the one it names (a device
    `metadata.component`, or cdxgen's system_info) or the `host` parameter; `sbom` says which,
    and counts per kind what it lists that is not software (reported, never registered).
    """
    try:
        order = parse_match_order(query.match)
    except ValueError as exc:
        raise ApiError(422, "invalid_request", f"match: {exc}", [("match", str(exc))]) from exc
    settings = _settings(query)
    token, name = _stored_upload(query)
    if query.host:  # the host the software is on, chosen: kept for the accept
        audit.save_options(token, {"host": query.host})
    try:
        rec = _reconcile(token, query.format, order, name, settings)
    except BaseException:  # a refused file is not kept
        audit.discard_upload(token)
        raise
    audit.save_options(token, {"format": query.format, "match": ",".join(order),
                                 "name": name, "settings": json.dumps(settings.as_dict())})
    page = rec.page(None, 1, FIRST_PAGE)
    return ReconciliationOut(
        id=token, sbom=_sbom(rec), file=rec.file, format=query.format,
        match_order=list(rec.match_order),
        rows=rec.rows, matched=rec.matched, counts=DifferenceCounts(**rec.counts()),
        differences=[_difference(d) for d in page.differences],
        next=url_for("api.list_import_differences", import_id=token, page=2,
                     limit=FIRST_PAGE) if page.pages > 1 else None,
        ignored_columns=rec.ignored_columns,
        missing_attributes=[MissingAttributeOut(
            class_code=g.class_code, attribute=g.attribute, rows=g.rows, default=g.filled,
            left_out=g.left_out) for g in rec.missing_attributes])


def _settings(query: ImportQuery) -> ImportSettings:
    """The coordinator's choices for this import; a malformed one is a 422 naming it."""
    try:
        return ImportSettings(
            currency=query.currency.upper() if query.currency else None,
            fill=parse_fill([p for p in (query.default or "").split(",") if p.strip()]),
            values=parse_values([p for p in (query.values or "").split(";") if p.strip()]),
            skip_gaps=query.skip_gaps)
    except ValueError as exc:
        field = "default" if "attribute=value" in str(exc) else "values"
        raise ApiError(422, "invalid_request", f"{field}: {exc}", [(field, str(exc))]) from exc


@bp.get("/imports/<import_id>/differences")
@roles_required(*access.CHANGE_EDITORS)
@api_spec.validate(query=DifferencesQuery, resp=responses("HTTP_404", HTTP_200=DifferencePage),
                   tags=IMPORT_TAGS, operation_id="listImportDifferences")
def list_import_differences(import_id: str, query: DifferencesQuery) -> DifferencePage:
    """A page of an upload's differences, of one kind or of all

    The stored file is reconciled again against the register as it is now (once per call), so
    the ids are the ones an accept will find. A page past the last answers the last page.
    """
    options = audit.upload_options(import_id)
    if options is None or audit.upload_path(import_id) is None:
        raise ApiError(404, "not_found", GONE)
    rec = _reconcile(import_id, options["format"], tuple(options["match"].split(",")),
                     options["name"])
    page = rec.page(query.kind, query.page, query.limit)
    next_url = None
    if page.number < page.pages:
        args = {"kind": query.kind} if query.kind else {}
        next_url = url_for("api.list_import_differences", import_id=import_id,
                           page=page.number + 1, limit=query.limit, **args)
    return DifferencePage(kind=query.kind, page=page.number, pages=page.pages,
                          total=page.total, differences=[_difference(d) for d in page.differences],
                          next=next_url)


def _sbom(rec: Reconciliation) -> SbomOut | None:
    s = rec.sbom
    return None if s is None else SbomOut(
        host=s.host, host_from=s.host_from, spec_version=s.spec_version, components=s.components,
        repeated=s.repeated, not_registered=dict(sorted(s.not_registered.items())))


def _reconcile(token: str, fmt: str, order: tuple[str, ...], name: str,
               settings: ImportSettings | None = None) -> Reconciliation:
    """Reconcile a stored upload, with the settings it was posted with (or ``settings``)."""
    path = audit.upload_path(token)
    if path is None:
        raise ApiError(404, "not_found", GONE)
    if settings is None:
        stored = (audit.upload_options(token) or {}).get("settings")
        settings = ImportSettings.from_dict(json.loads(stored) if stored else None)
    try:
        rec = reconcile_file(database(), path, fmt, match_order=order, name=name,
                             settings=settings,
                             host=(audit.upload_options(token) or {}).get("host") or None)
    except ImportFailed as exc:
        raise _refused(exc.problems) from exc
    if not rec.ok:
        raise _refused(rec.problems + rec.duplicates, rec.more_problems)
    return rec


@bp.post("/imports/<import_id>/accept")
@roles_required(*access.CHANGE_EDITORS)
@api_spec.validate(json=AcceptImport, resp=responses(
    "HTTP_400", "HTTP_404", "HTTP_409", "HTTP_415", HTTP_201=ImportAccepted), tags=IMPORT_TAGS,
    operation_id="acceptImport")
def accept_import(import_id: str, json: AcceptImport) -> Any:
    """Accept differences of a reconciliation: registers ONE audit-correction change

    Name the differences by id (`accept`, or `"all"`), by kind (`kinds`: every difference of
    those kinds), or both. The file is reconciled again against the register as it is now, and
    the accepted differences become the change set of one change of the model audit-correction, which then
    goes through the CHM steps like any change. An upload is accepted once: a second accept is
    a 409 naming the change it became.
    """
    done = audit.accepted_as(import_id)
    if done is not None:
        raise ApiError(409, "conflict", f"this upload was already accepted as {done}")
    options = audit.upload_options(import_id)
    if options is None or audit.upload_path(import_id) is None:
        raise ApiError(404, "not_found", GONE)
    claim = audit.claim_upload(import_id)
    if claim is None:
        done = audit.accepted_as(import_id)  # by the accept this one met
        raise ApiError(409, "conflict", f"this upload was already accepted as {done}" if done
                       else "this upload is being accepted by another request")
    try:
        rec = _reconcile(import_id, options["format"], tuple(options["match"].split(",")),
                         options["name"])
        every = json.accept == "all"
        chosen = accepted_ids(rec, kinds=[*(json.kinds or ()), *(KINDS if every else ())],
                              ids=() if every or json.accept is None else json.accept)
        summary = register_correction(database(), holder().username, rec, chosen,
                                      title=json.title)
    except BaseException:
        audit.release_claim(claim)
        raise
    audit.record_acceptance(claim, summary.key)
    operations = len(correction_operations(rec, chosen))
    return ImportAccepted(key=summary.key, title=summary.title, accepted=len(chosen),
                          operations=operations), 201, {
        "Location": url_for("api.get_change", key=summary.key)}
