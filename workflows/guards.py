"""The guard registry: the only conditions a workflow definition may name.

Definitions are data edited by process designers, so a guard name never resolves to arbitrary code:
it must be a key of ``GUARDS``, and its parameters are checked by the guard's own schema. A guard is
pure (it reads the change, writes nothing) and answers with the reason it blocks, or None.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from workflows.models import Change

RISK_LEVELS = ("low", "medium", "high")
# Change attributes a required_fields guard may name (model-specific fields are added per model).
CHANGE_FIELDS = (
    "description", "reason", "risk", "impact", "cost_estimate", "planned_start", "planned_end",
    "coordinator", "outcome", "services",
)


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NoParams(_Params):
    pass


class RequiredFieldsParams(_Params):
    fields: list[str] = Field(min_length=1)


class ApprovalsParams(_Params):
    count: int = Field(ge=1, le=20)


class CostParams(_Params):
    amount: Decimal = Field(ge=0)


class RiskParams(_Params):
    level: str = Field(pattern="^(low|medium|high)$")


@dataclass(frozen=True)
class Guard:
    name: str
    description: str
    params: type[_Params]
    check: Callable[[Change, Any], str | None]


def _field_value(change: Change, name: str) -> Any:
    if name in CHANGE_FIELDS:
        return getattr(change, name)
    return (change.fields or {}).get(name)


def _required_fields(change: Change, params: RequiredFieldsParams) -> str | None:
    missing = [f for f in params.fields if _field_value(change, f) in (None, "", [], {})]
    return f"fill in {', '.join(missing)} first" if missing else None


def _approvals(change: Change, params: ApprovalsParams) -> str | None:
    current = change.current_approvals()
    rejected = [a for a in current if a.decision == "rejected"]
    if rejected:
        return f"rejected by {rejected[0].approver}"
    approved = len({a.approver for a in current if a.decision == "approved"})
    if approved < params.count:
        return f"needs {params.count} approval(s), has {approved}"
    return None


def _cost_at_most(change: Change, params: CostParams) -> str | None:
    if change.cost_estimate is None:
        return "estimate the cost first"
    if change.cost_estimate > params.amount:
        return f"cost {change.cost_estimate} is above this model's limit of {params.amount}"
    return None


def _risk_at_most(change: Change, params: RiskParams) -> str | None:
    if change.risk is None:
        return "assess the risk first"
    if RISK_LEVELS.index(change.risk) > RISK_LEVELS.index(params.level):
        return f"risk {change.risk} is above this model's limit ({params.level})"
    return None


def _has_change_set(change: Change, params: NoParams) -> str | None:
    return None if change.has_change_set() else "the change set is empty"


def _window_planned(change: Change, params: NoParams) -> str | None:
    if change.planned_start is None or change.planned_end is None:
        return "plan the window (start and end) first"
    if change.planned_end <= change.planned_start:
        return "the planned window ends before it starts"
    return None


def _successful(change: Change, params: NoParams) -> str | None:
    if change.outcome is None:
        return "record the outcome of the evaluation first"
    return None


GUARDS: dict[str, Guard] = {
    g.name: g
    for g in (
        Guard("required_fields", "the named fields are filled in", RequiredFieldsParams,
              _required_fields),
        Guard("approvals", "at least N approvals in this authorisation round, no rejection",
              ApprovalsParams, _approvals),
        Guard("cost_at_most", "the estimated cost is at most the amount", CostParams,
              _cost_at_most),
        Guard("risk_at_most", "the assessed risk is at most the level", RiskParams, _risk_at_most),
        Guard("has_change_set", "the change carries at least one register edit", NoParams,
              _has_change_set),
        Guard("window_planned", "a planned window with start before end", NoParams,
              _window_planned),
        Guard("outcome_recorded", "the evaluation outcome is recorded", NoParams, _successful),
    )
}
