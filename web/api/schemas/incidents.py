"""Schemas of what incident tools send and read: failures of items recorded from incidents (not
changes: a failure record edits nothing in the register), and the incident reference an RFC from
INC carries."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from usm.services import incidents
from web.api.schemas.common import Body, Cursor, Limit, Moment, Query

IncidentReference = Annotated[str, StringConstraints(
    strip_whitespace=True, pattern=f"^{incidents.INCIDENT_REFERENCE.pattern}$"), Field(
    description=f"the incident tool's reference: {incidents.INCIDENT_REFERENCE_RULE}",
    examples=["INC-2026-0042"])]
Outcome = Literal[incidents.OUTCOMES]  # type: ignore[valid-type]


class RecordFailure(Body):
    """A failure of the item as the incident recorded it."""

    at: Moment = Field(description="when the item failed: not in the future, not before the "
                                   "item was first registered")
    incident_reference: IncidentReference
    outcome: Outcome = Field(description="replaced (a spare took its place) or repaired")
    note: Annotated[str, StringConstraints(max_length=incidents.MAX_NOTE)] | None = None


class FailureOut(BaseModel):
    id: int
    item_key: str
    item_name: str | None = Field(description="the item's name now")
    at: datetime = Field(description="when the item failed")
    incident_reference: str
    outcome: str
    note: str | None
    recorded_by: str
    recorded_at: datetime


class FailureList(BaseModel):
    failures: list[FailureOut] = Field(description="newest failure first")


class FailuresQuery(Query):
    start: Moment | None = Field(None, alias="from", description="failures at or after this "
                                                                  "moment")
    end: Moment | None = Field(None, alias="to", description="failures at or before this moment "
                                                             "(a day alone: its first moment)")
    class_code: Annotated[str, StringConstraints(max_length=64)] | None = Field(
        None, alias="class", description="items of this class, subclasses included")
    limit: Limit = 100
    cursor: Cursor | None = None


class FailurePage(BaseModel):
    failures: list[FailureOut] = Field(description="newest record first")
    next: str | None
