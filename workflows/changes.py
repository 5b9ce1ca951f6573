"""Registering changes and editing what they say, before the engine moves them.

Registration applies USM's scope rule: a request that touches no managed component is an operational
service request (OPS), not a change; a request for a service that is not agreed is recorded as
rejected until the agreement is changed (CTM).
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    StringConstraints,
    ValidationError,
    field_validator,
)
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bir.base import to_money, utcnow
from bir.bulk import insert_rows
from bir.changeset import change_set_value, plan_change_set
from bir.classes import ItemClass
from bir.errors import FieldError, Invalid, ValidationFailed
from bir.keys import reserve_keys
from bir.queries import items_by_key
from bir.vocabulary import LifecycleStatus
from workflows.authorisation import beyond_authorisation
from workflows.change_model import ChangeModelError, ChangeModelSpec, parse_change_model
from workflows.engine import Actor, ChangeConflict, ChangeError, compiled, move, run_automatic
from workflows.models import (
    Approval,
    Change,
    ChangeComment,
    ChangeModel,
    ChangeOperation,
    StepLogEntry,
)
from workflows.skeleton import FINAL, ChangeSource, Step

# While a change is still being registered and assessed its change set may be rewritten; from
# authorisation on, the approved change set is what gets implemented.
CHANGE_SET_EDITABLE = (Step.REGISTRATION, Step.ASSESSMENT)
COMMENT_MAX = 4000

Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]

# An incident tool's reference (INC-2026-0042, SD-123, 31001): URL-safe, so it can be a filter.
INCIDENT_REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._~-]{0,63}")
INCIDENT_REFERENCE_RULE = ("1 to 64 letters, digits, '-', '_', '.' or '~', starting with a "
                           "letter or digit (e.g. INC-2026-0042)")


def incident_reference_problem(value: str | None) -> str | None:
    """Why ``value`` (stripped) is not an incident reference, or None when it is one."""
    if not value:
        return "give the incident's reference"
    if not INCIDENT_REFERENCE.fullmatch(value):
        return f"must be {INCIDENT_REFERENCE_RULE}"
    return None


class NotAChange(Invalid):
    """The request touches nothing in the register: USM handles it as an OPS service request."""

    code = "not_a_change"
    field = "operations"

    def __init__(self, message: str):
        super().__init__([FieldError("operations", message)], message)


class ChangeDetails(BaseModel):
    """What a coordinator may fill in or correct on a change while it is open."""

    model_config = ConfigDict(extra="forbid")

    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3,
                                            max_length=200)] | None = None
    description: str | None = None
    reason: str | None = None
    coordinator: Short | None = None
    risk: Annotated[str, StringConstraints(pattern="^(low|medium|high)$")] | None = None
    impact: str | None = None
    cost_estimate: Decimal | None = None
    currency: Annotated[str, StringConstraints(pattern="^[A-Z]{3}$")] | None = None
    planned_start: datetime | None = None
    planned_end: datetime | None = None
    outcome: Annotated[str, StringConstraints(
        pattern="^(successful|partially_successful|failed)$")] | None = None
    fields: dict[str, Any] | None = None

    @field_validator("cost_estimate", mode="before")
    @classmethod
    def _money(cls, value: Any) -> Any:
        return None if value in (None, "") else to_money(value)

    @field_validator("planned_start", "planned_end")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("give a time zone (e.g. 2026-03-01T20:00+01:00 or ...Z)")
        return value


def _details(values: dict[str, Any]) -> dict[str, Any]:
    try:
        return ChangeDetails.model_validate(values).model_dump(exclude_unset=True)
    except ValidationError as exc:
        raise ValidationFailed([
            FieldError(".".join(str(p) for p in err["loc"]),
                       err["msg"].removeprefix("Value error, "))
            for err in exc.errors()
        ]) from exc


def latest_change_model(session: Session, code: str) -> ChangeModel:
    row = session.scalar(
        select(ChangeModel)
        .where(ChangeModel.code == code, ChangeModel.status == "published")
        .order_by(ChangeModel.version.desc())
        .limit(1)
    )
    if row is None:
        known = session.scalars(select(ChangeModel.code).distinct()).all()
        raise ValidationFailed([FieldError(
            "model", f"no published change model '{code}' (known: {', '.join(sorted(known))})")])
    return row


def register_change(
    session: Session,
    *,
    model: str,
    title: str,
    requester: Actor,
    operations: list[dict[str, Any]],
    source: str = ChangeSource.CUSTOMER.value,
    services: list[str] | None = None,
    now: datetime | None = None,
    incident_reference: str | None = None,
    **details: Any,
) -> Change:
    """Record an RFC under the latest published version of ``model``.

    Raises ``NotAChange`` for an empty change set and ``ValidationFailed`` for bad input; a request
    naming a service that is not agreed is stored, but rejected at once with that reason. An RFC
    from INC names the incident it recovers from (``incident_reference``); no other source does.
    """
    at = now or utcnow()
    row = latest_change_model(session, model)
    definition = compiled(row).definition
    errors: list[FieldError] = []
    if source not in set(ChangeSource):
        errors.append(FieldError("source", f"{source!r} is not one of "
                                 f"{', '.join(s.value for s in ChangeSource)}"))
    incident_reference = (incident_reference or "").strip() or None
    if source == ChangeSource.INC.value:
        problem = incident_reference_problem(incident_reference)
        if problem:
            errors.append(FieldError("incident_reference", problem))
    elif incident_reference is not None:
        errors.append(FieldError("incident_reference", "only a change from an incident (source "
                                                       "inc) names an incident reference"))
    try:
        clean = _details({"title": title, **details})
    except ValidationFailed as exc:  # named together with the change set's problems below
        errors.extend(exc.errors)
        clean = {}
    model_fields = {f.name for f in definition.fields}
    errors.extend(FieldError(f"fields.{name}", "is not a field of this change model")
                  for name in sorted(set(clean.get("fields") or {}) - model_fields))
    if not operations:
        message = ("this request touches no managed component or attribute in the register: it "
                   "is an operational service request (OPS), not a change")
        if errors:
            raise ValidationFailed([*errors, FieldError("operations", message)])
        raise NotAChange(message)
    try:
        planned = plan_change_set(
            session, operations,
            allowed_ops=frozenset(definition.change_set.operations),
            allowed_classes=tuple(definition.change_set.classes) if definition.change_set.classes
            else None,
        )
    except ValidationFailed as exc:
        errors.extend(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    services = [s.strip() for s in services or [] if s and s.strip()]
    change = Change(
        key=reserve_keys(session, "CHG")[0], source=source,
        incident_reference=incident_reference, definition_id=row.id,
        definition=row, change_class=row.change_class, state=definition.initial,
        step=definition.step_of(definition.initial).value, requester=requester.username,
        services=services, fields=clean.pop("fields", None) or {}, created_at=at,
        updated_at=at, step_entered_at=at, approval_round=1,
        change_set_value=_worth(session, planned), **clean,
    )
    change.log.append(StepLogEntry(at=at, actor=requester.username, trigger="register",
                                   from_state=None, to_state=change.state, from_step=None,
                                   to_step=change.step, comment=f"registered from {source}" + (
                                       f" (incident {incident_reference})"
                                       if incident_reference else "")))
    session.add(change)
    outside = _outside_agreed_services(session, services)
    if outside:
        _reject_at_registration(change, definition, at, outside)
    session.flush()
    _store_operations(session, change, planned)
    if not outside:
        run_automatic(session, change, at)
    return change


def _outside_agreed_services(session: Session, keys: list[str]) -> list[str]:
    found = items_by_key(session, keys)
    return [k for k in keys if k not in found or found[k].class_code != "service"
            or found[k].status != LifecycleStatus.IN_USE]


def _reject_at_registration(change: Change, definition: Any, at: datetime,
                            outside: list[str]) -> None:
    rejected = next(s for s in definition.states if s.step is Step.REJECTED)
    change.log.append(StepLogEntry(
        at=at, actor="system", trigger="reject", from_state=change.state, to_state=rejected.name,
        from_step=change.step, to_step=Step.REJECTED.value,
        comment=f"outside the agreed services ({', '.join(outside)}): agree the service in CTM "
                "first, then register the change again",
    ))
    change.state, change.step = rejected.name, Step.REJECTED.value
    change.closed_at = at


def update_details(session: Session, change: Change, actor: Actor, values: dict[str, Any], *,
                   expected_version: int | None = None, now: datetime | None = None) -> Change:
    """Fill in or correct a change's details (risk, window, cost, outcome, model fields)."""
    _check_version(change, expected_version)
    if Step(change.step) in FINAL:
        raise ChangeError(f"{change.key} is {change.step}; its details can no longer change")
    clean = _details(values)
    if "outcome" in clean and change.step != Step.EVALUATION:
        raise ValidationFailed([FieldError("outcome", "is recorded during evaluation")])
    definition = compiled(change.definition).definition
    model_fields = {f.name for f in definition.fields}
    extra = clean.pop("fields", None) or {}
    unknown = sorted(set(extra) - model_fields)
    if unknown:
        raise ValidationFailed([FieldError(f"fields.{n}", "is not a field of this change model")
                                for n in unknown])
    beyond = beyond_authorisation(change, definition, clean)
    if beyond:
        raise ValidationFailed(beyond)
    for name, value in clean.items():
        setattr(change, name, value)
    if extra:
        change.fields = {**(change.fields or {}), **extra}
    change.updated_at = now or utcnow()
    session.flush()
    return change


def _check_version(change: Change, expected_version: int | None) -> None:
    if expected_version is not None and change.version != expected_version:
        raise ChangeConflict(f"{change.key} was changed by someone else meanwhile; reload it")


def record_approval(session: Session, change: Change, actor: Actor, *, approve: bool,
                    comment: str | None = None, expected_version: int | None = None,
                    now: datetime | None = None) -> Approval:
    """An approver's decision in the current authorisation round."""
    _check_version(change, expected_version)
    definition = compiled(change.definition).definition
    if change.step != Step.AUTHORISATION:
        raise ChangeError(f"{change.key} is in {change.step}; approvals are given in authorisation")
    if not actor.holds_any(definition.approvers):
        raise ChangeError(f"only {', '.join(definition.approvers) or 'nobody'} may approve "
                          f"{definition.name} changes")
    if any(a.approver == actor.username for a in change.current_approvals()):
        raise ChangeError(f"{actor.username} already decided on {change.key} in this round")
    at = now or utcnow()
    approval = Approval(round=change.approval_round, approver=actor.username,
                        decision="approved" if approve else "rejected", comment=comment,
                        automatic=False, at=at)
    change.approvals.append(approval)
    change.updated_at = approval.at
    session.flush()
    if approve:
        # The last approval a guard waits for lets the model's automatic transition fire.
        run_automatic(session, change, at)
    else:
        _reject_as_the_model_says(session, change, actor, comment, at)
    return approval


def _reject_as_the_model_says(session: Session, change: Change, actor: Actor,
                              comment: str | None, at: datetime) -> None:
    """An approver's rejection ends the change where the model lets the approver reject it from
    here (one Reject, not a decision and then a move); otherwise it is recorded and the change
    waits for the coordinator."""
    workflow = compiled(change.definition)
    rejecting = next((t for t in workflow.definition.transitions_from(change.state)
                      if not t.auto and workflow.definition.step_of(t.dest) is Step.REJECTED
                      and not workflow.blocking_reasons(change, t, actor)), None)
    if rejecting is not None:
        move(session, change, rejecting.trigger, actor, comment=comment, now=at)


def replace_change_set(session: Session, change: Change, actor: Actor,
                       operations: list[dict[str, Any]], *, expected_version: int | None = None,
                       now: datetime | None = None) -> Change:
    """Replace the change set of a change still in registration or assessment, planned again
    against today's register within the change's own model.

    An operation the new set keeps unchanged keeps the ``base_version`` it was first planned on,
    so a register edit made meanwhile by another change still shows against it.
    """
    _check_version(change, expected_version)
    if Step(change.step) not in CHANGE_SET_EDITABLE:
        raise ChangeError(f"{change.key} is in {change.step}; its change set can be edited only in "
                          "registration or assessment")
    if not operations:
        raise NotAChange(
            "a change set with no register edits would make this an operational service request "
            "(OPS), not a change: withdraw the change instead"
        )
    definition = compiled(change.definition).definition
    planned = plan_change_set(
        session, operations,
        allowed_ops=frozenset(definition.change_set.operations),
        allowed_classes=tuple(definition.change_set.classes) if definition.change_set.classes
        else None,
    )
    earlier = {_unversioned(op): op["base_version"] for op in change.change_set()
               if "base_version" in op}
    for op in planned:
        if "base_version" in op and _unversioned(op) in earlier:
            op["base_version"] = earlier[_unversioned(op)]
    was = len(change.operations)
    # The old rows must be gone before the new ones take their (change, seq) places.
    session.execute(delete(ChangeOperation).where(ChangeOperation.change_id == change.id)
                    .execution_options(synchronize_session=False))
    _store_operations(session, change, planned)
    at = now or utcnow()
    change.updated_at = at
    change.change_set_value = _worth(session, planned)
    entry = StepLogEntry(
        at=at, actor=actor.username, trigger="edit_change_set", from_state=change.state,
        to_state=change.state, from_step=change.step, to_step=change.step,
        comment=f"change set replaced: {len(planned)} operation(s), was {was}")
    entry.change_id = change.id  # not through change.log, which would read the whole log first
    session.add(entry)
    session.flush()
    return change


def _unversioned(op: dict[str, Any]) -> str:
    return json.dumps({k: v for k, v in op.items() if k != "base_version"}, sort_keys=True,
                      default=str)


def add_comment(session: Session, change: Change, actor: Actor, body: str, *,
                now: datetime | None = None) -> ChangeComment:
    """A remark on the change; comments are kept as written and do not move or version it."""
    text = (body or "").strip()
    if not text:
        raise ValidationFailed([FieldError("body", "write something first")])
    if len(text) > COMMENT_MAX:
        raise ValidationFailed([FieldError("body", f"is longer than {COMMENT_MAX} characters "
                                                   f"({len(text)})")])
    comment = ChangeComment(change_id=change.id, author=actor.username, at=now or utcnow(),
                            body=text)
    session.add(comment)
    session.flush()
    return comment


def check_change_model(session: Session, source: str, *, where: str = "definition") -> ChangeModelSpec:
    """Parse ``source`` against the skeleton and the item classes this register knows;
    ``ChangeModelError`` lists every problem."""
    definition = parse_change_model(source, where=where)
    if definition.change_set.classes:
        known = set(session.scalars(select(ItemClass.code)))
        unknown = [c for c in definition.change_set.classes if c not in known]
        if unknown:
            raise ChangeModelError([f"change_set.classes: unknown item class(es) {', '.join(unknown)}"])
    return definition


def store_definition(session: Session, source: str, *, status: str = "published",
                     now: datetime | None = None) -> ChangeModel:
    """Store a definition version (validated); storing the same text again is a no-op, a different
    text under a published version number is refused: published versions are immutable."""
    definition = check_change_model(session, source)
    existing = session.scalar(select(ChangeModel).where(
        ChangeModel.code == definition.code,
        ChangeModel.version == definition.version))
    if existing is not None:
        if existing.source.strip() == source.strip():
            return existing
        raise ChangeError(f"{definition.code} v{definition.version} is already {existing.status} "
                          "with different content; give the new text a higher version")
    at = now or utcnow()
    row = ChangeModel(code=definition.code, version=definition.version,
                             name=definition.name, change_class=definition.change_class.value,
                             status=status, source=source,
                             published_at=at if status == "published" else None, created_at=at)
    session.add(row)
    session.flush()
    return row


def count_open_changes(session: Session) -> int:
    finals = [s.value for s in FINAL]
    return session.scalar(select(func.count(Change.id)).where(Change.step.not_in(finals))) or 0


def _store_operations(session: Session, change: Change, planned: list[dict[str, Any]]) -> None:
    """Store a planned change set in one go (a baseline import holds one operation per item);
    only registered items are indexed (an @ref is not a key)."""
    insert_rows(session, ChangeOperation.__table__, [
        {"change_id": change.id, "seq": i, "op": op["op"], "payload": op,
         "item_key": None if str(op.get("item", "@")).startswith("@") else op["item"]}
        for i, op in enumerate(planned)
    ])
    session.expire(change, ["operations"])


def _worth(session: Session, planned: list[dict[str, Any]]) -> dict[str, str]:
    """The change set's value as the change keeps it (``Change.change_set_value``)."""
    return {currency: f"{amount:.2f}"
            for currency, amount in sorted(change_set_value(session, planned).items())}
