"""What a change was authorised with, and edits that would go beyond it.

An authorisation (the approvers', or a standard model's own limits) is given for the change as it
stood: its risk and its cost (the estimate and what the change set is worth, as the cost guards
weigh them). The engine records those facts when the change leaves authorisation for planning.
Until implementation, raising them is refused: what gets implemented must be what was authorised,
so a higher cost or risk goes back through authorisation first (ITIL's rule for a significant
change to an authorised change). Lowering them, and every other detail, stays free.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from bir.errors import FieldError
from workflows.guards import RISK_LEVELS
from workflows.models import money_by_currency
from workflows.skeleton import FINAL, Step, position

if TYPE_CHECKING:
    from workflows.change_model import ChangeModelSpec
    from workflows.models import Change

# The steps in which the authorised facts bind: after authorisation, before implementation.
BOUND_STEPS = (Step.PLANNING, Step.REALISATION)


def authorised_facts(change: Change) -> dict[str, Any]:
    """The facts an authorisation saw, as the change records them."""
    return {"risk": change.risk, "cost_estimate": _text(change.cost_estimate),
            "currency": change.currency, "change_set_value": dict(change.change_set_value or {})}


def authorised_after(from_step: Step, to_step: Step, change: Change) -> dict[str, Any] | None:
    """What a move from ``from_step`` to ``to_step`` records as authorised: the facts now when it
    leaves authorisation forward, nothing when it goes back to authorisation or before, and the
    record kept so far otherwise."""
    authorisation = position(Step.AUTHORISATION)
    if to_step in FINAL:
        return change.authorised
    if position(from_step) <= authorisation < position(to_step):
        return authorised_facts(change)
    if position(to_step) <= authorisation:
        return None
    return change.authorised


def beyond_authorisation(change: Change, definition: ChangeModelSpec,
                         values: dict[str, Any]) -> list[FieldError]:
    """Why setting ``values`` (risk, cost estimate, currency) on ``change`` would take it beyond
    what it was authorised with; empty when it would not."""
    authorised = change.authorised
    if authorised is None or Step(change.step) not in BOUND_STEPS:
        return []
    after = {**authorised_facts(change), **{k: _text(v) if k == "cost_estimate" else v
                                            for k, v in values.items()}}
    problems = []
    if _level(after["risk"]) > _level(authorised["risk"]):
        problems.append(FieldError("risk", (
            f"{change.key} was authorised at risk {authorised['risk'] or 'not assessed'}; risk "
            f"{after['risk']} needs a new authorisation: {_way_back(change, definition)}")))
    was, now = _costs(authorised), _costs(after)
    if any(amount > was.get(currency, was.get(None, Decimal(0)))
           for currency, amount in now.items()):
        problems.append(FieldError("cost_estimate", (
            f"{change.key} was authorised for a cost of at most {_shown(was)}; a cost of "
            f"{_shown(now)} needs a new authorisation: {_way_back(change, definition)}")))
    return problems


def _text(amount: Decimal | str | None) -> str | None:
    return None if amount in (None, "") else str(amount)


def _level(risk: str | None) -> int:
    return RISK_LEVELS.index(risk) if risk in RISK_LEVELS else -1


def _costs(facts: dict[str, Any]) -> dict[str | None, Decimal]:
    """The cost per currency as the cost guards weigh it: the higher of the estimate and what
    the change set is worth."""
    costs: dict[str | None, Decimal] = dict(money_by_currency(facts.get("change_set_value")))
    if facts.get("cost_estimate") is not None:
        currency = facts.get("currency")
        costs[currency] = max(costs.get(currency, Decimal(0)), Decimal(facts["cost_estimate"]))
    return costs


def _shown(costs: dict[str | None, Decimal]) -> str:
    return " and ".join(f"{amount:.2f}{f' {c}' if c else ''}"
                        for c, amount in sorted(costs.items(), key=lambda i: i[0] or "")) \
        or "nothing (no cost was given)"


def _way_back(change: Change, definition: ChangeModelSpec) -> str:
    """How the change gets a new authorisation from where it is."""
    back = [t.title for t in definition.transitions_from(change.state)
            if definition.step_of(t.dest) not in FINAL
            and position(definition.step_of(t.dest)) <= position(Step.AUTHORISATION)]
    if back:
        return f"send it back to authorisation first ({' or '.join(back)})"
    return "this model has no way back from here; withdraw the change and register it again"
