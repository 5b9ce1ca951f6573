"""What waits for a user, for the top of their home page and the header's badge.

Each list is a count and the first ``LIST_SIZE`` rows, so the statements sent stay the same
however many changes there are: one read of the change models (what approvers and time targets
they name live in their YAML), one statement counting every list at once, and one page per list
that has rows. The conditions are the change queue's own (``usm.services.changes``), so the
"see all" links to the queue show exactly what was counted here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session, contains_eager, lazyload

from bir.base import utcnow
from bir.class_versions import ItemClassVersion
from usm.audit_log import AuditEntry
from usm.services import changes, checkouts
from usm.services.platform import Database
from workflows.models import Change, ChangeModel
from workflows.skeleton import FINAL

LIST_SIZE = 10
COORDINATOR, SERVICE_OWNER = "change_coordinator", "service_owner"
DESIGNER, ADMINISTRATOR = "process_designer", "administrator"
# Who coordinates or requests changes, so can have changes of their own past a time target.
CHANGE_ROLES = frozenset({COORDINATOR, SERVICE_OWNER})
# How far back an administrator is shown failed and refused sign-ins.
SIGN_IN_WINDOW = timedelta(hours=24)
SIGN_IN_PROBLEMS = ("sign_in.failed", "sign_in.throttled")


@dataclass(frozen=True)
class WorkList:
    """One list of changes: how many there are, and the ones waiting longest first."""

    total: int
    rows: list[changes.ChangeSummary]

    @property
    def more(self) -> bool:
        return self.total > len(self.rows)


@dataclass(frozen=True)
class Draft:
    """A draft version a designer made and has not published yet."""

    kind: str  # change_model or item_class
    code: str
    version: int
    name: str
    created_at: datetime


@dataclass(frozen=True)
class SignInProblems:
    failed: int
    throttled: int
    since: datetime


@dataclass(frozen=True)
class MyWork:
    """Each part is None when the user's roles make it no list of theirs (a service owner has no
    drafts), and empty when it is theirs but nothing waits."""

    approvals: WorkList | None = None  # changes awaiting my approval
    overdue: WorkList | None = None  # my changes past their state's time target
    next_moves: WorkList | None = None  # my changes whose next move is mine
    drafts: list[Draft] | None = None
    sign_in_problems: SignInProblems | None = None

    @property
    def waiting(self) -> int:
        """What the header's badge counts: approvals asked of me and my overdue changes."""
        return sum(part.total for part in (self.approvals, self.overdue) if part is not None)

    @property
    def nothing_waits(self) -> bool:
        lists = [p for p in (self.approvals, self.overdue, self.next_moves) if p is not None]
        problems = self.sign_in_problems
        return (all(p.total == 0 for p in lists) and not self.drafts
                and not (problems and (problems.failed or problems.throttled)))


def _conditions(session: Session, username: str, roles: set[str], now: datetime
                ) -> dict[str, Any]:
    """The SQL condition of each change list that is the user's, by name."""
    if not roles & CHANGE_ROLES:
        return {}
    models = changes.model_targets(session)
    found: dict[str, Any] = {}
    if any(m.approvers & roles for m in models):
        found["approvals"] = changes.awaiting_condition(models, username, roles)
    found["overdue"] = (or_(Change.coordinator == username, Change.requester == username)
                        & changes.overdue_condition(models, now))
    if any(movers & roles for m in models for _state, movers in m.movers):
        found["next_moves"] = changes.next_move_condition(models, username, roles)
    return found


def _open() -> Any:
    return Change.step.not_in([s.value for s in FINAL])


def _counts(session: Session, conditions: dict[str, Any]) -> dict[str, int]:
    """Every list counted in one statement over the open changes."""
    if not conditions:
        return {}
    columns = [func.coalesce(func.sum(case((condition, 1), else_=0)), 0).label(name)
               for name, condition in conditions.items()]
    row = session.execute(select(*columns).select_from(Change).where(_open())).one()
    return {name: int(row._mapping[name]) for name in conditions}


def _first(session: Session, condition: Any, now: datetime) -> list[changes.ChangeSummary]:
    """The first rows of a list, waiting longest first; a summary needs the change and its
    model only."""
    stmt = (select(Change).join(Change.definition).where(_open(), condition)
            .options(contains_eager(Change.definition), lazyload(Change.operations),
                     lazyload(Change.approvals))
            .order_by(Change.step_entered_at, Change.id).limit(LIST_SIZE))
    return [changes.summarise(c, now) for c in session.scalars(stmt)]


def _drafts(session: Session, username: str) -> list[Draft]:
    models = session.execute(
        select(ChangeModel.code, ChangeModel.version, ChangeModel.name, ChangeModel.created_at)
        .where(ChangeModel.status == "draft", ChangeModel.created_by == username)
        .order_by(ChangeModel.created_at.desc()).limit(LIST_SIZE))
    classes = session.execute(
        select(ItemClassVersion.code, ItemClassVersion.version, ItemClassVersion.spec,
               ItemClassVersion.created_at)
        .where(ItemClassVersion.status == "draft", ItemClassVersion.created_by == username)
        .order_by(ItemClassVersion.created_at.desc()).limit(LIST_SIZE))
    found = [Draft("change_model", *row) for row in models]
    found += [Draft("item_class", code, version, str((spec or {}).get("name") or code), at)
              for code, version, spec, at in classes]
    return sorted(found, key=lambda d: d.created_at, reverse=True)[:LIST_SIZE]


def _sign_in_problems(session: Session, now: datetime) -> SignInProblems:
    since = now - SIGN_IN_WINDOW
    counts: dict[str, int] = {action: count for action, count in session.execute(
        select(AuditEntry.action, func.count(AuditEntry.id))
        .where(AuditEntry.action.in_(SIGN_IN_PROBLEMS), AuditEntry.at >= since)
        .group_by(AuditEntry.action))}
    return SignInProblems(counts.get("sign_in.failed", 0), counts.get("sign_in.throttled", 0),
                          since)


def my_work(db: Database, username: str, roles: Iterable[str], now: datetime | None = None
            ) -> MyWork:
    """Everything that waits for ``username`` holding ``roles``, each list bounded."""
    held, now = set(roles), now or utcnow()
    with db.reading() as session:
        conditions = _conditions(session, username, held, now)
        totals = _counts(session, conditions)
        lists = {name: WorkList(totals[name],
                                _first(session, condition, now) if totals[name] else [])
                 for name, condition in conditions.items()}
        return MyWork(
            approvals=lists.get("approvals"), overdue=lists.get("overdue"),
            next_moves=lists.get("next_moves"),
            drafts=_drafts(session, username) if DESIGNER in held else None,
            sign_in_problems=_sign_in_problems(session, now) if ADMINISTRATOR in held else None)


def waiting_count(db: Database, username: str, roles: Iterable[str],
                  now: datetime | None = None) -> int:
    """The header badge's number: approvals asked of the user, their overdue changes and, for a
    coordinator, the check-outs they made that are due back today or overdue. One transaction
    for a user who works on changes (the models, one count, the check-outs' count), none for
    anyone else."""
    held = set(roles)
    if not held & CHANGE_ROLES:
        return 0
    at = now or utcnow()
    with db.reading() as session:
        conditions = _conditions(session, username, held, at)
        conditions.pop("next_moves", None)
        total = sum(_counts(session, conditions).values())
        if COORDINATOR in held:
            total += checkouts.count_due(session, requested_by=username, until=at.date())
        return total
