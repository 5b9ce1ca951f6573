"""The audit log: who did what to the product's access and data beyond the change log (sign-ins
and their failures, sessions ended, tokens made, used and revoked, users and roles changed,
settings, exports of the register).

Each row is written in the same transaction as what it records, so an action without its row (or
a row without its action) cannot be committed. Rows are never changed or pruned.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from bir.base import Base, JSONType, UTCDateTime


class AuditEntry(Base):
    __tablename__ = "usm_audit_log"
    __table_args__ = (
        Index("ix_usm_audit_log_actor", "actor", "id"),
        Index("ix_usm_audit_log_action", "action", "id"),
        Index("ix_usm_audit_log_acting_as", "acting_as", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # The person who acted (a user name; for a failed sign-in the name as typed); None when
    # nobody is known, e.g. a command run without --as.
    actor: Mapped[str | None] = mapped_column(String(64))
    # The user the actor acted as, when not themselves: an administrator's token for another user
    # (only where the deployment allows it, USM_ALLOW_ACT_AS).
    acting_as: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(48))
    # What the action was about: a user name, a token, an export's path.
    target: Mapped[str | None] = mapped_column(String(300))
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    address: Mapped[str | None] = mapped_column(String(64))
    via: Mapped[str] = mapped_column(String(8))  # web, api or cli
