"""Lists of changes: the change queue with its filters and counts, and the calendar of planned
windows. Everything here reads."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, false, func, or_, select
from sqlalchemy.orm import Session, contains_eager, lazyload

from bir.base import utcnow
from usm.accounts import User
from usm.services.platform import Database
from workflows.engine import compiled
from workflows.models import Approval, Change, ChangeModel
from workflows.skeleton import FINAL, SKELETON, STEP_LABELS, Step

MAX_PAGE = 500


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
    due_at: datetime | None = None  # when the state's time target runs out (open changes)
    model_name: str = ""
    incident_reference: str | None = None  # the incident an RFC from INC recovers from


@dataclass(frozen=True)
class ChangeFilter:
    """What the change queue shows; every part is optional."""

    open_only: bool = True
    step: str | None = None
    model: str | None = None
    change_class: str | None = None
    coordinator: str | None = None
    involving: str | None = None  # a username: changes they coordinate or requested ("mine")
    overdue_only: bool = False
    awaiting: str | None = None  # a username: changes in authorisation waiting for their decision
    next_move: str | None = None  # a username: their changes whose next move is theirs to make
    incident: str | None = None  # an incident reference: the RFCs filed from that incident


@dataclass(frozen=True)
class ChangeQueue:
    rows: list[ChangeSummary]
    total: int  # changes matching the filter, over all pages
    by_step: list[tuple[str, str, int]]  # (step, label, count) under the filter without its step
    next_after: str | None  # the key to continue from, when there are older changes
    models: list[tuple[str, str]]  # (code, name) for the model filter
    coordinators: list[str]


@dataclass(frozen=True)
class CalendarEntry:
    summary: ChangeSummary
    start: datetime
    end: datetime


def summarise(change: Change, now: datetime) -> ChangeSummary:
    definition = compiled(change.definition).definition
    state = definition.state(change.state)
    due = None
    if state.time_target_hours is not None and Step(change.step) not in FINAL:
        due = change.step_entered_at + timedelta(hours=state.time_target_hours)
    return ChangeSummary(
        change.key, change.title, change.definition.code, change.definition.version,
        change.change_class, change.state, state.title, change.step, change.coordinator,
        change.requester, change.updated_at, change.step_entered_at,
        due is not None and now > due, change.version, due, definition.name,
        change.incident_reference,
    )


@dataclass(frozen=True)
class ModelTargets:
    """What the lists of changes ask of one change model version, read from its YAML: who
    approves, the time target of each open state, and who moves each open state on by hand."""

    id: int
    approvers: frozenset[str]
    time_targets: tuple[tuple[str, float], ...]  # (state, hours)
    movers: tuple[tuple[str, frozenset[str]], ...]  # (state, roles), authorisation left out


def model_targets(session: Session) -> list[ModelTargets]:
    """Every version changes can be in (not a draft): one query, each YAML parsed once per
    process (``compiled``)."""
    found = []
    for row in session.scalars(select(ChangeModel).where(ChangeModel.status != "draft")):
        definition = compiled(row).definition
        movers = []
        for state in definition.states:
            if state.step in FINAL or state.step is Step.AUTHORISATION:
                continue  # nothing to move, or the approvers' turn
            roles = frozenset(role for t in definition.transitions_from(state.name)
                              if not t.auto and definition.step_of(t.dest) not in FINAL
                              for role in t.roles)
            if roles:
                movers.append((state.name, roles))
        found.append(ModelTargets(
            row.id, frozenset(definition.approvers),
            tuple((s.name, s.time_target_hours) for s in definition.states
                  if s.time_target_hours and s.step not in FINAL),
            tuple(movers)))
    return found


def overdue_condition(models: list[ModelTargets], now: datetime) -> Any:
    """SQL: the change has been longer in its state than the state's time target."""
    conditions = [and_(Change.definition_id == m.id, Change.state == state,
                       Change.step_entered_at < now - timedelta(hours=hours))
                  for m in models for state, hours in m.time_targets]
    return or_(*conditions) if conditions else false()


def awaiting_condition(models: list[ModelTargets], username: str, roles: set[str]) -> Any:
    """SQL: the change is in authorisation, ``roles`` hold an approver role of its model, and
    ``username`` has not decided in this round (the SQL twin of ``may_decide``)."""
    ids = [m.id for m in models if m.approvers & roles]
    if not ids:
        return false()
    decided = exists().where(Approval.change_id == Change.id,
                             Approval.round == Change.approval_round,
                             Approval.approver == username)
    return and_(Change.step == Step.AUTHORISATION.value, Change.definition_id.in_(ids), ~decided)


def may_decide(change: Change, approvers: list[str], username: str, roles: Iterable[str]) -> bool:
    """Whether ``username`` may approve or reject ``change`` now: it is in authorisation, they
    hold one of its model's approver roles and have not decided in this round."""
    return (change.step == Step.AUTHORISATION and bool(set(roles) & set(approvers))
            and not any(a.approver == username for a in change.current_approvals()))


def next_move_condition(models: list[ModelTargets], username: str, roles: set[str]) -> Any:
    """SQL: ``username`` coordinates or requested the change, and its state has a move by hand
    on (not a rejection or withdrawal) that ``roles`` may make."""
    conditions = []
    for m in models:
        states = [state for state, movers in m.movers if movers & roles]
        if states:
            conditions.append(and_(Change.definition_id == m.id, Change.state.in_(states)))
    if not conditions:
        return false()
    return and_(or_(Change.coordinator == username, Change.requester == username),
                or_(*conditions))


def _roles_of(session: Session, username: str) -> set[str]:
    roles = session.scalar(select(User.roles).where(User.username == username,
                                                    User.active.is_(True)))
    return set(roles or [])


def _conditions(session: Session, flt: ChangeFilter, now: datetime) -> list[Any]:
    """The filter as SQL conditions, except its step (the queue counts per step)."""
    where: list[Any] = []
    if flt.open_only:
        where.append(Change.step.not_in([s.value for s in FINAL]))
    if flt.model:
        where.append(ChangeModel.code == flt.model)
    if flt.change_class:
        where.append(Change.change_class == flt.change_class)
    if flt.coordinator:
        where.append(Change.coordinator == flt.coordinator)
    if flt.involving:
        where.append(or_(Change.coordinator == flt.involving, Change.requester == flt.involving))
    if flt.incident:
        where.append(Change.incident_reference == flt.incident.strip())
    models = model_targets(session) if flt.overdue_only or flt.awaiting or flt.next_move else []
    if flt.overdue_only:
        where.append(overdue_condition(models, now))
    if flt.awaiting:
        where.append(awaiting_condition(models, flt.awaiting, _roles_of(session, flt.awaiting)))
    if flt.next_move:
        where.append(next_move_condition(models, flt.next_move, _roles_of(session, flt.next_move)))
    return where


def _page(session: Session, flt: ChangeFilter, where: list[Any], after: str | None,
          limit: int) -> list[Change]:
    # A summary needs the change and its model only: reuse the join for the model and leave the
    # operations and approvals unloaded (a large change set would otherwise be read for each row).
    stmt = (select(Change).join(Change.definition).where(*where)
            .options(contains_eager(Change.definition), lazyload(Change.operations),
                     lazyload(Change.approvals)))
    if flt.step:
        stmt = stmt.where(Change.step == flt.step)
    if after:
        after_id = session.scalar(select(Change.id).where(Change.key == after.strip().upper()))
        if after_id is not None:
            stmt = stmt.where(Change.id < after_id)
    return list(session.scalars(stmt.order_by(Change.id.desc()).limit(limit)))


def list_changes(db: Database, *, open_only: bool = True, step: str | None = None,
                 coordinator: str | None = None, model: str | None = None, limit: int = 50,
                 after: str | None = None, change_class: str | None = None,
                 incident: str | None = None) -> list[ChangeSummary]:
    """A page of changes, newest key first; ``after`` continues from a key (keyset pagination);
    ``incident`` keeps the RFCs filed from that incident."""
    flt = ChangeFilter(open_only=open_only, step=step, coordinator=coordinator, model=model,
                       change_class=change_class, incident=incident)
    now = utcnow()
    with db.reading() as session:
        rows = _page(session, flt, _conditions(session, flt, now), after,
                     max(1, min(limit, MAX_PAGE)))
        return [summarise(c, now) for c in rows]


def all_changes(db: Database, flt: ChangeFilter) -> Iterator[ChangeSummary]:
    """Every change matching ``flt``, newest key first, read a page at a time (for exports)."""
    now = utcnow()
    with db.reading() as session:
        where = _conditions(session, flt, now)
        after: str | None = None
        while True:
            rows = _page(session, flt, where, after, MAX_PAGE)
            yield from (summarise(c, now) for c in rows)
            if len(rows) < MAX_PAGE:
                return
            after = rows[-1].key
            session.expunge_all()  # a long export keeps one page of changes in memory


def change_queue(db: Database, flt: ChangeFilter | None = None, *, after: str | None = None,
                 limit: int = 50, now: datetime | None = None) -> ChangeQueue:
    """One page of the change queue with its counts and the choices its filters offer."""
    flt = flt or ChangeFilter()
    now = now or utcnow()
    limit = max(1, min(limit, MAX_PAGE))
    with db.reading() as session:
        where = _conditions(session, flt, now)
        rows = _page(session, flt, where, after, limit + 1)
        counts = dict(session.execute(
            select(Change.step, func.count(Change.id)).join(Change.definition).where(*where)
            .group_by(Change.step)).all())
        steps = SKELETON if flt.open_only else SKELETON + FINAL
        models: dict[str, str] = {}
        for code, name in session.execute(select(ChangeModel.code, ChangeModel.name)
                                          .order_by(ChangeModel.version)):
            models[code] = name
        coordinators = sorted(c for c in session.scalars(
            select(Change.coordinator).where(Change.coordinator.is_not(None)).distinct()) if c)
        return ChangeQueue(
            rows=[summarise(c, now) for c in rows[:limit]],
            total=counts.get(flt.step, 0) if flt.step else sum(counts.values()),
            by_step=[(s.value, STEP_LABELS[s], counts.get(s.value, 0)) for s in steps],
            next_after=rows[limit - 1].key if len(rows) > limit else None,
            models=sorted(models.items(), key=lambda m: m[1].lower()),
            coordinators=coordinators,
        )


def planned_windows(db: Database, start: datetime, end: datetime, *, limit: int = 1000
                    ) -> list[CalendarEntry]:
    """Changes whose planned window overlaps [start, end), earliest first; rejected and withdrawn
    changes are left out (their windows will not happen)."""
    stmt = (
        select(Change)
        .where(Change.planned_start.is_not(None), Change.planned_start < end,
               or_(Change.planned_end >= start,
                   and_(Change.planned_end.is_(None), Change.planned_start >= start)),
               Change.step.not_in([Step.REJECTED.value, Step.WITHDRAWN.value]))
        .order_by(Change.planned_start, Change.id).limit(limit)
    )
    now = utcnow()
    with db.reading() as session:
        return [CalendarEntry(summarise(c, now), c.planned_start,  # type: ignore[arg-type]
                              c.planned_end or c.planned_start)  # type: ignore[arg-type]
                for c in session.scalars(stmt)]


__all__ = ["CalendarEntry", "ChangeFilter", "ChangeQueue", "ChangeSummary", "ModelTargets",
           "all_changes", "awaiting_condition", "change_queue", "list_changes", "may_decide",
           "model_targets", "next_move_condition", "overdue_condition", "planned_windows",
           "summarise"]
