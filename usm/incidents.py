"""Failures of items as incident management (USM's INC) reports them: which item failed when, under
which incident, and whether it was replaced or repaired.

A failure record is incident data, not a register edit: it changes no managed attribute of the
item (status, owner, location stay as the register has them), so by USM's scope rule it is not a
change and is stored here directly, with who recorded it and when. The replacement or repair that
follows is a change as always. The spares report counts these rows as measured failures.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bir.base import Base, UTCDateTime

OUTCOMES = ("replaced", "repaired")


class Failure(Base):
    """One failure of one item, as an incident recorded it."""

    __tablename__ = "inc_failure"
    __table_args__ = (
        # The same incident reporting the same outcome for the same item twice is one failure.
        UniqueConstraint("item_key", "incident_reference", "outcome"),
        Index("ix_inc_failure_item", "item_key", "at"),
        Index("ix_inc_failure_at", "at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_key: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime)  # when the item failed
    incident_reference: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(8))  # replaced / repaired
    note: Mapped[str | None] = mapped_column(String(500))
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
