"""Change commands: register, move, approve, edit and comment on a change, and show one.

Each function is one transaction and returns plain view objects. A change that someone else moved
or edited since the caller read it (``expected_version``) comes out as ``ChangeConflict``; bad input
as ``ValidationFailed`` whose errors name the field (``risk``, ``fields.purchase_order``,
``operations[1].serial_number``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from sqlalchemy import bindparam, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from bir.base import to_money, utcnow
from bir.changeset import touched_keys
from bir.errors import FieldError, ValidationFailed
from bir.impact import impacted_services
from bir.queries import items_by_key
from usm.accounts import User
from usm.services.accounts import actor_for
from usm.services.changes.diff import OperationDiff, change_set_diff
from usm.services.changes.queue import ChangeSummary, may_decide, summarise
from usm.services.errors import Busy, NotFound
from usm.services.platform import Database
from workflows import changes as records
from workflows.change_model import ChangeModelSpec
from workflows.changes import CHANGE_SET_EDITABLE, ChangeDetails, NotAChange
from workflows.engine import (
    ChangeConflict,
    ChangeError,
    ChangeSetStale,
    TransitionRefused,
    TriggerOption,
    compiled,
    move,
)
from workflows.models import Change, ChangeComment, StepLogEntry, money_by_currency
from workflows.skeleton import FINAL, SKELETON, STEP_LABELS, Step

COORDINATOR_ROLE = "change_coordinator"


class ChangeNotFound(NotFound):
    pass


class DatabaseBusy(ChangeError, Busy):
    """SQLite allows one writer at a time; the other gets this instead of waiting forever."""

    code = "busy"


@dataclass(frozen=True)
class LogRow:
    at: datetime
    actor: str
    trigger: str
    from_state: str | None
    to_state: str
    to_step: str
    comment: str | None
    # As a reader names them: the model's title of the transition (None for an entry that is no
    # transition of the model: register, edit_change_set) and the labels of the states.
    action: str | None = None
    from_label: str | None = None
    to_label: str | None = None


@dataclass(frozen=True)
class ApprovalRow:
    approver: str
    decision: str
    comment: str | None
    automatic: bool
    round: int
    at: datetime


@dataclass(frozen=True)
class CommentRow:
    author: str
    at: datetime
    body: str


@dataclass(frozen=True)
class ModelField:
    """A model-specific field of a change, as a form asks for it."""

    name: str
    label: str
    type: str  # string, text, integer, date, money
    help: str | None


@dataclass(frozen=True)
class Waiting:
    """Whom a change in authorisation waits for: the approvals its model asks for, how many are
    in, and who may still give one."""

    needed: int
    given: int
    roles: list[str]
    people: list[str]


@dataclass(frozen=True)
class ChangeDetail:
    summary: ChangeSummary
    description: str | None
    reason: str | None
    source: str
    risk: str | None
    impact: str | None
    cost_estimate: Decimal | None
    currency: str | None
    change_set_value: dict[str, Decimal]  # what the change set registers, per currency
    planned_start: datetime | None
    planned_end: datetime | None
    outcome: str | None
    fields: dict[str, Any]
    services: list[str]
    operations: list[dict[str, Any]]
    log: list[LogRow]
    approvals: list[ApprovalRow]
    impacted_services: list[tuple[str, str]]
    options: list[TriggerOption]
    steps: list[tuple[str, str, str]]  # (step, label, done/current/todo)
    comments: list[CommentRow] = field(default_factory=list)
    diff: list[OperationDiff] = field(default_factory=list)  # a page of it: see diff_start
    diff_start: int = 0  # the index of the first operation in ``diff``
    model_description: str | None = None
    model_fields: list[ModelField] = field(default_factory=list)
    approvers: list[str] = field(default_factory=list)
    may_approve: bool = False  # the user may record a decision in this authorisation round
    change_set_editable: bool = False
    coordinators: list[str] = field(default_factory=list)  # who may be named coordinator
    waiting: Waiting | None = None  # in authorisation: the approvals still to come
    # "before" or "after" when implementing now would be outside the planned window
    outside_window: str | None = None
    incident_reference: str | None = None  # the incident an RFC from INC recovers from


# Built once: every move, approval and comment loads its change by key (issue 8, figure 5).
_CHANGE_BY_KEY = select(Change).where(Change.key == bindparam("key"))


def load_change(session: Session, key: str) -> Change:
    change = session.scalar(_CHANGE_BY_KEY, {"key": key.strip().upper()})
    if change is None:
        raise ChangeNotFound(f"no change {key}")
    return change


@contextmanager
def _writing(db: Database, key: str | None = None) -> Iterator[Session]:
    """A write transaction whose concurrency failures come out as messages a user can act on."""
    try:
        with db.transaction() as session:
            yield session
    except StaleDataError as exc:
        raise ChangeConflict(f"{key or 'the change'} was changed by someone else meanwhile; "
                             "reload it and try again") from exc
    except OperationalError as exc:
        reason = str(exc.orig).lower()
        if "locked" in reason or "busy" in reason or "deadlock" in reason:
            raise DatabaseBusy("the register is busy with another change; try again in a "
                               "moment") from exc
        raise


def _coerce_model_field(kind: str, value: Any) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if kind == "integer":
        try:
            return int(str(value).strip())
        except ValueError:
            raise ValueError(f"{value!r} is not a whole number") from None
    if kind == "date":
        try:
            return date.fromisoformat(str(value).strip()).isoformat()
        except ValueError:
            raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)") from None
    if kind == "money":
        return str(to_money(value))
    return str(value).strip()


def checked_details(session: Session, definition: ChangeModelSpec, values: dict[str, Any]
                    ) -> tuple[dict[str, Any], list[FieldError]]:
    """What the records layer does not check itself: model-field types, that the coordinator is
    one, that a window ends after it starts. Returns the values with model fields normalised."""
    errors: list[FieldError] = []
    values = dict(values)
    specs = {f.name: f for f in definition.fields}
    if isinstance(values.get("fields"), dict):
        clean = {}
        for name, value in values["fields"].items():
            try:
                clean[name] = _coerce_model_field(specs[name].type, value) if name in specs \
                    else value
            except ValueError as exc:
                errors.append(FieldError(f"fields.{name}", str(exc)))
        values["fields"] = clean
    cost, currency = values.get("cost_estimate"), values.get("currency")
    if "currency" in values and cost not in (None, "") and not currency:
        errors.append(FieldError("currency", "give the currency of the cost estimate"))
    coordinator = values.get("coordinator")
    if isinstance(coordinator, str) and coordinator.strip() \
            and coordinator.strip() not in coordinator_names(session):
        errors.append(FieldError("coordinator", f"'{coordinator.strip()}' is not an active change "
                                                "coordinator"))
    try:
        window = ChangeDetails.model_validate({k: values.get(k)
                                               for k in ("planned_start", "planned_end")})
    except ValidationError:
        window = None  # the records layer names these errors
    if window and window.planned_start and window.planned_end \
            and window.planned_end <= window.planned_start:
        errors.append(FieldError("planned_end", "must be after the planned start"))
    return values, errors


def _outside_window(change: Change, options: list[TriggerOption]) -> str | None:
    """Whether implementing now (one of the moves offered) would fall outside the planned window."""
    if change.planned_start is None or change.planned_end is None or not any(
            o.dest_step is Step.IMPLEMENTATION for o in options):
        return None
    now = utcnow()
    return "before" if now < change.planned_start else "after" if now > change.planned_end \
        else None


def _waiting(session: Session, change: Change, definition: ChangeModelSpec) -> Waiting | None:
    if change.step != Step.AUTHORISATION:
        return None
    needed = max((int(g.params.get("count", 1)) for t in definition.transitions_from(change.state)
                  for g in t.guards if g.name == "approvals"), default=0)
    if not needed:
        return None
    decided = {a.approver for a in change.current_approvals()}
    given = len({a.approver for a in change.current_approvals() if a.decision == "approved"})
    people = [u.username for u in session.scalars(
        select(User).where(User.active.is_(True)).order_by(User.username))
        if set(u.roles or []) & set(definition.approvers) and u.username not in decided]
    return Waiting(needed, given, list(definition.approvers), people)


def coordinator_names(session: Session) -> list[str]:
    users = session.scalars(select(User).where(User.active.is_(True)).order_by(User.username))
    return [u.username for u in users if COORDINATOR_ROLE in (u.roles or [])]


def merged_errors(*groups: list[FieldError]) -> list[FieldError]:
    seen: list[FieldError] = []
    for group in groups:
        seen.extend(e for e in group if e not in seen)
    return seen


def register_change(db: Database, username: str, *, model: str, title: str,
                    operations: list[dict[str, Any]], now: datetime | None = None,
                    **details: Any) -> ChangeSummary:
    """Register an RFC; every problem (details and each operation) is named at once."""
    with _writing(db) as session:
        change = registered(session, username, model=model, title=title, operations=operations,
                            now=now, details=details)
        return summarise(change, now or utcnow())


def registered(session: Session, username: str, *, model: str, title: str,
               operations: list[dict[str, Any]], now: datetime | None,
               details: dict[str, Any]) -> Change:
    """Register an RFC in the caller's transaction: the records layer's checks and the ones it
    does not make itself (model-field types, a real coordinator, a window that ends after it
    starts), every problem named at once."""
    actor = actor_for(session, username)
    definition = compiled(records.latest_change_model(session, model)).definition
    details, problems = checked_details(session, definition, details)
    try:
        change = records.register_change(session, model=model, title=title, requester=actor,
                                         operations=operations, now=now, **details)
    except ValidationFailed as exc:
        raise ValidationFailed(merged_errors(exc.errors, problems)) from exc
    if problems:
        raise ValidationFailed(problems)
    return change


def move_change(db: Database, key: str, trigger: str, username: str, *,
                comment: str | None = None, expected_version: int | None = None,
                now: datetime | None = None) -> ChangeSummary:
    with _writing(db, key) as session:
        actor = actor_for(session, username)
        change = load_change(session, key)
        move(session, change, trigger, actor, comment=comment,
             expected_version=expected_version, now=now)
        return summarise(change, now or utcnow())


def approve_change(db: Database, key: str, username: str, *, approve: bool = True,
                   comment: str | None = None, expected_version: int | None = None,
                   now: datetime | None = None) -> ChangeSummary:
    with _writing(db, key) as session:
        actor = actor_for(session, username)
        change = load_change(session, key)
        records.record_approval(session, change, actor, approve=approve, comment=comment,
                                expected_version=expected_version, now=now)
        return summarise(change, now or utcnow())


def update_change(db: Database, key: str, username: str, values: dict[str, Any], *,
                  expected_version: int | None = None, now: datetime | None = None
                  ) -> ChangeSummary:
    with _writing(db, key) as session:
        actor = actor_for(session, username)
        change = load_change(session, key)
        values, problems = checked_details(session, compiled(change.definition).definition,
                                            values)
        try:
            records.update_details(session, change, actor, values,
                                   expected_version=expected_version, now=now)
        except ValidationFailed as exc:
            raise ValidationFailed(merged_errors(exc.errors, problems)) from exc
        if problems:
            raise ValidationFailed(problems)
        return summarise(change, now or utcnow())


def replace_change_set(db: Database, key: str, username: str, operations: list[dict[str, Any]],
                       *, expected_version: int | None = None, now: datetime | None = None
                       ) -> ChangeSummary:
    """Rewrite the change set of a change in registration or assessment (planned again)."""
    with _writing(db, key) as session:
        actor = actor_for(session, username)
        change = load_change(session, key)
        records.replace_change_set(session, change, actor, operations,
                                   expected_version=expected_version, now=now)
        return summarise(change, now or utcnow())


def add_comment(db: Database, key: str, username: str, body: str, *,
                expected_version: int | None = None, now: datetime | None = None) -> CommentRow:
    """Comment on a change. With ``expected_version``, refused when the change moved meanwhile,
    so nobody answers a question that the change has already moved past."""
    with _writing(db, key) as session:
        actor = actor_for(session, username)
        change = load_change(session, key)
        if expected_version is not None and change.version != expected_version:
            raise ChangeConflict(f"{change.key} was changed by someone else meanwhile")
        comment = records.add_comment(session, change, actor, body, now=now)
        return CommentRow(comment.author, comment.at, comment.body)


def change_summary(db: Database, key: str) -> ChangeSummary:
    with db.reading() as session:
        return summarise(load_change(session, key), utcnow())


DIFF_PAGE = 200  # operations read against the register per page of the change detail


def change_detail(db: Database, key: str, username: str | None = None, *,
                  operations_from: int = 0, operations_shown: int | None = DIFF_PAGE
                  ) -> ChangeDetail:
    """A change with its log, approvals and options; its change set read against the register
    for ``operations_shown`` operations from ``operations_from`` (all with None)."""
    with db.reading() as session:
        change = load_change(session, key)
        definition = compiled(change.definition).definition
        options: list[TriggerOption] = []
        may_approve = False
        if username is not None:
            actor = actor_for(session, username)
            options = compiled(change.definition).options(change, actor)
            may_approve = may_decide(change, definition.approvers, actor.username, actor.roles)
        touched = items_by_key(session, touched_keys(change.change_set()))
        services = impacted_services(session, {i.id for i in touched.values()})
        log = list(session.scalars(
            select(StepLogEntry).where(StepLogEntry.change_id == change.id)
            .order_by(StepLogEntry.id)
        ))
        ended_in = next((Step(e.from_step) for e in reversed(log)
                         if e.to_step == change.step and e.from_step in set(SKELETON)), None)
        comments = session.scalars(select(ChangeComment).where(ChangeComment.change_id == change.id)
                                   .order_by(ChangeComment.id))
        return ChangeDetail(
            summary=summarise(change, utcnow()), description=change.description,
            reason=change.reason, source=change.source, risk=change.risk, impact=change.impact,
            cost_estimate=change.cost_estimate, currency=change.currency,
            change_set_value=money_by_currency(change.change_set_value),
            planned_start=change.planned_start, planned_end=change.planned_end,
            outcome=change.outcome, fields=dict(change.fields or {}),
            services=list(change.services or []), operations=change.change_set(),
            log=_log_rows(definition, log),
            approvals=[ApprovalRow(a.approver, a.decision, a.comment, a.automatic, a.round, a.at)
                       for a in change.approvals],
            impacted_services=[(s.key, s.name) for s in services],
            options=options, steps=_progress(Step(change.step), ended_in),
            comments=[CommentRow(c.author, c.at, c.body) for c in comments],
            diff=change_set_diff(session, change, start=max(0, operations_from),
                                 limit=operations_shown),
            diff_start=max(0, operations_from),
            model_description=definition.description,
            model_fields=model_fields(definition),
            approvers=list(definition.approvers), may_approve=may_approve,
            change_set_editable=Step(change.step) in CHANGE_SET_EDITABLE,
            coordinators=coordinator_names(session),
            waiting=_waiting(session, change, definition),
            outside_window=_outside_window(change, options),
            incident_reference=change.incident_reference,
        )


def _log_rows(definition: ChangeModelSpec, log: list[StepLogEntry]) -> list[LogRow]:
    actions = {t.trigger: t.title for t in definition.transitions}
    states = {s.name: s.title for s in definition.states}
    return [LogRow(e.at, e.actor, e.trigger, e.from_state, e.to_state, e.to_step, e.comment,
                   actions.get(e.trigger) if e.trigger not in ("register", "edit_change_set")
                   else None, states.get(e.from_state or ""), states.get(e.to_state))
            for e in log]


def model_fields(definition: ChangeModelSpec) -> list[ModelField]:
    return [ModelField(f.name, f.label or f.name.replace("_", " ").capitalize(), f.type, f.help)
            for f in definition.fields]


def _progress(current: Step, ended_in: Step | None = None) -> list[tuple[str, str, str]]:
    """Each CHM step as done, current, todo, or ``ended`` (where a rejected or withdrawn change
    stopped)."""
    if current is Step.CLOSED:
        return [(s.value, STEP_LABELS[s], "done") for s in SKELETON]
    stop = current if current not in FINAL else ended_in
    rows = []
    for step in SKELETON:
        if stop is None or SKELETON.index(step) > SKELETON.index(stop):
            status = "todo"
        elif step is stop:
            status = "current" if step is current else "ended"
        else:
            status = "done"
        rows.append((step.value, STEP_LABELS[step], status))
    return rows


__all__ = [
    "ChangeConflict", "ChangeDetail", "ChangeError", "ChangeNotFound", "ChangeSetStale",
    "CommentRow", "DatabaseBusy", "FieldError", "NotAChange", "TransitionRefused",
    "ValidationFailed", "add_comment", "approve_change", "change_detail", "change_summary",
    "move_change", "register_change", "replace_change_set", "update_change",
]
