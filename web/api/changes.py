"""Changes over the API: list, register (with the change set), read, edit, approve and move them
through the CHM steps. No operation writes to the register itself: a change's implementation does.

Optimistic concurrency: a change's ``version`` is its ``ETag``; moving or editing with a stale
``If-Match`` (or body ``version``) is refused with 409 and changes nothing.
"""

from __future__ import annotations

from typing import Any

from flask import url_for

from usm.services import changes
from usm.services.changes import ChangeDetail, ChangeSummary
from web.api.auth import holder, roles_required
from web.api.blueprint import bp
from web.api.errors import ApiError
from web.api.pagination import after_key, page_of
from web.api.schemas.changes import (
    ApprovalOut,
    ApproveChange,
    ChangeDetailOut,
    ChangeLog,
    ChangePage,
    ChangesQuery,
    ChangeSummaryOut,
    CommentIn,
    CommentOut,
    CreateChange,
    EditChange,
    IfMatch,
    LogEntryOut,
    MoveChange,
    StepProgress,
    TransitionOption,
)
from web.api.schemas.common import money_text
from web.api.schemas.register import ServiceRef
from web.api.spec import api_spec, responses
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
                                limit=query.limit + 1, after=after_key(query.cursor))
    shown, next_url = page_of(rows, query.limit)
    return ChangePage(changes=[ChangeSummaryOut(**_summary(r)) for r in shown], next=next_url)


@bp.post("/changes")
@roles_required(*access.CHANGE_EDITORS)
@api_spec.validate(json=CreateChange, resp=responses(
    "HTTP_400", "HTTP_409", "HTTP_415", HTTP_201=ChangeDetailOut), tags=TAGS,
    operation_id="createChange")
def create_change(json: CreateChange) -> Any:
    """Register a change (RFC) with its change set

    The change set is checked against the register now and applied at implementation. With
    `run_to_implementation`, a standard (pre-authorised) change is carried to implementation in
    this call, all or nothing: a refused move (the caller's roles, the model's guards) records
    nothing and answers 409 with the reasons; a model that is not standard is a 422.
    """
    details = json.model_dump(include=set(DETAIL_FIELDS), exclude_unset=True)
    operations = [op.model_dump(mode="json", by_alias=True, exclude_unset=True)
                  for op in json.operations]
    common = dict(model=json.model, title=json.title, operations=operations,
                  source=json.source, services=list(json.services), **details)
    username = holder().username
    if json.run_to_implementation:
        key = changes.register_and_implement(database(), username, **common)
    else:
        key = changes.register_change(database(), username, **common).key
    return _answer(key, 201)


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
