"""Writing the audit log: who acts (``Origin``), what the actions are called, and the one function
that adds a row to the caller's transaction."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bir.base import utcnow
from usm.audit_log import AuditEntry
from usm.services.platform import Database

WEB, API, CLI = "web", "api", "cli"

# Every action the log records, by code, with what it means. The codes are stable: filters, the
# API and exports use them; the screens show a label per code.
ACTIONS = {
    "sign_in": "signed in",
    "sign_in.failed": "sign-in failed (unknown user name or wrong password)",
    "sign_in.throttled": "sign-in refused: too many failed attempts",
    "sign_out": "signed out",
    "sessions.ended": "signed out everywhere (every session of the user ended)",
    "token.created": "API token made",
    "token.used": "API token used (at most once a minute per token)",
    "token.revoked": "API token revoked",
    "user.created": "user created",
    "user.renamed": "display name changed",
    "user.roles_changed": "roles changed",
    "user.deactivated": "user deactivated (sessions ended, tokens revoked)",
    "user.activated": "user activated again",
    "user.password_reset": "password reset (sessions ended, tokens revoked)",
    "user.password_changed": "own password changed (the user's other sessions ended)",
    "settings.language": "interface language changed",
    "export": "file exported",
    "act_as": "written through an administrator's token for another user",
    "reference.created": "reference value added (person, location or cost centre)",
    "reference.renamed": "reference value renamed (its code stays)",
    "reference.linked": "reference value linked to a user or building item",
    "reference.retired": "reference value retired",
    "reference.activated": "reference value reactivated",
    "reference.merged": "reference value merged into another (its items moved by a change)",
}
NAME_MAX, TARGET_MAX, ADDRESS_MAX = 64, 300, 64


@dataclass(frozen=True)
class Origin:
    """Who acts, as whom, from where and through which door: what every audit row records.

    ``actor`` is the person (for a failed sign-in, the name as typed; None when unknown, e.g. a
    command run without ``--as``). ``acting_as`` is the user they act as when that is someone
    else: an administrator's token made for another user, where the deployment allows it.
    """

    actor: str | None
    acting_as: str | None = None
    address: str | None = None
    via: str = CLI

    def but(self, **changes: Any) -> Origin:
        return replace(self, **changes)


def record(session: Session, origin: Origin, action: str, target: str | None = None,
           details: Mapping[str, Any] | None = None, *, at: datetime | None = None) -> None:
    """Add a row to ``session``'s transaction: it commits with what it records, or not at all."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    session.add(AuditEntry(
        at=at or utcnow(), actor=_cut(origin.actor, NAME_MAX),
        acting_as=_cut(origin.acting_as, NAME_MAX), action=action,
        target=_cut(target, TARGET_MAX), details=dict(details or {}),
        address=_cut(origin.address, ADDRESS_MAX), via=origin.via))


def record_export(db: Database, origin: Origin, target: str, details: Mapping[str, Any]) -> None:
    """Record a file exported (an export reads, so the row has a transaction of its own, written
    before the file is handed out)."""
    with db.transaction() as session:
        record(session, origin, "export", target, details)


def _cut(text: str | None, limit: int) -> str | None:
    return None if text is None else text[:limit]
