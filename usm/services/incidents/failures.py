"""Failures recorded from incidents: an incident tool (or a coordinator) says item X failed at
moment M under incident I and was replaced or repaired.

A failure record changes no managed attribute of the item, so by USM's scope rule it is not a
change: it is stored directly (``usm.incidents``), with who recorded it and when. The repair or
replacement that follows goes through a change as every register edit does. The spares report
counts these records as the measured failures of a pool.

Refused by name: an unknown item (``NotFound``); a moment in the future or before the item was
first registered (``at``); a reference that is not one (``incident_reference``); an outcome other
than replaced or repaired (``outcome``); a note that is too long (``note``). The same item,
incident and outcome twice is a ``DuplicateFailure`` naming the first record (also when two
incident tools send it at the same moment: the table's unique constraint decides).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bir.base import utcnow
from bir.items import Item, ItemVersion
from usm.incidents import OUTCOMES, Failure
from usm.services.errors import Conflict, FieldError, Invalid, NotFound
from usm.services.platform import Database
from workflows.changes import incident_reference_problem

MAX_NOTE = 500
MAX_PAGE = 500


@dataclass(frozen=True)
class FailureView:
    id: int
    item_key: str
    item_name: str | None  # None for a key the register no longer knows
    at: datetime
    incident_reference: str
    outcome: str
    note: str | None
    recorded_by: str
    recorded_at: datetime


class DuplicateFailure(Conflict):
    """The item already has a failure recorded under this incident with this outcome."""

    def __init__(self, first: FailureView):
        self.first = first
        super().__init__(
            f"{first.item_key} already has a failure recorded under {first.incident_reference} "
            f"with the outcome {first.outcome}: record {first.id}, failed at "
            f"{first.at.isoformat()}, recorded by {first.recorded_by} at "
            f"{first.recorded_at.isoformat()}")


def _clean_key(key: str | None) -> str:
    text = (key or "").strip().upper()
    if not text or len(text) > 32:
        raise Invalid([FieldError("key", "name one item key (e.g. LAP-000042)")])
    return text


def _checked(at: datetime | None, incident_reference: str | None, outcome: str | None,
             note: str | None, now: datetime) -> tuple[datetime, str, str, str | None]:
    """The inputs, cleaned, or ``Invalid`` naming every one that cannot be used."""
    errors: list[FieldError] = []
    if at is None:
        errors.append(FieldError("at", "give the moment the item failed"))
    elif at.tzinfo is None:
        errors.append(FieldError("at", "give a time zone (e.g. 2026-03-01T20:00+01:00 or ...Z)"))
    elif at > now:
        errors.append(FieldError("at", "is in the future: give the moment the item failed"))
    reference = (incident_reference or "").strip()
    problem = incident_reference_problem(reference)
    if problem:
        errors.append(FieldError("incident_reference", problem))
    code = (outcome or "").strip().lower()
    if code not in OUTCOMES:
        errors.append(FieldError("outcome", f"must be one of {', '.join(OUTCOMES)}"))
    text = (note or "").strip() or None
    if text is not None and len(text) > MAX_NOTE:
        errors.append(FieldError("note", f"at most {MAX_NOTE} characters"))
    if errors:
        raise Invalid(errors)
    assert at is not None
    return at, reference, code, text


def _query() -> Select[tuple[Failure, str | None]]:
    return select(Failure, Item.name).outerjoin(Item, Item.key == Failure.item_key)


def _view(row: Failure, name: str | None) -> FailureView:
    return FailureView(row.id, row.item_key, name, row.at, row.incident_reference, row.outcome,
                       row.note, row.recorded_by, row.recorded_at)


def _first_record(session: Session, key: str, reference: str, outcome: str) -> FailureView | None:
    found = session.execute(_query().where(
        Failure.item_key == key, Failure.incident_reference == reference,
        Failure.outcome == outcome).order_by(Failure.id).limit(1)).first()
    return _view(*found) if found else None


def record_failure(db: Database, username: str, key: str, *, at: datetime | None,
                   incident_reference: str | None, outcome: str | None,
                   note: str | None = None, now: datetime | None = None) -> FailureView:
    """Record that the item ``key`` failed at ``at`` under ``incident_reference`` and was
    ``outcome`` (replaced or repaired). See the module for what is refused."""
    recorded_at = now or utcnow()
    item_key = _clean_key(key)
    failed_at, reference, code, text = _checked(at, incident_reference, outcome, note,
                                                recorded_at)
    with db.transaction() as session:
        item = session.execute(select(Item.key, Item.name).where(Item.key == item_key)).first()
        if item is None:
            raise NotFound(f"no item {item_key} in the register")
        first = session.scalar(select(func.min(ItemVersion.valid_from))
                               .where(ItemVersion.key == item_key))
        if first is not None and failed_at < first:
            raise Invalid([FieldError("at", f"is before {item_key} was first registered "
                                            f"({first.isoformat()})")])
        earlier = _first_record(session, item_key, reference, code)
        if earlier is not None:
            raise DuplicateFailure(earlier)
        row = Failure(item_key=item_key, at=failed_at, incident_reference=reference,
                      outcome=code, note=text, recorded_by=username, recorded_at=recorded_at)
        try:
            with session.begin_nested():
                session.add(row)
                session.flush()
        except IntegrityError:
            # Another caller recorded the same failure between the check and the insert.
            earlier = _first_record(session, item_key, reference, code)
            if earlier is None:
                raise
            raise DuplicateFailure(earlier) from None
        return _view(row, item.name)


def item_failures(db: Database, key: str, *, known_item: bool = False) -> list[FailureView]:
    """The failures recorded for one item, newest moment first; ``NotFound`` for no such item
    (not asked when the caller has just read the item: ``known_item``)."""
    item_key = _clean_key(key)
    with db.reading() as session:
        rows = session.execute(_query().where(Failure.item_key == item_key)
                               .order_by(Failure.at.desc(), Failure.id.desc())).all()
        if not rows and not known_item and session.scalar(
                select(Item.id).where(Item.key == item_key)) is None:
            raise NotFound(f"no item {item_key} in the register")
        return [_view(row, name) for row, name in rows]


def list_failures(db: Database, *, start: datetime | None = None, end: datetime | None = None,
                  class_code: str | None = None, limit: int = 100, after: int | None = None
                  ) -> list[FailureView]:
    """Failures that happened in ``[start, end]`` (either end open when None), of items of
    ``class_code`` (subclasses included) when given, newest record first; ``after`` continues
    from a record id (keyset pagination)."""
    if start is not None and end is not None and end < start:
        raise Invalid([FieldError("to", "is before from")])
    stmt = _query()
    if start is not None:
        stmt = stmt.where(Failure.at >= start)
    if end is not None:
        stmt = stmt.where(Failure.at <= end)
    code = (class_code or "").strip()
    if code:
        stmt = stmt.where(or_(Item.class_code == code, Item.class_code.like(f"{code}.%")))
    if after is not None:
        stmt = stmt.where(Failure.id < after)
    with db.reading() as session:
        rows = session.execute(stmt.order_by(Failure.id.desc())
                               .limit(max(1, min(limit, MAX_PAGE))))
        return [_view(row, name) for row, name in rows]
