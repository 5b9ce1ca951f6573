"""The fixed CHM skeleton: seven steps every change passes in this order, and how a change ends.

Change models (workflow definitions) map their states onto these steps; the engine refuses a model
that breaks the order. This module is the one place the skeleton is written down.
"""

from __future__ import annotations

from enum import StrEnum


class Step(StrEnum):
    REGISTRATION = "registration"
    ASSESSMENT = "assessment"
    AUTHORISATION = "authorisation"
    PLANNING = "planning"
    REALISATION = "realisation"
    IMPLEMENTATION = "implementation"
    EVALUATION = "evaluation"
    # Final outcomes: not steps a change works in, but where it ends.
    CLOSED = "closed"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


SKELETON: tuple[Step, ...] = (
    Step.REGISTRATION,
    Step.ASSESSMENT,
    Step.AUTHORISATION,
    Step.PLANNING,
    Step.REALISATION,
    Step.IMPLEMENTATION,
    Step.EVALUATION,
)
FINAL: tuple[Step, ...] = (Step.CLOSED, Step.REJECTED, Step.WITHDRAWN)
STEP_LABELS: dict[Step, str] = {
    Step.REGISTRATION: "Registration",
    Step.ASSESSMENT: "Assessment",
    Step.AUTHORISATION: "Authorisation",
    Step.PLANNING: "Planning",
    Step.REALISATION: "Realisation",
    Step.IMPLEMENTATION: "Implementation",
    Step.EVALUATION: "Evaluation",
    Step.CLOSED: "Closed",
    Step.REJECTED: "Rejected",
    Step.WITHDRAWN: "Withdrawn",
}


def position(step: Step) -> int:
    """Index of a working step in the skeleton; final outcomes sort after all steps."""
    return SKELETON.index(step) if step in SKELETON else len(SKELETON)


def is_final(step: Step) -> bool:
    return step in FINAL


def allowed_move(source: Step, dest: Step) -> str | None:
    """Why a transition from a ``source`` step to a ``dest`` step breaks the skeleton, or None.

    Forward moves go one step at a time; a change may go back for rework before it is implemented;
    it can be rejected or withdrawn only before implementation, and is closed only after evaluation.
    """
    if source in FINAL:
        return f"{source} is a final outcome; nothing leaves it"
    if dest is Step.CLOSED:
        return None if source is Step.EVALUATION else "only evaluation may close a change"
    if dest in (Step.REJECTED, Step.WITHDRAWN):
        if position(source) >= position(Step.IMPLEMENTATION):
            return f"a change cannot be {dest} once it reached implementation"
        return None
    here, there = position(source), position(dest)
    if there > here + 1:
        skipped = ", ".join(SKELETON[here + 1: there])
        return f"skips {skipped}"
    if there < here and here >= position(Step.IMPLEMENTATION):
        return "an implemented change cannot go back; revert it with a follow-up change"
    return None


class ChangeClass(StrEnum):
    STANDARD = "standard"
    NORMAL = "normal"
    EMERGENCY = "emergency"


class ChangeSource(StrEnum):
    """Where an RFC comes from, in USM terms."""

    CUSTOMER = "customer"
    CTM = "ctm"
    INC = "inc"
    RIM = "rim"


ROLES: dict[str, str] = {
    "change_coordinator": "Change coordinator",
    "service_owner": "Service owner",
    "process_designer": "Process designer",
    "administrator": "Administrator",
}
