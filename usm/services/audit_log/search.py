"""Reading the audit log: filtered pages (newest first, by keyset) and the whole filtered log as
a sheet for CSV or XLSX."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, or_, select

from usm.audit_log import AuditEntry
from usm.services.audit_log.entries import ACTIONS
from usm.services.cursors import decode_cursor, encode_cursor
from usm.services.platform import Database, Sheet
from usm.services.user_input import (
    DAY,
    InputError,
    day_end,
    parse_day,
    parse_moment,
    parse_whole,
)

PAGE_SIZE, MAX_PAGE = 100, 500
EXPORT_BATCH = 1000
FILTERS = ("actor", "action", "from", "to")


@dataclass(frozen=True)
class AuditQuery:
    """Which rows: by user (as actor or acted as), action code, and moment (``since`` inclusive,
    ``until`` inclusive); ``before`` is the id the previous page ended at."""

    actor: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    before: int | None = None
    limit: int = PAGE_SIZE


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: datetime
    actor: str | None
    acting_as: str | None
    action: str
    target: str | None
    details: dict[str, Any]
    address: str | None
    via: str


@dataclass(frozen=True)
class AuditPage:
    rows: list[AuditRow]
    next_cursor: str | None  # the cursor of the next (older) page; None on the last page


def audit_query(args: Mapping[str, str]) -> AuditQuery:
    """The query a form, the API or the CLI asks for: ``actor``, ``action`` (a code of
    ``ACTIONS``), ``from`` and ``to`` (a day, whole days included, or a moment), ``cursor`` and
    ``limit``. A value that cannot be used is an ``InputError`` naming it."""
    action = (args.get("action") or "").strip() or None
    if action is not None and action not in ACTIONS:
        raise InputError("action", f"unknown action {action[:48]!r}; known: {', '.join(ACTIONS)}")
    cursor = (args.get("cursor") or "").strip()
    return AuditQuery(
        actor=(args.get("actor") or "").strip().lower()[:64] or None, action=action,
        since=parse_moment(args.get("from"), "from"), until=_until(args.get("to")),
        before=_before(cursor) if cursor else None,
        limit=parse_whole(args.get("limit"), "limit", 1, MAX_PAGE, PAGE_SIZE))


def _until(text: str | None) -> datetime | None:
    if text is not None and DAY.fullmatch(text.strip()):
        return day_end(parse_day(text, "to"))  # the whole day "to" names
    return parse_moment(text, "to")


def _before(cursor: str) -> int:
    (before,) = decode_cursor(cursor, 1)
    if before is None or not before.isdigit():
        raise InputError("cursor", "not a page link of this list; start again from the first page")
    return int(before)


def _filtered(query: AuditQuery) -> Select[tuple[AuditEntry]]:
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc())
    if query.actor:
        stmt = stmt.where(or_(AuditEntry.actor == query.actor,
                              AuditEntry.acting_as == query.actor))
    if query.action:
        stmt = stmt.where(AuditEntry.action == query.action)
    if query.since:
        stmt = stmt.where(AuditEntry.at >= query.since)
    if query.until:
        stmt = stmt.where(AuditEntry.at <= query.until)
    return stmt


def _row(entry: AuditEntry) -> AuditRow:
    return AuditRow(entry.id, entry.at, entry.actor, entry.acting_as, entry.action, entry.target,
                    dict(entry.details or {}), entry.address, entry.via)


def audit_entries(db: Database, query: AuditQuery) -> AuditPage:
    """One page of the filtered log, newest first."""
    stmt = _filtered(query)
    if query.before is not None:
        stmt = stmt.where(AuditEntry.id < query.before)
    with db.reading() as session:
        rows = [_row(e) for e in session.scalars(stmt.limit(query.limit + 1))]
    if len(rows) <= query.limit:
        return AuditPage(rows, None)
    shown = rows[:query.limit]
    return AuditPage(shown, encode_cursor(str(shown[-1].id)))


HEADERS = ("id", "at", "actor", "acting_as", "action", "target", "details", "address", "via")


def audit_sheet(db: Database, query: AuditQuery) -> Sheet:
    """The whole filtered log (every page), newest first, read in batches."""
    return Sheet("audit log", HEADERS, _sheet_rows(db, query))


def _sheet_rows(db: Database, query: AuditQuery) -> Iterator[list[Any]]:
    before = query.before
    while True:
        page = audit_entries(db, AuditQuery(query.actor, query.action, query.since, query.until,
                                            before, EXPORT_BATCH))
        for row in page.rows:
            yield [row.id, row.at, row.actor, row.acting_as, row.action, row.target,
                   _details_text(row.details), row.address, row.via]
        if page.next_cursor is None:
            return
        before = page.rows[-1].id


def _details_text(details: dict[str, Any]) -> str:
    return json.dumps(details, sort_keys=True, ensure_ascii=False) if details else ""
