"""Dry run: walk a hypothetical change through a definition version (a draft above all), choosing
triggers as a given role, to see which guards pass or block, without writing anything.

The hypothetical change is a ``Change`` object that never joins a session; the engine's own
compiled machine moves it and the engine's own guard registry judges it, so a dry run answers
exactly as the engine would for a real change with those facts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from bir.base import utcnow
from usm.config import default_currency
from usm.services.change_models.catalogue import ChangeModelNotFound, guard_text
from usm.services.platform import Database
from workflows.engine import MAX_AUTOMATIC_MOVES, Actor, CompiledWorkflow, compiled
from workflows.guards import CHANGE_FIELDS, GUARDS, RISK_LEVELS
from workflows.models import Approval, Change, ChangeModel, ChangeOperation
from workflows.skeleton import ROLES, STEP_LABELS

__all__ = ["RISK_LEVELS", "ROLES", "TEXT_FIELDS", "DryRun", "Facts", "dry_run"]

# Text fields a required_fields guard may ask for, offered as "filled in" checkboxes.
TEXT_FIELDS = ("description", "reason", "impact", "coordinator", "services")


@dataclass(frozen=True)
class Facts:
    """What the hypothetical change carries."""

    role: str = "change_coordinator"
    risk: str | None = None
    cost_estimate: Decimal | None = None
    change_set_value: Decimal | None = None  # what the change set registers (purchase costs)
    filled: frozenset[str] = frozenset()  # text fields and model fields taken as filled in
    approvals: int = 0
    rejected: bool = False
    has_change_set: bool = True
    window_planned: bool = False
    outcome_recorded: bool = False


@dataclass(frozen=True)
class GuardCheck:
    text: str
    passes: bool
    reason: str | None


@dataclass(frozen=True)
class DryOption:
    trigger: str
    label: str
    dest: str
    dest_label: str
    allowed: bool
    role_ok: bool
    roles: list[str]
    guards: list[GuardCheck]


@dataclass(frozen=True)
class DryStep:
    trigger: str
    label: str
    from_state: str
    to_state: str
    automatic: bool


@dataclass
class DryRun:
    code: str
    version: int
    status: str
    state: str
    state_label: str
    step_label: str
    walked: list[DryStep] = field(default_factory=list)
    options: list[DryOption] = field(default_factory=list)
    refused: str | None = None  # why the last chosen trigger did not fire
    waiting: list[DryOption] = field(default_factory=list)  # automatic moves not yet possible
    path: list[str] = field(default_factory=list)  # the triggers that fired (to continue from)


def dry_run(db: Database, code: str, version: int, facts: Facts, triggers: Sequence[str]
            ) -> DryRun:
    """Fire ``triggers`` in order as ``facts.role`` from the initial state (and every automatic
    transition that follows), stopping at the first one that is refused."""
    if facts.role not in ROLES:
        raise ValueError(f"role: unknown role '{facts.role}' (known: {', '.join(ROLES)})")
    with db.reading() as session:
        row = session.scalar(select(ChangeModel).where(
            ChangeModel.code == code, ChangeModel.version == version))
        if row is None:
            raise ChangeModelNotFound(f"there is no change model {code} version {version}")
        workflow = compiled(row)
        status = row.status
    definition = workflow.definition
    actor = Actor("dry-run", frozenset({facts.role}))
    change = _hypothetical_change(workflow, facts)
    result = DryRun(code, version, status, change.state, "", "")
    _follow_automatic(workflow, change, result)
    for trigger in triggers:
        t = workflow.transition(change.state, trigger)
        if t is None or t.auto:
            result.refused = f"'{trigger}' is not a manual transition from {change.state}"
            break
        reasons = workflow.blocking_reasons(change, t, actor)
        if reasons:
            result.refused = f"{t.title} is blocked: {'; '.join(reasons)}"
            break
        _fire(workflow, change, t.trigger, actor, result, automatic=False)
        result.path.append(trigger)
        _follow_automatic(workflow, change, result)
    state = definition.state(change.state)
    result.state, result.state_label = state.name, state.title
    result.step_label = STEP_LABELS[state.step]
    result.options = _options(workflow, change, actor)
    result.waiting = _options(workflow, change, actor, automatic=True)
    return result


def _hypothetical_change(workflow: CompiledWorkflow, facts: Facts) -> Change:
    definition = workflow.definition
    now = utcnow()
    filled = {name: "(filled in)" for name in facts.filled}
    change = Change(
        key="DRY-RUN", title="Dry run", state=definition.initial,
        step=definition.step_of(definition.initial).value, change_class=definition.change_class,
        risk=facts.risk, cost_estimate=facts.cost_estimate, approval_round=1,
        description=filled.get("description"), reason=filled.get("reason"),
        impact=filled.get("impact"), coordinator=filled.get("coordinator"),
        services=["(a service)"] if "services" in filled else [],
        planned_start=now if facts.window_planned else None,
        planned_end=now + timedelta(hours=1) if facts.window_planned else None,
        outcome="successful" if facts.outcome_recorded else None,
        fields={k: v for k, v in filled.items() if k not in CHANGE_FIELDS},
        currency=default_currency(),
        change_set_value=({default_currency(): f"{facts.change_set_value:.2f}"}
                          if facts.change_set_value is not None else None),
    )
    change.operations = ([ChangeOperation(seq=0, op="create_item", payload={})]
                         if facts.has_change_set else [])
    approvals = [Approval(round=1, approver=f"approver {i + 1}", decision="approved", at=now)
                 for i in range(facts.approvals)]
    if facts.rejected:
        approvals.append(Approval(round=1, approver="a rejecting approver", decision="rejected",
                                  at=now))
    change.approvals = approvals
    return change


def _fire(workflow: CompiledWorkflow, change: Change, trigger: str, actor: Actor, result: DryRun,
          *, automatic: bool) -> None:
    t = workflow.transition(change.state, trigger)
    assert t is not None
    from_state = change.state
    # The engine's machine, on an object outside any session: it sets the state and nothing else.
    workflow.machine.events[trigger].trigger(change, actor=actor)
    change.step = workflow.definition.step_of(change.state).value
    if automatic and workflow.definition.authorising(t) and not t.needs_approvals:
        change.approvals.append(Approval(round=change.approval_round, approver="the model",
                                         decision="approved", automatic=True, at=utcnow()))
    result.walked.append(DryStep(trigger, t.title, from_state, change.state, automatic))


def _follow_automatic(workflow: CompiledWorkflow, change: Change, result: DryRun) -> None:
    system = Actor("system")
    for _ in range(MAX_AUTOMATIC_MOVES):
        auto = next((a for a in workflow.definition.transitions_from(change.state)
                     if a.auto and not workflow.blocking_reasons(change, a, system)), None)
        if auto is None:
            return
        _fire(workflow, change, auto.trigger, system, result, automatic=True)


def _options(workflow: CompiledWorkflow, change: Change, actor: Actor, *,
             automatic: bool = False) -> list[DryOption]:
    """The manual moves from here, or (``automatic``) the automatic ones, which wait for their
    guards (approvals, above all) to fire by themselves."""
    definition = workflow.definition
    options = []
    for t in definition.transitions_from(change.state):
        if t.auto != automatic:
            continue
        checks = []
        for ref in t.guards:
            guard = GUARDS[ref.name]
            why = guard.check(change, guard.params.model_validate(ref.params))
            checks.append(GuardCheck(guard_text(ref), why is None, why))
        role_ok = actor.holds_any(t.roles)
        options.append(DryOption(
            trigger=t.trigger, label=t.title, dest=t.dest,
            dest_label=definition.state(t.dest).title,
            allowed=not workflow.blocking_reasons(change, t, actor), role_ok=role_ok,
            roles=[ROLES.get(r, r) for r in t.roles], guards=checks))
    return options
