"""The change page's "Next steps" and step log as a person reads them.

A move that takes the change on through the CHM steps is the page's main action; a move back,
a rejection or a withdrawal is secondary. A blocked move says why, and where a field fixes the
reason (the guard names it: ``workflows.guards.Reason``) it links to that field on the page.
The step log names the model's transitions and states by their labels, not their codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from usm.services import changes
from web.support.vocabulary import ui, ui_reason

ENDINGS = ("rejected", "withdrawn")
# The detail form's inputs a guard may name, by the label the form shows them with.
DETAIL_INPUTS = {
    "title": _l("Title"), "reason": _l("Reason"), "description": _l("Description"),
    "coordinator": _l("Coordinator"), "risk": _l("Risk"), "impact": _l("Impact"),
    "cost_estimate": _l("Cost estimate"), "currency": _l("Currency"),
    "planned_start": _l("Planned start (UTC)"), "planned_end": _l("Planned end (UTC)"),
    "outcome": _l("Outcome"),
}
# Step-log entries that are no transition of the change's model.
SYSTEM_ACTIONS = {
    "register": _l("Registered"),
    "edit_change_set": _l("Change set edited"),
    "reject": _l("Rejected at registration"),
}


@dataclass(frozen=True)
class Fix:
    """Where to go to fix a reason a move is blocked."""

    label: str
    href: str


@dataclass(frozen=True)
class Move:
    trigger: str
    label: str
    dest_step: str
    allowed: bool
    forward: bool  # on through the CHM steps: the main action
    ends: bool  # rejects or withdraws the change
    reasons: list[str]  # in the page's language
    fixes: list[Fix]


@dataclass(frozen=True)
class LogLine:
    at: Any
    actor: str
    trigger: str
    action: str
    from_state: str | None
    to_state: str
    to_step: str
    comment: str | None


def is_forward(step: str, dest_step: str) -> bool:
    """Whether a move to ``dest_step`` takes a change in ``step`` on through the CHM skeleton."""
    order = [*changes.WORKING_STEPS, "closed"]
    if dest_step not in order or step not in order:
        return False
    return order.index(dest_step) > order.index(step)


def next_moves(view: changes.ChangeDetail, *, details_form: bool,
               exclude: tuple[str, ...] = ()) -> list[Move]:
    """The moves the user is offered, forward ones first (in the model's order otherwise)."""
    key, step = view.summary.key, view.summary.step
    model_fields = {f.name: f.label for f in view.model_fields}
    moves = []
    for option in view.options:
        dest = getattr(option.dest_step, "value", option.dest_step)
        if dest in exclude:
            continue
        fixes: list[Fix] = []
        for reason in option.reasons:
            for name in getattr(reason, "fields", ()):
                fix = _fix(name, key, details_form, view.change_set_editable, model_fields)
                if fix is not None and fix not in fixes:
                    fixes.append(fix)
        moves.append(Move(option.trigger, option.label, dest, option.allowed,
                          is_forward(step, dest), dest in ENDINGS,
                          [ui_reason(r) for r in option.reasons], fixes))
    return sorted(moves, key=lambda m: not m.forward)


def _fix(name: str, key: str, details_form: bool, change_set_editable: bool,
         model_fields: dict[str, str]) -> Fix | None:
    if name == "approvals":
        return Fix(_("Approvals"), "#approvals")
    if name == "change_set":
        return Fix(_("Change set"), url_for(".detail", key=key, edit="change-set")
                   if change_set_editable else "#change-set")
    if name in DETAIL_INPUTS:
        label, field = str(DETAIL_INPUTS[name]), name
    elif name in model_fields:
        label, field = model_fields[name], f"fields.{name}"
    elif name == "services":
        return Fix(_("Services named"), "#details")
    else:
        return None
    if not details_form:  # who cannot edit the details is shown where they are
        return Fix(label, "#details")
    # Without the page's script the link opens the details form; with it, in place.
    return Fix(label, url_for(".detail", key=key, details="open", _anchor=f"f-{field}"))


def log_lines(view: changes.ChangeDetail) -> list[LogLine]:
    """The step log with the model's labels for its transitions and states."""
    lines = []
    for e in view.log:
        system = SYSTEM_ACTIONS.get(e.trigger)
        action = e.action or (str(system) if system is not None else
                              e.trigger.replace("_", " ").capitalize())
        lines.append(LogLine(e.at, e.actor, e.trigger, ui(action),
                             ui(e.from_label or e.from_state) if e.from_state else None,
                             ui(e.to_label or e.to_state), e.to_step, e.comment))
    return lines


__all__ = ["Fix", "LogLine", "Move", "is_forward", "log_lines", "next_moves"]
