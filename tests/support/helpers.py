"""Small builders shared by tests: moments in time and changes run through the engine."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event

from usm.services import changes
from usm.services.platform import Database


def at(day: str, hour: int = 9) -> datetime:
    """A UTC moment on an ISO day."""
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def laptop(ref: str, serial: str, **fields: Any) -> dict[str, Any]:
    op = {"op": "create_item", "ref": ref, "class": "hardware.laptop", "name": f"Laptop {serial}",
          "serial_number": serial}
    op.update(fields)
    return op


def implement_normal_change(db: Database, operations: list[dict[str, Any]], when: datetime,
                            title: str = "Test change") -> str:
    """Run a normal change from registration to implementation at ``when`` (steps an hour apart
    before it); return its key."""
    start = when - timedelta(hours=6)
    key = changes.register_change(db, "carol", model="normal-change", title=title,
                                  operations=operations, now=start).key
    changes.move_change(db, key, "assess", "carol", now=start + timedelta(hours=1))
    changes.update_change(db, key, "carol", {
        "risk": "low", "impact": "none", "planned_start": when - timedelta(hours=1),
        "planned_end": when + timedelta(hours=1)}, now=start + timedelta(hours=1, minutes=30))
    changes.move_change(db, key, "submit_for_approval", "carol", now=start + timedelta(hours=2))
    changes.approve_change(db, key, "sam", now=start + timedelta(hours=3))
    changes.move_change(db, key, "start_build", "carol", now=start + timedelta(hours=5))
    changes.move_change(db, key, "implement", "carol", now=when)
    return key


def to_realisation(db: Database, key: str, when: datetime) -> None:
    """Move a registered normal change through assessment and authorisation to realisation, a
    minute a step after ``when``; implementing it is left to the test."""
    changes.move_change(db, key, "assess", "carol", now=when + timedelta(minutes=1))
    changes.update_change(db, key, "carol", {
        "risk": "low", "impact": "none", "planned_start": when + timedelta(hours=1),
        "planned_end": when + timedelta(hours=2)}, now=when + timedelta(minutes=2))
    changes.move_change(db, key, "submit_for_approval", "carol", now=when + timedelta(minutes=3))
    changes.approve_change(db, key, "sam", now=when + timedelta(minutes=4))
    changes.move_change(db, key, "start_build", "carol", now=when + timedelta(minutes=6))


def normal_change_in_realisation(db: Database, operations: list[dict[str, Any]], when: datetime,
                                 title: str = "Test change") -> str:
    """Register a normal change at ``when`` and bring it to realisation; return its key."""
    key = changes.register_change(db, "carol", model="normal-change", title=title,
                                  operations=operations, now=when).key
    to_realisation(db, key, when)
    return key


@contextmanager
def counted(db: Database) -> Iterator[list[str]]:
    """The SQL statements sent while the block runs."""
    seen: list[str] = []

    def count(_conn: object, _cursor: object, sql: str, *_rest: object) -> None:
        seen.append(sql)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def reference_values(db: Database, kind: str, *values: str | tuple[str, str]) -> None:
    """Set up reference data of ``kind`` as an administrator would: each value a code, or a
    (code, name) pair. Once a kind has values, change sets may set only those (issue 23)."""
    from usm.services import reference
    from usm.services.audit_log import Origin

    for value in values:
        code, name = value if isinstance(value, tuple) else (value, value)
        reference.add_value(db, Origin("ada"), kind, code, name)
