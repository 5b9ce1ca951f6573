"""Tables of the change process: definitions (change models), changes, their change sets, approvals
and step log."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint, inspect, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from bir.base import Base, JSONType, Money, UTCDateTime, utcnow


class ChangeModel(Base):
    """One version of a change model. A published version never changes; editing makes a new one.

    The table keeps its first name (``chm_definition``, as the class does): renaming it would be a
    migration of every foreign key for a word."""

    __tablename__ = "chm_definition"
    __table_args__ = (UniqueConstraint("code", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(48), index=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(120))
    change_class: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="published")  # draft/published/retired
    source: Mapped[str] = mapped_column(Text)  # the YAML as the designer wrote it
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(64))  # None: installed or before 0007


class Change(Base):
    """A request for change (RFC) and its way through the CHM steps."""

    __tablename__ = "chm_change"
    __table_args__ = (
        Index("ix_chm_change_step", "step", "id"),
        Index("ix_chm_change_coordinator", "coordinator", "id"),
        Index("ix_chm_change_incident_reference", "incident_reference", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(16), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16))
    # The incident an RFC from INC recovers from, as the incident tool names it (INC-2026-0042):
    # required for source inc, absent otherwise; several changes may share one.
    incident_reference: Mapped[str | None] = mapped_column(String(64))
    definition_id: Mapped[int] = mapped_column(ForeignKey("chm_definition.id"), index=True)
    change_class: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(48))
    step: Mapped[str] = mapped_column(String(16))
    requester: Mapped[str] = mapped_column(String(64))
    coordinator: Mapped[str | None] = mapped_column(String(64))
    risk: Mapped[str | None] = mapped_column(String(8))
    impact: Mapped[str | None] = mapped_column(Text)
    cost_estimate: Mapped[Decimal | None] = mapped_column(Money)
    currency: Mapped[str | None] = mapped_column(String(3))
    # What the change set is worth per currency ({"EUR": "90000.00"}), kept when it is stored:
    # a cost guard weighs it beside the typed estimate without reading the operations.
    change_set_value: Mapped[dict[str, str] | None] = mapped_column(JSONType)
    planned_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    planned_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    services: Mapped[list[str]] = mapped_column(JSONType, default=list)
    outcome: Mapped[str | None] = mapped_column(String(16))
    # What the change was authorised with (risk, cost estimate and currency, change set value),
    # recorded when it leaves authorisation for planning; None before, and after it goes back.
    # Until implementation none of them may rise above it (workflows.authorisation).
    authorised: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    # Incremented each time the change re-enters authorisation, so old approvals stop counting.
    approval_round: Mapped[int] = mapped_column(Integer, default=1)
    fields: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    step_entered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    implemented_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Optimistic locking: two people moving the same change cannot both win.
    version: Mapped[int] = mapped_column(Integer)

    definition: Mapped[ChangeModel] = relationship(lazy="joined")
    # Loaded only when read (the change page, implementation): a baseline import's change holds
    # 100,000 operations, and every move of it must not read them all again (issue 8).
    operations: Mapped[list[ChangeOperation]] = relationship(
        order_by="ChangeOperation.seq", cascade="all, delete-orphan", lazy="select"
    )
    # Read only by the moves and pages that need them, not by every move of the change.
    approvals: Mapped[list[Approval]] = relationship(
        order_by="Approval.id", cascade="all, delete-orphan", lazy="select"
    )
    log: Mapped[list[StepLogEntry]] = relationship(
        order_by="StepLogEntry.id", cascade="all, delete-orphan", lazy="select"
    )

    __mapper_args__ = {"version_id_col": version}

    def current_approvals(self) -> list[Approval]:
        """Approvals given since the change last entered authorisation (a new round after rework)."""
        return [a for a in self.approvals if a.round == self.approval_round]

    def change_set(self) -> list[dict[str, Any]]:
        """The planned operations; read as plain payloads when not loaded yet (no ORM objects for
        the 100,000 operations of a baseline import)."""
        session = self._session_for_operations()
        if session is None:
            return [op.payload for op in self.operations]
        return list(session.scalars(
            select(ChangeOperation.payload).where(ChangeOperation.change_id == self.id)
            .order_by(ChangeOperation.seq)))

    def has_change_set(self) -> bool:
        """Whether any operation is planned; one row is enough to tell, not the whole set."""
        session = self._session_for_operations()
        if session is None:
            return bool(self.operations)
        return session.scalar(select(ChangeOperation.id)
                              .where(ChangeOperation.change_id == self.id).limit(1)) is not None

    def _session_for_operations(self) -> Session | None:
        """The session to query the operations with, or None when they are in memory already (a
        dry run's change, a new change, or a change set read before)."""
        state = inspect(self)
        if state.session is None or state.key is None or "operations" not in state.unloaded:
            return None
        return state.session


class ChangeOperation(Base):
    """One planned register edit of a change, applied at implementation."""

    __tablename__ = "chm_change_operation"
    __table_args__ = (UniqueConstraint("change_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    change_id: Mapped[int] = mapped_column(ForeignKey("chm_change.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    op: Mapped[str] = mapped_column(String(24))
    # The existing item this operation touches (None for a create): finds pending changes per item.
    item_key: Mapped[str | None] = mapped_column(String(32), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)


class Approval(Base):
    __tablename__ = "chm_approval"

    id: Mapped[int] = mapped_column(primary_key=True)
    change_id: Mapped[int] = mapped_column(ForeignKey("chm_change.id", ondelete="CASCADE"),
                                           index=True)
    round: Mapped[int] = mapped_column(Integer, default=1)
    approver: Mapped[str] = mapped_column(String(64))
    decision: Mapped[str] = mapped_column(String(16))  # approved / rejected
    comment: Mapped[str | None] = mapped_column(Text)
    automatic: Mapped[bool] = mapped_column(default=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class StepLogEntry(Base):
    """Who moved the change, when, from where to where, and why."""

    __tablename__ = "chm_step_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    change_id: Mapped[int] = mapped_column(ForeignKey("chm_change.id", ondelete="CASCADE"),
                                           index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    trigger: Mapped[str] = mapped_column(String(48))
    from_state: Mapped[str | None] = mapped_column(String(48))
    to_state: Mapped[str] = mapped_column(String(48))
    from_step: Mapped[str | None] = mapped_column(String(16))
    to_step: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str | None] = mapped_column(Text)


class ChangeComment(Base):
    """A remark on a change by anyone working on it; kept with the change, never edited."""

    __tablename__ = "chm_comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    change_id: Mapped[int] = mapped_column(ForeignKey("chm_change.id", ondelete="CASCADE"),
                                           index=True)
    author: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    body: Mapped[str] = mapped_column(Text)


def money_by_currency(value: dict[str, str] | None) -> dict[str, Decimal]:
    """A stored ``change_set_value`` as amounts."""
    return {currency: Decimal(amount) for currency, amount in (value or {}).items()}
