"""The guard registry: the only conditions a workflow definition may name.

Definitions are data edited by process designers, so a guard name never resolves to arbitrary code:
it must be a key of ``GUARDS``, and its parameters are checked by the guard's own schema. A guard is
pure (it reads the change, writes nothing) and answers with the reason it blocks, or None.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from bir.base import utcnow
from workflows.models import money_by_currency

if TYPE_CHECKING:
    from workflows.models import Change

RISK_LEVELS = ("low", "medium", "high")
# The moment a move happens at (the engine sets it while it judges and fires a move); guards that
# ask about time read it, and the clock when nothing moves (a page listing what is possible).
MOMENT: ContextVar[datetime | None] = ContextVar("moving_at", default=None)
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
    # The limit's currency; without one, the limit holds in whatever single currency the change
    # is in (its estimate's and its change set's amounts).
    currency: str | None = Field(None, pattern=r"^[A-Z]{3}$")


class RiskParams(_Params):
    level: str = Field(pattern="^(low|medium|high)$")


class Reason(str):
    """Why a guard blocks, as the text every caller shows, with the change's ``fields`` that fix
    it (a detail field such as ``impact``, a model field, ``change_set`` or ``approvals``) so a
    screen can lead the user there; still a plain ``str`` wherever it goes."""

    fields: tuple[str, ...]

    def __new__(cls, text: str, *fields: str) -> Reason:
        reason = super().__new__(cls, text)
        reason.fields = fields
        return reason


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
    return Reason(f"fill in {', '.join(missing)} first", *missing) if missing else None


def _approvals(change: Change, params: ApprovalsParams) -> str | None:
    current = change.current_approvals()
    rejected = [a for a in current if a.decision == "rejected"]
    if rejected:
        return Reason(f"rejected by {rejected[0].approver}", "approvals")
    approved = len({a.approver for a in current if a.decision == "approved"})
    if approved < params.count:
        return Reason(f"needs {params.count} approval(s), has {approved}", "approvals")
    return None


def _cost_at_most(change: Change, params: CostParams) -> str | None:
    """The change's cost is the higher of its typed estimate and what its change set is worth
    (the purchase costs it registers): a low estimate does not carry a costly change set past
    the limit. Amounts in two currencies, or in another than the limit's, cannot be weighed, so
    they block."""
    value = money_by_currency(change.change_set_value)
    estimate = change.cost_estimate
    if estimate is None and not value:
        return Reason("estimate the cost first", "cost_estimate")
    currencies = set(value) | ({change.currency} if estimate is not None and change.currency
                               else set())
    if len(currencies) > 1:
        return Reason(f"the change's amounts are in {' and '.join(sorted(currencies))}; this "
                      "model's limit cannot weigh them together", "currency")
    currency = next(iter(currencies), None)
    if params.currency and currency and currency != params.currency:
        return Reason(f"the change's amounts are in {currency}; this model's limit is in "
                      f"{params.currency}", "currency")
    worth = value.get(currency, Decimal(0)) if currency else Decimal(0)
    if estimate is not None and estimate >= worth:
        if estimate > params.amount:
            return Reason(f"cost {estimate} is above this model's limit of {params.amount}",
                          "cost_estimate")
        return None
    if worth > params.amount:
        return Reason(f"the change set is worth {worth:.2f} {currency}, above this model's "
                      f"limit of {params.amount}", "change_set")
    return None


def _risk_at_most(change: Change, params: RiskParams) -> str | None:
    if change.risk is None:
        return Reason("assess the risk first", "risk")
    if RISK_LEVELS.index(change.risk) > RISK_LEVELS.index(params.level):
        return Reason(f"risk {change.risk} is above this model's limit ({params.level})",
                      "risk")
    return None


def _has_change_set(change: Change, params: NoParams) -> str | None:
    return None if change.has_change_set() else Reason("the change set is empty", "change_set")


def _window_planned(change: Change, params: NoParams) -> str | None:
    if change.planned_start is None or change.planned_end is None:
        return Reason("plan the window (start and end) first", "planned_start")
    if change.planned_end <= change.planned_start:
        return Reason("the planned window ends before it starts", "planned_end")
    return None


def _within_window(change: Change, params: NoParams) -> str | None:
    """Implementation inside the planned window only: a change implemented outside it is one
    nobody planned for then."""
    if change.planned_start is None or change.planned_end is None:
        return Reason("plan the window (start and end) first", "planned_start")
    now = MOMENT.get() or utcnow()
    if not change.planned_start <= now <= change.planned_end:
        return Reason(f"outside the planned window ({change.planned_start:%Y-%m-%d %H:%M} to "
                      f"{change.planned_end:%Y-%m-%d %H:%M} UTC)", "planned_start")
    return None


def _successful(change: Change, params: NoParams) -> str | None:
    if change.outcome is None:
        return Reason("record the outcome of the evaluation first", "outcome")
    return None


GUARDS: dict[str, Guard] = {
    g.name: g
    for g in (
        Guard("required_fields", "the named fields are filled in", RequiredFieldsParams,
              _required_fields),
        Guard("approvals", "at least N approvals in this authorisation round, no rejection",
              ApprovalsParams, _approvals),
        Guard("cost_at_most", "the cost (the estimate or the change set's value, whichever is "
              "higher) is at most the amount", CostParams, _cost_at_most),
        Guard("risk_at_most", "the assessed risk is at most the level", RiskParams, _risk_at_most),
        Guard("has_change_set", "the change carries at least one register edit", NoParams,
              _has_change_set),
        Guard("window_planned", "a planned window with start before end", NoParams,
              _window_planned),
        Guard("within_window", "now is inside the planned window", NoParams, _within_window),
        Guard("outcome_recorded", "the evaluation outcome is recorded", NoParams, _successful),
    )
}
