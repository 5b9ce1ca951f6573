"""Changes over the API: list, register (with the change set), read, edit, approve and move them
through the CHM steps. No operation writes to the register itself: a change's implementation does.

Optimistic concurrency: a change's ``version`` is its ``ETag``; moving or editing with a stale
``If-Match`` (or body ``version``) is refused with 409 and changes nothing.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from functools import wraps
from typing import IO, Any

import ijson
import yaml
from flask import Response, request, url_for
from pydantic import TypeAdapter, ValidationError

from usm.services import changes
from usm.services.changes import ChangeDetail, ChangeSummary
from usm.services.user_input import load_yaml, nesting_depth, unstorable_text
from web.api.auth import holder, roles_required
from web.api.blueprint import bp
from web.api.errors import ApiError, field_path
from web.api.pagination import after_key, page_of
from web.api.schemas.changes import (
    ApprovalOut,
    ApproveChange,
    ChangeDetailOut,
    ChangeHeader,
    ChangeLog,
    ChangePage,
    ChangeSetFile,
    ChangesQuery,
    ChangeSummaryOut,
    CommentIn,
    CommentOut,
    CreateChange,
    EditChange,
    IfMatch,
    LogEntryOut,
    MoveChange,
    Operation,
    StepProgress,
    TransitionOption,
)
from web.api.schemas.common import money_text
from web.api.schemas.register import ServiceRef
from web.api.spec import MAX_BODY_DEPTH, api_spec, check_request_body, responses
from web.support import access
from web.support.context import database

TAGS = ["changes"]
DETAIL_FIELDS = ("description", "reason", "coordinator", "risk", "impact", "cost_estimate",
                 "currency", "planned_start", "planned_end", "fields")


def _summary(s: ChangeSummary) -> dict[str, Any]:
    return dict(vars(s))


def _detail(d: ChangeDetail) -> ChangeDetailOut:
    return ChangeDetailOut(
        **_summary(d.summary), description=d.description, reason=d.reason, source=d.source,
        risk=d.risk, impact=d.impact, cost_estimate=money_text(d.cost_estimate),
        currency=d.currency, planned_start=d.planned_start, planned_end=d.planned_end,
        outcome=d.outcome, fields=d.fields, services=d.services, operations=d.operations,
        approvals=[ApprovalOut(**vars(a)) for a in d.approvals],
        impacted_services=[ServiceRef(key=k, name=n) for k, n in d.impacted_services],
        steps=[StepProgress(step=s, label=label, status=status)  # type: ignore[arg-type]
               for s, label, status in d.steps],
        transitions=[TransitionOption(trigger=o.trigger, label=o.label, dest=o.dest,
                                      dest_step=o.dest_step.value, allowed=o.allowed,
                                      reasons=list(o.reasons)) for o in d.options],
        comments=[CommentOut(author=c.author, at=c.at, body=c.body) for c in d.comments],
    )


def _answer(key: str, status: int = 200) -> tuple[ChangeDetailOut, int, dict[str, str]]:
    detail = changes.change_detail(database(), key, holder().username)
    headers = {"ETag": f'"{detail.summary.version}"'}
    if status == 201:
        headers["Location"] = url_for("api.get_change", key=detail.summary.key)
    return _detail(detail), status, headers


def _expected_version(headers: IfMatch, version: int | None) -> int | None:
    """The version the caller read, from ``If-Match`` or the body (both must agree)."""
    tag = headers.if_match
    from_header = None if tag in (None, "*") else int(tag.removeprefix("W/").strip('"'))
    if from_header is not None and version is not None and from_header != version:
        raise ApiError(422, "invalid_request", "If-Match and version name different versions",
                       [("version", f"does not match If-Match {tag}")])
    return from_header if from_header is not None else version


@bp.get("/changes")
@roles_required(*access.CHANGE_PARTICIPANTS)
@api_spec.validate(query=ChangesQuery, resp=responses(HTTP_200=ChangePage), tags=TAGS,
                   operation_id="listChanges")
def list_changes(query: ChangesQuery) -> ChangePage:
    """List changes, newest first (open ones unless open=false)"""
    rows = changes.list_changes(database(), open_only=query.open, step=query.step,
                                coordinator=query.coordinator, model=query.model,
                                incident=query.incident, limit=query.limit + 1,
                                after=after_key(query.cursor))
    shown, next_url = page_of(rows, query.limit)
    return ChangePage(changes=[ChangeSummaryOut(**_summary(r)) for r in shown], next=next_url)


# A change set of any size goes as a stream or a file, read operation by operation, within
# limits of its own (the JSON body of every other operation stays within 4 MiB).
NDJSON = "application/x-ndjson"
MULTIPART = "multipart/form-data"
MAX_STREAM_BYTES = 256 * 1024 * 1024
MAX_OPERATIONS = 1_000_000
MAX_LINE_BYTES = 1024 * 1024  # one NDJSON line: an operation, or the change's details
MAX_PROBLEMS = 100  # named in a refusal; reading stops there
FILE_TYPES = {".json": "json", ".ndjson": "ndjson", ".jsonl": "ndjson", ".yaml": "yaml",
              ".yml": "yaml", "application/json": "json", NDJSON: "ndjson",
              "application/yaml": "yaml", "application/x-yaml": "yaml", "text/yaml": "yaml"}
_OPERATION: TypeAdapter[Any] = TypeAdapter(Operation)


class _ChangeSetReader:
    """A change set read one value at a time: the change's details, then each operation checked
    against the API's schema as it arrives, every problem named by where it is (``line 12:
    operations[10].status``). Nothing is registered unless the whole set reads clean."""

    def __init__(self) -> None:
        self.header: dict[str, Any] | None = None
        self.operations: list[dict[str, Any]] = []
        self.problems: list[tuple[str, str]] = []

    @property
    def full(self) -> bool:
        return len(self.problems) >= MAX_PROBLEMS

    def problem(self, where: str, message: str) -> None:
        if not self.full:
            self.problems.append((where, message))

    def checked(self, value: Any, where: str) -> bool:
        """Whether a parsed value may be read on: an object, not nested too deeply, with
        storable text and finite numbers."""
        if nesting_depth(value) > MAX_BODY_DEPTH:
            self.problem(where, f"nested deeper than {MAX_BODY_DEPTH} levels")
        elif not isinstance(value, dict):
            self.problem(where, "must be a JSON object")
        elif unstorable_text(value):
            self.problem(where, "contains text that cannot be stored (NUL or a lone surrogate)")
        elif _non_finite(value):
            self.problem(where, "numbers must be finite")
        else:
            return True
        return False

    def details(self, value: dict[str, Any], prefix: str = "") -> None:
        self.header = value
        try:
            ChangeHeader.model_validate(value)
        except ValidationError as exc:
            for err in exc.errors(include_url=False):
                self.problem(f"{prefix}{field_path(err['loc']) or 'details'}",
                             err["msg"].removeprefix("Value error, "))

    def operation(self, value: Any, prefix: str = "") -> None:
        index = len(self.operations)
        if index >= MAX_OPERATIONS:
            raise ApiError(413, "payload_too_large", f"a change set holds at most "
                           f"{MAX_OPERATIONS:,} operations", [("operations", "too many")])
        where = f"{prefix}operations[{index}]"
        if not self.checked(value, where):
            self.operations.append({})
            return
        try:
            op = _OPERATION.validate_python(value)
        except ValidationError as exc:
            for err in exc.errors(include_url=False):
                loc = [part for part in err["loc"][1:]]  # the first part names the union member
                self.problem(f"{where}.{field_path(loc)}" if loc else where,
                             err["msg"].removeprefix("Value error, "))
            self.operations.append({})
            return
        self.operations.append(op.model_dump(mode="json", by_alias=True, exclude_unset=True))

    def change(self) -> tuple[ChangeHeader, list[dict[str, Any]]]:
        """The change read, or a 422 naming every problem (the first ``MAX_PROBLEMS``)."""
        if self.header is None and not self.problems:
            self.problem("details", "the change's details (model, title, ...) are missing")
        if not self.operations and not self.problems:
            self.problem("operations", "the change set holds no operations")
        if self.problems:
            more = " (reading stopped there)" if self.full else ""
            raise ApiError(422, "invalid_change_set", f"the change set has "
                           f"{len(self.problems)} problem(s){more}; nothing was registered",
                           self.problems)
        return ChangeHeader.model_validate(self.header), self.operations


def _non_finite(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_non_finite(v) for v in value.values())
    if isinstance(value, list):
        return any(_non_finite(v) for v in value)
    return isinstance(value, float) and not math.isfinite(value)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _lines(stream: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    """The stream's lines, numbered from 1; a 413 for one longer than ``MAX_LINE_BYTES``."""
    number = 0
    while True:
        line = stream.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        number += 1
        if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
            raise ApiError(413, "payload_too_large", f"line {number} is longer than "
                           f"{MAX_LINE_BYTES} bytes", [(f"line {number}", "too long")])
        yield number, line


def read_ndjson(stream: IO[bytes]) -> _ChangeSetReader:
    """NDJSON: the change's details on the first line, then one operation a line (blank lines
    skipped)."""
    reader = _ChangeSetReader()
    seen_details = False
    for number, line in _lines(stream):
        if reader.full:
            break
        if not line.strip():
            continue
        where = f"line {number}"
        try:
            value = json.loads(line, parse_constant=_reject_constant)
        except RecursionError:
            reader.problem(where, f"nested deeper than {MAX_BODY_DEPTH} levels")
            continue
        except ValueError as exc:
            reader.problem(where, f"not valid JSON: {exc}")
            continue
        if not seen_details:
            seen_details = True
            if reader.checked(value, where):
                reader.details(value, f"{where}: ")
            continue
        reader.operation(value, f"{where}: ")
    return reader


def read_json_file(stream: IO[bytes]) -> _ChangeSetReader:
    """A JSON change set (the body of ``createChange``), read event by event with ijson: each
    operation is built, checked and kept on its own, so the depth of any one is bounded."""
    reader = _ChangeSetReader()
    details: dict[str, Any] = {}
    builder: Any = None
    key: str | None = None
    level = 0
    try:
        events = ijson.parse(stream, use_float=True)
        first = next(events, None)
        if first is None or first[1] != "start_map":
            reader.problem("body", "must be a JSON object")
            return reader
        for prefix, event, value in events:
            if reader.full:
                break
            if builder is None:
                if prefix == "" and event == "end_map":
                    break
                if prefix == "" and event == "map_key":
                    key = value
                    continue
                if key == "operations" and prefix == "operations" and event in (
                        "start_array", "end_array"):
                    continue
                builder, level = ijson.ObjectBuilder(), 0
            builder.event(event, value)
            level += 1 if event in ("start_map", "start_array") else \
                -1 if event in ("end_map", "end_array") else 0
            if level > MAX_BODY_DEPTH:
                raise ApiError(422, "invalid_change_set", f"the change set nests deeper than "
                               f"{MAX_BODY_DEPTH} levels", [(str(prefix), "nested too deeply")])
            if level == 0:
                if key == "operations" and prefix.startswith("operations.item"):
                    reader.operation(builder.value)
                elif key is not None:
                    details[key] = builder.value
                builder = None
    except ijson.JSONError as exc:
        where = f"after operations[{len(reader.operations) - 1}]" if reader.operations else "body"
        reader.problem(where, f"not valid JSON: {exc}")
        return reader
    if "operations" in details:
        reader.problem("operations", "must be a list of operations")
        details.pop("operations")
    if reader.checked(details, "details"):
        reader.details(details)
    return reader


def read_yaml_file(stream: IO[bytes]) -> _ChangeSetReader:
    """A YAML change set, read by the register's limited loader (``bir.yaml_input``): fit for
    what a person writes; a set beyond its limits goes as JSON or NDJSON."""
    reader = _ChangeSetReader()
    try:
        value = load_yaml(stream.read().decode("utf-8"))
    except UnicodeDecodeError:
        reader.problem("file", "is not UTF-8 text")
        return reader
    except (yaml.YAMLError, ValueError) as exc:
        reader.problem("file", f"not valid YAML, or beyond the limits of YAML input: {exc}; "
                       "send a large change set as JSON or NDJSON")
        return reader
    if not reader.checked(value, "file"):
        return reader
    operations = value.pop("operations", None)
    reader.details(value)
    if not isinstance(operations, list):
        reader.problem("operations", "must be a list of operations")
        return reader
    for op in operations:
        reader.operation(op)
    return reader


READERS: dict[str, Callable[[IO[bytes]], _ChangeSetReader]] = {
    "json": read_json_file, "ndjson": read_ndjson, "yaml": read_yaml_file}


def _streamed_change() -> tuple[ChangeHeader, list[dict[str, Any]]]:
    """The change set sent as an NDJSON stream or a multipart file, within this operation's own
    size limit."""
    request.max_content_length = MAX_STREAM_BYTES
    if request.mimetype == NDJSON:
        return read_ndjson(request.stream).change()
    upload = request.files.get("file")
    if upload is None:
        raise ApiError(422, "invalid_request", "send the change set file in the part named file",
                       [("file", "is missing")])
    name = (upload.filename or "").lower()
    kind = next((k for suffix, k in FILE_TYPES.items() if suffix.startswith(".")
                 and name.endswith(suffix)), None) or FILE_TYPES.get(upload.mimetype or "")
    if kind is None:
        raise ApiError(422, "invalid_change_set", "name the file .json, .ndjson or .yaml "
                       "(or give the part that content type)", [("file", "unknown format")])
    return READERS[kind](upload.stream).change()


def _or_change_set_stream(view: Callable[..., Any]) -> Callable[..., Any]:
    """``createChange`` also takes its change set as an NDJSON stream or a multipart file: read
    here, outside the 4 MiB JSON body check, then registered as the JSON body is."""
    @wraps(view)
    def dispatch(*args: Any, **kwargs: Any) -> Any:
        if request.mimetype in (NDJSON, MULTIPART):
            header, operations = _streamed_change()
            # Past spectree's validation, so the answer is serialised here, by the same model.
            body, status, headers = _register(header, operations)
            return Response(body.model_dump_json(), status, headers,
                            mimetype="application/json")
        check_request_body(request)
        return view(*args, **kwargs)
    return dispatch


def _register(header: ChangeHeader, operations: list[dict[str, Any]]) -> Any:
    details = header.model_dump(include=set(DETAIL_FIELDS), exclude_unset=True)
    common = dict(model=header.model, title=header.title, operations=operations,
                  source=header.source, services=list(header.services), **details)
    if header.incident_reference is not None:
        common["incident_reference"] = header.incident_reference
    username = holder().username
    if header.run_to_implementation:
        key = changes.register_and_implement(database(), username, **common)
    else:
        key = changes.register_change(database(), username, **common).key
    return _answer(key, 201)


@bp.post("/changes")
@roles_required(*access.CHANGE_EDITORS, file_body=True)
@_or_change_set_stream
@api_spec.validate(json=CreateChange, form=ChangeSetFile, resp=responses(
    "HTTP_400", "HTTP_409", "HTTP_413", "HTTP_415", HTTP_201=ChangeDetailOut), tags=TAGS,
    operation_id="createChange")
def create_change(json: CreateChange) -> Any:
    """Register a change (RFC) with its change set

    The change set is checked against the register now and applied at implementation. With
    `run_to_implementation`, a standard (pre-authorised) change is carried to implementation in
    this call, all or nothing: a refused move (the caller's roles, the model's guards) records
    nothing and answers 409 with the reasons; a model that is not standard is a 422.

    **A change set of any size.** As `application/json` the body is at most 4 MiB. A larger set
    goes (up to 256 MiB and 1,000,000 operations) as a stream, `Content-Type:
    application/x-ndjson`: the change's details (`ChangeHeader`) on the first line, then one
    operation per line; or as a file in the multipart part `file` (`.json` with the fields of
    this body, read incrementally; `.ndjson`; or `.yaml` for smaller sets). Each operation is
    checked as it is read; any problem (up to 100 are named, by line or operation index and
    field, e.g. `line 12: operations[10].status`) registers nothing: 422. A line longer than
    1 MiB or a body over the limit is a 413.
    """
    operations = [op.model_dump(mode="json", by_alias=True, exclude_unset=True)
                  for op in json.operations]
    return _register(json, operations)


@bp.get("/changes/<key>")
@roles_required(*access.CHANGE_PARTICIPANTS)
@api_spec.validate(resp=responses("HTTP_404", HTTP_200=ChangeDetailOut), tags=TAGS,
                   operation_id="getChange")
def get_change(key: str) -> Any:
    """One change: details, change set, approvals, steps and the moves open to the caller

    The `ETag` header is the change's version: send it as `If-Match` when moving or editing it.
    """
    return _answer(key)


@bp.patch("/changes/<key>")
@roles_required(*access.CHANGE_EDITORS)
@api_spec.validate(json=EditChange, headers=IfMatch, resp=responses(
    "HTTP_400", "HTTP_404", "HTTP_409", "HTTP_415", HTTP_200=ChangeDetailOut), tags=TAGS,
    operation_id="editChange")
def edit_change(key: str, json: EditChange, headers: IfMatch) -> Any:
    """Fill in or correct a change's details (risk, window, cost, outcome, model fields)"""
    values = json.model_dump(exclude_unset=True, exclude={"version"})
    if not values:
        raise ApiError(422, "invalid_request", "give at least one detail to set",
                       [("body", "names no detail")])
    changes.update_change(database(), key, holder().username, values,
                          expected_version=_expected_version(headers, json.version))
    return _answer(key)


@bp.get("/changes/<key>/log")
@roles_required(*access.CHANGE_PARTICIPANTS)
@api_spec.validate(resp=responses("HTTP_404", HTTP_200=ChangeLog), tags=TAGS,
                   operation_id="getChangeLog")
def change_log(key: str) -> ChangeLog:
    """The step log: who moved the change, when, from where to where, and why"""
    detail = changes.change_detail(database(), key)
    return ChangeLog(key=detail.summary.key, entries=[LogEntryOut(
        at=e.at, actor=e.actor, trigger=e.trigger, from_state=e.from_state, to_state=e.to_state,
        to_step=e.to_step, comment=e.comment) for e in detail.log])


@bp.post("/changes/<key>/transitions/<trigger>")
@roles_required(*access.CHANGE_PARTICIPANTS)
@api_spec.validate(json=MoveChange, headers=IfMatch, resp=responses(
    "HTTP_400", "HTTP_404", "HTTP_409", "HTTP_415", HTTP_200=ChangeDetailOut), tags=TAGS,
    operation_id="moveChange")
def move_change(key: str, trigger: str, json: MoveChange, headers: IfMatch) -> Any:
    """Fire a transition (e.g. assess, authorise, implement) on a change

    The engine checks the transition's own roles and guards; a refusal is a 409 listing every
    reason. Entering implementation applies the change set to the register in the same
    transaction. A stale `If-Match` or `version` is a 409 and moves nothing.
    """
    changes.move_change(database(), key, trigger, holder().username, comment=json.comment,
                        expected_version=_expected_version(headers, json.version))
    return _answer(key)


@bp.post("/changes/<key>/approvals")
@roles_required(*access.CHANGE_PARTICIPANTS)
@api_spec.validate(json=ApproveChange, headers=IfMatch, resp=responses(
    "HTTP_400", "HTTP_404", "HTTP_409", "HTTP_415", HTTP_200=ChangeDetailOut), tags=TAGS,
    operation_id="approveChange")
def approve_change(key: str, json: ApproveChange, headers: IfMatch) -> Any:
    """Record your approval or rejection of a change in authorisation

    Only the approver roles the change model names may decide; each approver once per round.
    """
    changes.approve_change(database(), key, holder().username,
                           approve=json.decision == "approve", comment=json.comment,
                           expected_version=_expected_version(headers, json.version))
    return _answer(key)


@bp.post("/changes/<key>/comments")
@roles_required(*access.CHANGE_PARTICIPANTS)
@api_spec.validate(json=CommentIn, headers=IfMatch, resp=responses(
    "HTTP_400", "HTTP_404", "HTTP_409", "HTTP_415", HTTP_201=CommentOut), tags=TAGS,
    operation_id="commentChange")
def comment_change(key: str, json: CommentIn, headers: IfMatch) -> Any:
    """Comment on a change (kept as written; a comment does not move or version the change)"""
    row = changes.add_comment(database(), key, holder().username, json.body,
                              expected_version=_expected_version(headers, json.version))
    return CommentOut(author=row.author, at=row.at, body=row.body), 201
