"""Change services: register, move, approve, edit, list and show changes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from bir.base import utcnow
from bir.changeset import touched_keys
from bir.impact import impacted_services
from bir.queries import items_by_key
from usm.services.database import Database
from usm.services.users import actor_for
from workflows import changes as records
from workflows.engine import ChangeConflict, ChangeError, TriggerOption, compiled, move
from workflows.models import Change, StepLogEntry, WorkflowDefinition
from workflows.skeleton import FINAL, SKELETON, STEP_LABELS, Step


class ChangeNotFound(LookupError):
    pass


class DatabaseBusy(ChangeError):
    """SQLite allows one writer at a time; the other gets this instead of waiting forever."""


@dataclass(frozen=True)
class ChangeSummary:
    key: str
    title: str
    model: str
    model_version: int
    change_class: str
    state: str
    state_label: str
    step: str
    coordinator: str | None
    requester: str
    updated_at: datetime
    step_entered_at: datetime
    overdue: bool
    version: int


@dataclass(frozen=True)
class LogRow:
    at: datetime
    actor: str
    trigger: str
    from_state: str | None
    to_state: str
    to_step: str
    comment: str | None


@dataclass(frozen=True)
class ApprovalRow:
    approver: str
    decision: str
    comment: str | None
    automatic: bool
    round: int
    at: datetime


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


def _summary(change: Change, now: datetime) -> ChangeSummary:
    definition = compiled(change.definition).definition
    state = definition.state(change.state)
    overdue = (
        state.time_target_hours is not None
        and Step(change.step) not in FINAL
        and now - change.step_entered_at > timedelta(hours=state.time_target_hours)
    )
    return ChangeSummary(
        change.key, change.title, change.definition.code, change.definition.version,
        change.change_class, change.state, state.title, change.step, change.coordinator,
        change.requester, change.updated_at, change.step_entered_at, overdue, change.version,
    )


def _load(session: Session, key: str) -> Change:
    change = session.scalar(select(Change).where(Change.key == key.strip().upper()))
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
        if "locked" in str(exc.orig) or "busy" in str(exc.orig).lower():
            raise DatabaseBusy("the register is busy with another change; try again in a "
                               "moment") from exc
        raise


def register_change(db: Database, username: str, *, model: str, title: str,
                    operations: list[dict[str, Any]], now: datetime | None = None,
                    **details: Any) -> ChangeSummary:
    with _writing(db) as session:
        actor = actor_for(session, username)
        change = records.register_change(session, model=model, title=title, requester=actor,
                                         operations=operations, now=now, **details)
        return _summary(change, now or utcnow())


def move_change(db: Database, key: str, trigger: str, username: str, *,
                comment: str | None = None, expected_version: int | None = None,
                now: datetime | None = None) -> ChangeSummary:
    with _writing(db, key) as session:
        actor = actor_for(session, username)
        change = _load(session, key)
        move(session, change, trigger, actor, comment=comment,
             expected_version=expected_version, now=now)
        return _summary(change, now or utcnow())


def approve_change(db: Database, key: str, username: str, *, approve: bool = True,
                   comment: str | None = None, now: datetime | None = None) -> ChangeSummary:
    with _writing(db, key) as session:
        actor = actor_for(session, username)
        change = _load(session, key)
        records.record_approval(session, change, actor, approve=approve, comment=comment, now=now)
        return _summary(change, now or utcnow())


def update_change(db: Database, key: str, username: str, values: dict[str, Any], *,
                  expected_version: int | None = None, now: datetime | None = None
                  ) -> ChangeSummary:
    with _writing(db, key) as session:
        actor = actor_for(session, username)
        change = _load(session, key)
        records.update_details(session, change, actor, values,
                               expected_version=expected_version, now=now)
        return _summary(change, now or utcnow())


def list_changes(db: Database, *, open_only: bool = True, step: str | None = None,
                 coordinator: str | None = None, model: str | None = None, limit: int = 50,
                 after: str | None = None) -> list[ChangeSummary]:
    """A page of changes, newest key first; ``after`` continues from a key (keyset pagination)."""
    stmt = select(Change).join(Change.definition).order_by(Change.id.desc())
    if open_only:
        stmt = stmt.where(Change.step.not_in([s.value for s in FINAL]))
    if step:
        stmt = stmt.where(Change.step == step)
    if coordinator:
        stmt = stmt.where(Change.coordinator == coordinator)
    if model:
        stmt = stmt.where(WorkflowDefinition.code == model)
    with db.reading() as session:
        if after:
            after_id = session.scalar(select(Change.id).where(Change.key == after))
            if after_id is not None:
                stmt = stmt.where(Change.id < after_id)
        now = utcnow()
        return [_summary(c, now) for c in session.scalars(stmt.limit(max(1, min(limit, 500))))]


def change_detail(db: Database, key: str, username: str | None = None) -> ChangeDetail:
    with db.reading() as session:
        change = _load(session, key)
        options: list[TriggerOption] = []
        if username is not None:
            options = compiled(change.definition).options(change, actor_for(session, username))
        touched = items_by_key(session, touched_keys(change.change_set()))
        services = impacted_services(session, {i.id for i in touched.values()})
        log = session.scalars(
            select(StepLogEntry).where(StepLogEntry.change_id == change.id)
            .order_by(StepLogEntry.id)
        )
        return ChangeDetail(
            summary=_summary(change, utcnow()), description=change.description,
            reason=change.reason, source=change.source, risk=change.risk, impact=change.impact,
            cost_estimate=change.cost_estimate, currency=change.currency,
            planned_start=change.planned_start, planned_end=change.planned_end,
            outcome=change.outcome, fields=dict(change.fields or {}),
            services=list(change.services or []), operations=change.change_set(),
            log=[LogRow(e.at, e.actor, e.trigger, e.from_state, e.to_state, e.to_step, e.comment)
                 for e in log],
            approvals=[ApprovalRow(a.approver, a.decision, a.comment, a.automatic, a.round, a.at)
                       for a in change.approvals],
            impacted_services=[(s.key, s.name) for s in services],
            options=options, steps=_progress(Step(change.step)),
        )


def _progress(current: Step) -> list[tuple[str, str, str]]:
    if current in FINAL:
        done_until = len(SKELETON) if current is Step.CLOSED else -1
    else:
        done_until = SKELETON.index(current)
    rows = []
    for i, step in enumerate(SKELETON):
        if step is current:
            status = "current"
        elif done_until == -1:
            status = "todo"
        else:
            status = "done" if i < done_until else "todo"
        rows.append((step.value, STEP_LABELS[step], status))
    return rows


__all__ = [
    "ChangeConflict", "ChangeDetail", "ChangeError", "ChangeNotFound", "ChangeSummary",
    "DatabaseBusy", "approve_change", "change_detail", "list_changes", "move_change",
    "register_change", "update_change",
]
