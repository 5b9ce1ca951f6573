"""Check-outs and reservations: who has an item (a person, a location, another item) until when,
and who has booked it for which days.

A check-out row is the chore's own record beside the change that registers it: the register
(owner, status, location, relation) changes only when that change is implemented, so a row
counts as *out* only from then on (see ``usm.services.checkouts``). A reservation changes no
managed attribute, so it is not a change and is stored here directly.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from bir.base import Base, UTCDateTime


class Checkout(Base):
    """One item handed out by one check-out change, and (once registered) the change that
    takes it back."""

    __tablename__ = "usm_checkout"
    __table_args__ = (
        Index("ix_usm_checkout_item", "item_key", "id"),
        Index("ix_usm_checkout_due", "expected_return"),
        Index("ix_usm_checkout_created_by", "created_by", "expected_return"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_key: Mapped[str] = mapped_column(String(32))
    change_id: Mapped[int] = mapped_column(ForeignKey("chm_change.id"), index=True)
    change_key: Mapped[str] = mapped_column(String(16))
    # person, location or item; ``assignee`` is the person's name, the location, the item's key.
    assignee_kind: Mapped[str] = mapped_column(String(8))
    assignee: Mapped[str] = mapped_column(String(120))
    checked_out_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expected_return: Mapped[date | None] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(64))
    # The check-in change, once one is registered (None while the item is out).
    checkin_change_id: Mapped[int | None] = mapped_column(ForeignKey("chm_change.id"),
                                                          index=True)
    checkin_change_key: Mapped[str | None] = mapped_column(String(16))
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_in_by: Mapped[str | None] = mapped_column(String(64))


class Reservation(Base):
    """An item booked for a person for whole days, ``starts_on`` to ``ends_on`` inclusive."""

    __tablename__ = "usm_reservation"
    __table_args__ = (Index("ix_usm_reservation_item", "item_key", "starts_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_key: Mapped[str] = mapped_column(String(32))
    person: Mapped[str] = mapped_column(String(120))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by: Mapped[str | None] = mapped_column(String(64))
