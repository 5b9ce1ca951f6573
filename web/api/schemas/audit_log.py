"""Schemas of the audit log (administrators only)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from usm.services.audit_log import ACTIONS
from web.api.schemas.audit import ExportFormat
from web.api.schemas.common import Cursor, Query

ActionCode = Literal[tuple(ACTIONS)]  # type: ignore[valid-type]
# A day (the whole day for "to") or a moment, read as the screens read it; a bad one is a 422.
MomentText = Annotated[str, StringConstraints(max_length=40)]


class AuditFilters(Query):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    actor: Annotated[str, StringConstraints(max_length=64)] | None = Field(
        None, description="a user name: what they did, and what was done as them")
    action: ActionCode | None = Field(None, description="one action code")
    from_: MomentText | None = Field(None, alias="from", description="from this day or moment "
                                                                     "(UTC unless an offset)")
    to: MomentText | None = Field(None, description="up to this moment, or to the end of this "
                                                    "day")


class AuditLogQuery(AuditFilters):
    limit: Annotated[int, Field(ge=1, le=500, description="page size, 1..500")] = 100
    cursor: Cursor | None = None


class AuditExportQuery(AuditFilters):
    format: ExportFormat = Field("csv", description="csv (UTF-8 with BOM) or xlsx")


class AuditEntryOut(BaseModel):
    id: int
    at: datetime
    actor: str | None = Field(description="who acted (for a failed sign-in: the name as typed)")
    acting_as: str | None = Field(description="the user the actor acted as, when not themselves")
    action: str
    target: str | None
    details: dict[str, Any]
    address: str | None
    via: Literal["web", "api", "cli"]


class AuditLogPage(BaseModel):
    entries: list[AuditEntryOut]
    next: str | None
