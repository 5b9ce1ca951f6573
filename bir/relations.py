"""Typed relations between items. A relation row is itself a version: it is valid from the change
that added it until the change that removed it, so relations can be read as of any moment too."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from bir.base import Base, JSONType, UTCDateTime


class Relation(Base):
    __tablename__ = "bir_relation"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    source_id: Mapped[int] = mapped_column(ForeignKey("bir_item.id"))
    target_id: Mapped[int] = mapped_column(ForeignKey("bir_item.id"))
    # e.g. {"share": "0.5"}: the part of the source's cost a supported service carries.
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_to: Mapped[datetime | None] = mapped_column(UTCDateTime)
    change_id: Mapped[int] = mapped_column(ForeignKey("chm_change.id"), index=True)
    ended_change_id: Mapped[int | None] = mapped_column(ForeignKey("chm_change.id"), index=True)

    __table_args__ = (
        Index("ix_bir_relation_source", "source_id", "valid_from"),
        Index("ix_bir_relation_target", "target_id", "valid_from"),
        Index(
            "uq_bir_relation_current",
            "kind",
            "source_id",
            "target_id",
            unique=True,
            sqlite_where=text("valid_to IS NULL"),
            postgresql_where=text("valid_to IS NULL"),
        ),
    )
