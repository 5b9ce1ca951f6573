"""Registering a standard change and carrying it to implementation in one call.

A standard change's model is pre-authorised, so once its guards are met (the details given at
registration) nothing but the coordinator's own moves stands between registration and
implementation. Integrations (discovery agents, deployment tooling) use this to record what they
did in one request. It is all or nothing: the change is registered, moved and implemented in one
transaction, or, when any move is refused, nothing is recorded at all and the refusal says why.
Every move goes through the engine as the caller, so the model's roles and guards apply as they
would to the same moves made one by one.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from bir.base import utcnow
from bir.errors import FieldError, ValidationFailed
from usm.config import default_currency
from usm.services.accounts import actor_for
from usm.services.changes.commands import DatabaseBusy, registered
from usm.services.platform import Database
from workflows import changes as records
from workflows.change_model import ChangeModelSpec, TransitionSpec
from workflows.engine import Actor, TransitionRefused, compiled, move
from workflows.models import Change
from workflows.skeleton import FINAL, Step, position

MAX_MOVES = 20
CARRIED = "carried to implementation in one call"
CHORE = "carried through in one action"
CHORE_WINDOW = timedelta(hours=1)  # a chore is carried out now: its planned window


def chore_details(impact: str, at: datetime) -> dict[str, Any]:
    """The details a routine chore gives the shipped standard models so their guards hold: what
    it touches, a low risk, no cost (in the register's default currency) and a window from now."""
    return {"impact": impact, "risk": "low", "cost_estimate": "0",
            "currency": default_currency(), "planned_start": at,
            "planned_end": at + CHORE_WINDOW}


@dataclass(frozen=True)
class Carried:
    """Where a change carried through in one action stands: ``reached`` when it got to the step
    asked for; otherwise ``blocked`` says, in the model's words, what a person must do next."""

    key: str
    state: str
    state_label: str
    step: str
    reached: bool
    blocked: tuple[str, ...] = ()


@contextmanager
def _writing(db: Database) -> Iterator[Session]:
    try:
        with db.transaction() as session:
            yield session
    except OperationalError as exc:
        if "locked" in str(exc.orig) or "busy" in str(exc.orig).lower():
            raise DatabaseBusy("the register is busy with another change; try again in a "
                               "moment") from exc
        raise


def register_and_implement(db: Database, username: str, *, model: str, title: str,
                           operations: list[dict[str, Any]], now: datetime | None = None,
                           **details: Any) -> str:
    """Register a change of the standard model ``model`` and move it, as ``username``, to
    implementation, which applies its change set to the register; return the change's key.

    Raises ``ValidationFailed`` (bad input, or a model that is not pre-authorised), ``NotAChange``
    and ``TransitionRefused`` (a move the caller's roles or the model's guards do not allow, with
    the reasons); in each case nothing is recorded.
    """
    at = now or utcnow()
    with _writing(db) as session:
        actor = actor_for(session, username)
        row = records.latest_change_model(session, model)
        if not compiled(row).definition.pre_authorised:
            raise ValidationFailed([FieldError(
                "run_to_implementation", f"{model} is a {row.change_class} change model: only a "
                "standard (pre-authorised) model can be carried to implementation in one call; "
                "register the change and move it step by step")])
        change = registered(session, username, model=model, title=title, operations=operations,
                            now=at, details=details)
        definition = compiled(change.definition).definition
        for _ in range(MAX_MOVES):
            step = Step(change.step)
            if step is Step.IMPLEMENTATION:
                return change.key
            if step in FINAL:
                raise TransitionRefused(f"the new {model} change", "run_to_implementation", [
                    f"it was {step.value} at registration: {change.log[-1].comment}"])
            t = _next_move(definition, change.state)
            if t is None:
                raise TransitionRefused(f"the new {model} change", "run_to_implementation", [
                    f"no way from {change.state} to implementation in this model"])
            if t.auto:
                reasons = compiled(change.definition).blocking_reasons(change, t, Actor("system"))
                raise TransitionRefused(f"the new {model} change", t.trigger, reasons)
            move(session, change, t.trigger, actor, comment=CARRIED, now=at)
        raise TransitionRefused(f"the new {model} change", "run_to_implementation",
                                [f"did not reach implementation in {MAX_MOVES} moves"])


def carry_through(db: Database, username: str, *, model: str, title: str,
                  operations: list[dict[str, Any]], to_step: Step = Step.CLOSED,
                  outcome: str = "successful", now: datetime | None = None,
                  with_change: Callable[[Session, Change], None] | None = None,
                  **details: Any) -> Carried:
    """Register a change of ``model`` and move it, as ``username``, as far towards ``to_step`` as
    its roles and guards allow: the one action behind a routine chore (check-out, a bulk status
    change, an attachment). Every move goes through the engine and lands in the step log.

    Unlike ``register_and_implement`` this keeps the change where it stops: a guard that does not
    hold, or a role the user lacks, leaves it registered at that state with the reasons in
    ``Carried.blocked`` for the person who must act. Bad input (``ValidationFailed``,
    ``NotAChange``) and a refused implementation record nothing. ``outcome`` is recorded once
    the change is in evaluation (its change set registered), for the review that closes it.
    """
    at = now or utcnow()
    with _writing(db) as session:
        actor = actor_for(session, username)
        change = registered(session, username, model=model, title=title, operations=operations,
                            now=at, details=details)
        if with_change is not None:
            with_change(session, change)
        workflow = compiled(change.definition)
        definition = workflow.definition
        blocked: list[str] = []
        for _ in range(MAX_MOVES):
            if _reached(Step(change.step), to_step) or Step(change.step) in FINAL:
                break
            t = _next_move(definition, change.state, to_step)
            if t is None:
                blocked = [f"no way from {change.state} to {to_step.value} in {model}"]
                break
            reasons = workflow.blocking_reasons(change, t, Actor("system") if t.auto else actor)
            if t.auto or reasons:
                blocked = reasons or [f"{t.title} waits for the model's conditions"]
                break
            move(session, change, t.trigger, actor, comment=CHORE, now=at)
            if Step(change.step) is Step.EVALUATION and change.outcome is None:
                records.update_details(session, change, actor, {"outcome": outcome}, now=at)
        step = Step(change.step)
        reached = _reached(step, to_step)
        if not reached and not blocked:
            blocked = [f"the change is {definition.state(change.state).title}"]
        return Carried(change.key, change.state, definition.state(change.state).title,
                       step.value, reached, tuple(blocked))


def _reached(step: Step, to_step: Step) -> bool:
    return step not in (Step.REJECTED, Step.WITHDRAWN) and position(step) >= position(to_step)


def _next_move(definition: ChangeModelSpec, state: str, to_step: Step = Step.IMPLEMENTATION
               ) -> TransitionSpec | None:
    """The first transition of the shortest way from ``state`` into ``to_step`` that passes no
    final outcome (never a rejection or withdrawal)."""
    seen = {state}
    queue: deque[tuple[str, TransitionSpec | None]] = deque([(state, None)])
    while queue:
        here, first = queue.popleft()
        for t in definition.transitions_from(here):
            step = definition.step_of(t.dest)
            if step is to_step:
                return first or t
            if t.dest not in seen and step not in FINAL:
                seen.add(t.dest)
                queue.append((t.dest, first or t))
    return None


__all__ = ["CHORE_WINDOW", "Carried", "carry_through", "chore_details", "register_and_implement"]
