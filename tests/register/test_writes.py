"""Every write to the register goes through a change: no back doors in the product code."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import pytest
from sqlalchemy import event, update

from bir.base import utcnow
from bir.items import Item
from bir.writer import RegisterWriteRefused
from tests.support.helpers import at, implement_normal_change, laptop
from usm.services import changes, register
from usm.services.platform import Database

REGISTER_TABLES = ("bir_item", "bir_item_version", "bir_relation")


@contextmanager
def register_writes(db: Database) -> Iterator[list[str]]:
    """Record every INSERT/UPDATE/DELETE the database receives for a register table."""
    seen: list[str] = []

    def spy(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        head = statement.lstrip().split(None, 3)
        verb = head[0].upper() if head else ""
        if verb in ("INSERT", "UPDATE", "DELETE") and any(t in statement for t in REGISTER_TABLES):
            seen.append(statement.split("\n")[0][:80])

    event.listen(db.engine, "before_cursor_execute", spy)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", spy)


def test_orm_write_outside_a_change_is_refused(db: Database) -> None:
    implement_normal_change(db, [laptop("a", "SN-1", owner="alice")], at("2026-01-10"))
    with pytest.raises(RegisterWriteRefused, match="only by implementing a change"):
        with db.transaction() as session:
            item = session.get(Item, 1)
            item.owner = "mallory"
    with pytest.raises(RegisterWriteRefused):
        with db.transaction() as session:
            session.add(Item(key="LAP-666666", class_code="hardware.laptop", name="x",
                             status="in_use", version=1, valid_from=utcnow(),
                             created_change_id=1, last_change_id=1, attributes={}))
    with pytest.raises(RegisterWriteRefused):
        with db.transaction() as session:
            session.execute(update(Item).values(owner="mallory"))
    assert register.item_view(db, "LAP-000001").core["owner"] == "alice"


def test_service_layer_writes_the_register_only_when_a_change_is_implemented(
    db: Database,
) -> None:
    """Drive every public write function of the service layer; only implementation writes."""
    public = {name for name, f in inspect.getmembers(changes, inspect.isfunction)
              if f.__module__.startswith(changes.__name__ + ".") and not name.startswith("_")}
    assert {"register_change", "move_change", "approve_change", "update_change"} <= public

    calls = [
        ("register_change", lambda: changes.register_change(
            db, "carol", model="normal-change", title="Receive one laptop",
            operations=[laptop("a", "SN-9", purchase_cost="10.00", currency="EUR")],
            now=at("2026-03-01"))),
        ("move_change assess", lambda: changes.move_change(
            db, "CHG-000001", "assess", "carol", now=at("2026-03-01", 10))),
        ("update_change", lambda: changes.update_change(
            db, "CHG-000001", "carol",
            {"risk": "low", "impact": "laptop", "planned_start": at("2026-03-02"),
             "planned_end": at("2026-03-02", 12), "fields": {}}, now=at("2026-03-01", 11))),
        ("move_change submit", lambda: changes.move_change(
            db, "CHG-000001", "submit_for_approval", "carol", now=at("2026-03-01", 12))),
        ("approve_change", lambda: changes.approve_change(
            db, "CHG-000001", "sam", now=at("2026-03-01", 13))),
        ("move_change build", lambda: changes.move_change(
            db, "CHG-000001", "start_build", "carol", now=at("2026-03-01", 15))),
        ("move_change implement", lambda: changes.move_change(
            db, "CHG-000001", "implement", "carol", now=at("2026-03-02", 10))),
        ("move_change evaluate", lambda: changes.move_change(
            db, "CHG-000001", "evaluate", "carol", now=at("2026-03-03"))),
        ("list_changes", lambda: changes.list_changes(db)),
        ("change_detail", lambda: changes.change_detail(db, "CHG-000001", "carol")),
    ]
    writes: dict[str, list[str]] = {}
    for label, call in calls:
        with register_writes(db) as seen:
            call()
        writes[label] = seen

    assert [label for label, seen in writes.items() if seen] == ["move_change implement"]
    view = register.item_view(db, "LAP-000001")
    assert view.configuration["serial_number"] == "SN-9"
    assert view.financial["acquired_on"] is None or isinstance(view.financial["acquired_on"], date)


def test_details_cannot_smuggle_register_edits(db: Database) -> None:
    implement_normal_change(db, [laptop("a", "SN-1", owner="alice")], at("2026-01-10"))
    key = changes.register_change(
        db, "carol", model="normal-change", title="Innocent change",
        operations=[{"op": "update_item", "item": "LAP-000001", "location": "Delft"}]).key
    from bir.errors import ValidationFailed

    with pytest.raises(ValidationFailed, match="owner"):
        changes.update_change(db, key, "carol", {"owner": "mallory"})
    assert register.item_view(db, "LAP-000001").core["owner"] == "alice"
