"""The CHM engine: moves changes through their model's states, on ``transitions``.

One ``Machine`` is built per definition version and cached (a published version never changes); a
change is bound to it only for the duration of a call, through the static ``events[...].trigger``
form. Entering the implementation step applies the change set to the register in the same
transaction, so a change is implemented exactly when its register edits are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import bindparam, insert, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError
from transitions import EventData, Machine

from bir.base import utcnow
from bir.errors import Conflict, FieldError, Refused, StaleChangeSet
from bir.writer import apply_change_set
from workflows.authorisation import authorised_after
from workflows.change_model import ChangeModelSpec, TransitionSpec, parse_change_model
from workflows.guards import GUARDS, MOMENT
from workflows.models import Approval, Change, ChangeModel, StepLogEntry
from workflows.skeleton import FINAL, Step

MAX_AUTOMATIC_MOVES = 10


@dataclass(frozen=True)
class Actor:
    """Who asks the engine to act, with the roles they hold."""

    username: str
    roles: frozenset[str] = field(default_factory=frozenset)

    def holds_any(self, roles: list[str]) -> bool:
        return bool(self.roles.intersection(roles))


class ChangeError(Refused):
    """Base class of the engine's refusals; the message is meant for the user."""


class TransitionRefused(ChangeError):
    """The change's state, the model's guards or the transition's roles do not allow this move
    now; ``reasons`` lists every one."""

    code = "transition_refused"

    def __init__(self, change_key: str, trigger: str, reasons: list[str]):
        self.reasons = reasons
        self.errors = [FieldError("trigger", reason) for reason in reasons]
        super().__init__(f"{change_key}: cannot {trigger}: {'; '.join(reasons)}")


class ChangeConflict(ChangeError, Conflict):
    """The change was moved or edited by someone else since the caller read it."""

    code = "conflict"


class ChangeSetStale(ChangeConflict):
    """At implementation, items the change set touches had changed since it was planned."""

    def __init__(self, change_key: str, problems: list[str]):
        self.problems = problems
        super().__init__(f"{change_key} was not implemented: {'; '.join(problems)}")


@dataclass(frozen=True)
class TriggerOption:
    trigger: str
    label: str
    dest: str
    dest_step: Step
    allowed: bool
    reasons: list[str]


class _RegistryMachine(Machine):
    """A Machine that never imports a callable by name: definitions are data from designers."""

    @staticmethod
    def resolve_callable(func: Any, event_data: EventData) -> Any:
        if callable(func):
            return func
        raise ValueError(f"callback {func!r} is not in the guard registry")


def _guard_condition(name: str, params: Any, event: EventData) -> bool:
    return GUARDS[name].check(event.model, params) is None


def _role_condition(transition: TransitionSpec, event: EventData) -> bool:
    actor: Actor = event.kwargs["actor"]
    return transition.auto or actor.holds_any(transition.roles)


class CompiledWorkflow:
    """A definition version turned into a state machine, shared by every change of that version."""

    def __init__(self, definition: ChangeModelSpec):
        self.definition = definition
        self._guards: dict[int, list[tuple[str, Any]]] = {}
        machine_transitions = []
        for t in definition.transitions:
            checks = [(g.name, GUARDS[g.name].params.model_validate(g.params)) for g in t.guards]
            self._guards[id(t)] = checks
            conditions = [partial(_role_condition, t)] + [
                partial(_guard_condition, name, params) for name, params in checks
            ]
            machine_transitions.append(
                {"trigger": t.trigger, "source": t.source, "dest": t.dest,
                 "conditions": conditions}
            )
        self.machine = _RegistryMachine(
            model=None,
            states=[s.name for s in definition.states],
            transitions=machine_transitions,
            initial=definition.initial,
            auto_transitions=False,
            send_event=True,
        )

    def transition(self, state: str, trigger: str) -> TransitionSpec | None:
        return next((t for t in self.definition.transitions_from(state)
                     if t.trigger == trigger), None)

    def blocking_reasons(self, change: Change, t: TransitionSpec, actor: Actor) -> list[str]:
        reasons = []
        if not t.auto and not actor.holds_any(t.roles):
            reasons.append(f"only {', '.join(t.roles)} may {t.trigger}")
        for name, params in self._guards[id(t)]:
            why = GUARDS[name].check(change, params)
            if why:
                reasons.append(why)
        return reasons

    def options(self, change: Change, actor: Actor) -> list[TriggerOption]:
        """Manual transitions from the change's state, with whether ``actor`` may fire them now."""
        result = []
        for t in self.definition.transitions_from(change.state):
            if t.auto:
                continue
            reasons = self.blocking_reasons(change, t, actor)
            result.append(TriggerOption(t.trigger, t.title, t.dest,
                                        self.definition.step_of(t.dest), not reasons, reasons))
        return result


# Keyed by the definition text itself, not a row id: a process may serve several databases (tests,
# tenants) whose ids coincide, and a published text never changes.
_COMPILED: dict[tuple[str, int, str], CompiledWorkflow] = {}


def compiled(row: ChangeModel) -> CompiledWorkflow:
    """The machine for a definition version; published versions are built once per process."""
    cache_key = (row.code, row.version, row.source)
    cached = _COMPILED.get(cache_key)
    if cached is not None:
        return cached
    workflow = CompiledWorkflow(parse_change_model(row.source, where=f"{row.code} v{row.version}"))
    if row.status != "draft":
        _COMPILED[cache_key] = workflow
    return workflow


def move(
    session: Session,
    change: Change,
    trigger: str,
    actor: Actor,
    *,
    comment: str | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> None:
    """Fire ``trigger`` on ``change`` as ``actor``, then any automatic transitions that follow.

    Raises ``TransitionRefused`` (with every reason), ``ChangeConflict`` when the change moved
    meanwhile, ``ChangeSetStale`` (a ``ChangeConflict``) when an item its change set touches
    changed since the change was planned, and ``bir.errors.ValidationFailed`` when the change
    set no longer fits the register at implementation. The caller owns the transaction and
    rolls back on any of them.
    """
    if expected_version is not None and change.version != expected_version:
        raise ChangeConflict(
            f"{change.key} was changed by someone else (version {change.version}, you had "
            f"{expected_version}); reload it and try again"
        )
    workflow = compiled(change.definition)
    t = workflow.transition(change.state, trigger)
    if t is None or t.auto:
        possible = [o.trigger for o in workflow.options(change, actor)]
        raise TransitionRefused(change.key, trigger, [
            f"not possible from {change.state} ({change.step}); possible now: "
            f"{', '.join(possible) or 'nothing (final)'}"
        ])
    at = now or utcnow()
    moment = MOMENT.set(at)  # guards that ask about time judge the move's own moment
    try:
        reasons = workflow.blocking_reasons(change, t, actor)
        if reasons:
            raise TransitionRefused(change.key, trigger, reasons)
        key = change.key  # read now: after a failed flush the object is expired and unreadable
        try:
            _fire(session, workflow, change, t, actor, comment, at)
            run_automatic(session, change, at)
        except StaleDataError as exc:
            raise ChangeConflict(
                f"{key} was moved by someone else meanwhile; reload it and try again") from exc
    finally:
        MOMENT.reset(moment)


def run_automatic(session: Session, change: Change, at: datetime) -> None:
    """Fire the automatic transitions available from the change's current state (after registration)."""
    workflow = compiled(change.definition)
    moment = MOMENT.set(at)
    try:
        _run_automatic(session, workflow, change, at)
    finally:
        MOMENT.reset(moment)


def _run_automatic(session: Session, workflow: CompiledWorkflow, change: Change,
                   at: datetime) -> None:
    for _ in range(MAX_AUTOMATIC_MOVES):
        auto = next((a for a in workflow.definition.transitions_from(change.state)
                     if a.auto and not workflow.blocking_reasons(change, a, Actor("system"))), None)
        if auto is None:
            break
        system = Actor(f"model:{workflow.definition.code} v{workflow.definition.version}")
        _fire(session, workflow, change, auto, system, None, at)


_LOG_ENTRY = insert(StepLogEntry.__table__)
_CHANGE = Change.__table__
# What a transition may change. One statement, built once, writes them all (the unchanged ones
# with their current values): building an UPDATE per move cost as much as running it.
_MOVED = ("state", "step", "updated_at", "step_entered_at", "approval_round", "implemented_at",
          "closed_at", "authorised", "version")
_SAVE_MOVE = (update(_CHANGE)
              .where(_CHANGE.c.id == bindparam("b_id"), _CHANGE.c.version == bindparam("b_was"))
              .values({name: bindparam(f"b_{name}") for name in _MOVED}))


class _Moving:
    """The change as the state machine sees it during one transition: guards read the change,
    and the state the machine sets stays here until ``_save`` writes it. The ORM object is never
    made dirty, so a move costs one UPDATE rather than a unit-of-work flush (issue 8, figure 5)."""

    def __init__(self, change: Change):
        self.__dict__["change"] = change
        self.state = change.state

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__dict__["change"], name)


def _save(session: Session, change: Change, values: dict[str, Any]) -> None:
    """Write ``values`` to the change's row now, checking and bumping its version: this takes the
    row lock before any register write, and of two concurrent movers the second fails here
    (StaleDataError) and writes nothing. With other objects waiting (a new change, an automatic
    approval) the unit of work writes everything in order instead."""
    if change not in session or session.new or session.deleted or session.dirty:
        for name, value in values.items():
            setattr(change, name, value)
        session.flush()
        return
    version = change.version
    row = {name: getattr(change, name) for name in _MOVED} | values | {"version": version + 1}
    # On the connection: through the session, autoflush would run first for nothing.
    written = session.connection().execute(
        _SAVE_MOVE, {"b_id": change.id, "b_was": version,
                     **{f"b_{name}": value for name, value in row.items()}})
    if written.rowcount != 1:
        raise StaleDataError(f"{change.key} is no longer at version {version}")
    for name, value in row.items():
        set_committed_value(change, name, value)


def _fire(session: Session, workflow: CompiledWorkflow, change: Change, t: TransitionSpec,
          actor: Actor, comment: str | None, at: datetime) -> None:
    from_state, from_step = change.state, Step(change.step)
    moving = _Moving(change)
    if not workflow.machine.events[t.trigger].trigger(moving, actor=actor):
        raise TransitionRefused(change.key, t.trigger, ["a guard blocked it"])
    to_step = workflow.definition.step_of(moving.state)
    values: dict[str, Any] = {"state": moving.state, "step": to_step.value, "updated_at": at}
    if to_step is not from_step:
        values["step_entered_at"] = at
    approval_round = change.approval_round
    if to_step is Step.AUTHORISATION and from_step is not Step.AUTHORISATION and any(
        a.round == approval_round for a in change.approvals
    ):
        approval_round = values["approval_round"] = approval_round + 1
    if t.auto and workflow.definition.authorising(t) and not t.needs_approvals:
        change.approvals.append(Approval(
            round=approval_round, approver=actor.username, decision="approved",
            comment="pre-authorised by the change model", automatic=True, at=at,
        ))
    implementing = to_step is Step.IMPLEMENTATION and from_step is not Step.IMPLEMENTATION
    if implementing:
        values["implemented_at"] = at  # kept only if the register accepts the change set below
    if to_step in FINAL:
        values["closed_at"] = at
    values["authorised"] = authorised_after(from_step, to_step, change)
    _save(session, change, values)
    if implementing:
        try:
            applied = apply_change_set(session, change.change_set(), change_id=change.id, at=at)
        except StaleChangeSet as exc:
            raise ChangeSetStale(change.key, exc.problems) from exc
        comment = "; ".join(filter(None, [comment, f"register: {applied.summary()}"]))
    # One INSERT, not through ``change.log`` (appending would read the whole log first, so moves
    # slowed as the log grew) nor the unit of work (a third of a move's time): issue 8, figure 5.
    session.connection().execute(_LOG_ENTRY, {
        "change_id": change.id, "at": at, "actor": actor.username, "trigger": t.trigger,
        "from_state": from_state, "to_state": change.state, "from_step": from_step.value,
        "to_step": to_step.value, "comment": comment})
