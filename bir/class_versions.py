"""Versions of an item class, as process designers edit them: drafts, the published version and
the versions it replaced. ``bir_item_class`` stays the projection of each class's published
version, which is what the register reads; this table is the design history behind it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from bir.base import Base, JSONType, UTCDateTime, utcnow

# draft: editable; published: the class as the register uses it (one per class);
# superseded: a published version a newer one replaced; retired: withdrawn, kept as history.
CLASS_VERSION_STATUSES = ("draft", "published", "superseded", "retired")


class ItemClassVersion(Base):
    """One version of a class's definition (the ``ClassSpec`` as JSON). Only a draft changes."""

    __tablename__ = "bir_item_class_version"
    __table_args__ = (UniqueConstraint("code", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    spec: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def former_attribute_labels(session: Session, codes: list[str]) -> dict[str, str]:
    """Labels that earlier versions of these classes gave their attributes (newest wins), so a
    value whose attribute was removed from the class can still be named as it was."""
    labels: dict[str, str] = {}
    rows = session.scalars(select(ItemClassVersion.spec)
                           .where(ItemClassVersion.code.in_(codes),
                                  ItemClassVersion.status.in_(("published", "superseded",
                                                               "retired")))
                           .order_by(ItemClassVersion.version))
    for spec in rows:
        for attribute in spec.get("attributes") or []:
            if isinstance(attribute, dict) and attribute.get("name"):
                labels[attribute["name"]] = attribute.get("label") or attribute["name"]
    return labels
