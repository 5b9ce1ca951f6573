"""Crash atomicity: a fault at any statement of an implementation or of an import acceptance, or
the process killed (-9) during an implementation or an import, leaves the database exactly as it
was (no half-applied change set, no orphan history rows, the change still in its previous step and
version), and the same action succeeds when retried.

The fault is injected before the k-th SQL statement, for every k until the action gets through
without reaching it, so every statement the action issues is covered, on SQLite and PostgreSQL."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, event, select

from tests.support.helpers import at, implement_normal_change, laptop, normal_change_in_realisation
from usm.services import changes, register
from usm.services.audit import reconcile_file, register_correction
from usm.services.platform import Database


class InjectedFault(RuntimeError):
    """Stands for the process dying (or the connection dropping) mid-action."""


@contextmanager
def fault_before_statement(db: Database, k: int) -> Iterator[list[int]]:
    """Raise ``InjectedFault`` instead of running the k-th statement (1-based); yields a counter
    of the statements seen."""
    seen = [0]

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen[0] += 1
        if seen[0] == k:
            raise InjectedFault(f"injected before statement {k}: {statement[:60]}")

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", before)


def snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in primary-key order."""
    metadata = MetaData()
    metadata.reflect(db.engine)
    with db.engine.connect() as conn:
        return {table.name: [tuple(row) for row in conn.execute(
            select(table).order_by(*(table.primary_key.columns or table.columns)))]
            for table in metadata.sorted_tables}


def _caused_by_fault(exc: BaseException | None) -> bool:
    while exc is not None:
        if isinstance(exc, InjectedFault):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def crash_everywhere(db: Database, action: Callable[[], Any],
                     unchanged: Callable[[], None]) -> tuple[int, Any]:
    """Run ``action`` with a fault before statement 1, 2, ... until it completes; after each
    fault the whole database must equal the snapshot taken before, and ``unchanged`` holds.
    Returns the statements covered and the action's result on the clean run."""
    before = snapshot(db)
    k = 1
    while True:
        with fault_before_statement(db, k) as seen:
            try:
                result = action()
            except Exception as exc:  # noqa: BLE001 - any error is fine, if it was our fault
                assert _caused_by_fault(exc), f"fault {k}: unexpected {exc!r}"
            else:
                assert seen[0] < k, f"fault {k} was swallowed and the action went on"
                return k - 1, result
        assert snapshot(db) == before, f"the database changed after a fault at statement {k}"
        unchanged()
        k += 1
        assert k < 500, "the action never completed"


def test_a_fault_at_any_statement_of_an_implementation_writes_nothing(db: Database) -> None:
    implement_normal_change(db, [laptop("a", "SN-1", owner="alice"),
                                 {"op": "create_item", "ref": "dock", "class": "hardware.laptop",
                                  "name": "Dock laptop", "serial_number": "SN-2"}],
                            at("2026-01-10"))
    key = normal_change_in_realisation(db, [
        {"op": "update_item", "item": "LAP-000001", "owner": "bob", "location": "HQ"},
        {"op": "set_status", "item": "LAP-000002", "status": "retired"},
        laptop("new", "SN-3"),
        {"op": "add_relation", "kind": "connected_to", "source": "@new", "target": "LAP-000001"},
    ], at("2026-02-01"))
    planned = changes.change_detail(db, key).summary
    history = len(register.item_history(db, "LAP-000001"))

    def still_planned() -> None:
        summary = changes.change_detail(db, key).summary
        assert (summary.state, summary.step, summary.version) == \
            (planned.state, planned.step, planned.version)
        assert summary.step == "realisation"
        assert register.item_view(db, "LAP-000001").core["owner"] == "alice"
        assert len(register.item_history(db, "LAP-000001")) == history

    covered, _ = crash_everywhere(
        db, lambda: changes.move_change(db, key, "implement", "carol", now=at("2026-03-01")),
        still_planned)

    print(f"implementation: faults injected before each of {covered} statements")
    assert covered >= 10, covered
    done = changes.change_detail(db, key).summary
    assert done.step == "implementation"
    view = register.item_view(db, "LAP-000001")
    assert (view.core["owner"], view.core["location"]) == ("bob", "HQ")
    assert len(register.item_history(db, "LAP-000001")) == history + 1
    assert register.item_view(db, "LAP-000002").core["status"] == "retired"
    assert register.item_view(db, "LAP-000003").core["name"] == "Laptop SN-3"


def test_a_fault_at_any_statement_of_an_import_acceptance_registers_nothing(
        db: Database, tmp_path: Path) -> None:
    implement_normal_change(db, [laptop("a", "SN-1", owner="alice")], at("2026-01-10"))
    path = tmp_path / "found.csv"
    path.write_text("class,name,serial_number,owner\nhardware.laptop,Laptop SN-1,SN-1,bob\n"
                    "hardware.laptop,Found one,SN-9,carol\n", encoding="utf-8")
    rec = reconcile_file(db, path, "csv")
    assert len(rec.differences) == 2

    def no_correction() -> None:
        assert [c.model for c in changes.list_changes(db, open_only=False)] == ["normal-change"]

    covered, summary = crash_everywhere(
        db, lambda: register_correction(db, "carol", rec, [d.id for d in rec.differences]),
        no_correction)

    print(f"import acceptance: faults injected before each of {covered} statements")
    assert covered >= 3, covered
    assert summary.model == "audit-correction"
    assert len(changes.list_changes(db, open_only=False)) == 2
    assert register.item_view(db, "LAP-000001").core["owner"] == "alice", \
        "accepting registers a change; the register changes only when it is implemented"


@pytest.mark.parametrize("k", [1, 2])
def test_the_fault_counter_sees_the_statements(db: Database, k: int) -> None:
    """The harness itself: a fault really stops a service call."""
    with fault_before_statement(db, k), pytest.raises(Exception) as failed:  # noqa: PT011
        changes.list_changes(db, open_only=False)
        changes.list_changes(db, open_only=False)
    assert _caused_by_fault(failed.value)


# -- kill -9: the process dies mid-action ------------------------------------------------------

KILL_AT = """
import os, signal, sys
from sqlalchemy import event
from usm.services.platform import Database

url, k = sys.argv[1], int(sys.argv[2])
db = Database.connect(url)
seen = [0]

def die(*args):
    os.kill(os.getpid(), signal.SIGKILL)

def count(*args):
    seen[0] += 1
    if seen[0] == k:
        die()

event.listen(db.engine, "before_cursor_execute", count)
"""

# k past the last statement: the process dies just before COMMIT.
KILLER = KILL_AT + """
from datetime import UTC, datetime
from usm.services import changes
event.listen(db.engine, "commit", die)
changes.move_change(db, sys.argv[3], "implement", "carol", now=datetime(2026, 3, 1, 9, tzinfo=UTC))
"""

# The whole of ``usm import FILE --accept``: reading and reconciling, then registering the change.
IMPORT_KILLER = KILL_AT + """
from pathlib import Path
from usm.services.audit import reconcile_file, register_correction
rec = reconcile_file(db, Path(sys.argv[3]), "csv")
event.listen(db.engine, "commit", die)
register_correction(db, "carol", rec, [d.id for d in rec.differences])
"""


def _killed(script: str, *args: str) -> None:
    process = subprocess.run([sys.executable, "-c", script, *args],
                             capture_output=True, text=True, timeout=120)
    assert process.returncode == -signal.SIGKILL, process.stderr


@pytest.mark.parametrize("k", [1, 8, 16, 10_000], ids=["first", "early", "late", "before-commit"])
def test_kill_9_during_an_implementation_leaves_it_unimplemented(db: Database, db_url: str,
                                                                 k: int) -> None:
    implement_normal_change(db, [laptop("a", "SN-1", owner="alice")], at("2026-01-10"))
    key = normal_change_in_realisation(db, [
        {"op": "update_item", "item": "LAP-000001", "owner": "bob"}, laptop("new", "SN-3"),
    ], at("2026-02-01"))
    planned = changes.change_detail(db, key).summary
    db.dispose()
    before = snapshot(db)

    _killed(KILLER, db_url, str(k), key)

    assert snapshot(db) == before
    summary = changes.change_detail(db, key).summary
    assert (summary.step, summary.version) == ("realisation", planned.version)
    changes.move_change(db, key, "implement", "carol", now=at("2026-03-02"))
    assert register.item_view(db, "LAP-000001").core["owner"] == "bob"
    assert changes.change_detail(db, key).summary.step == "implementation"


# Of its 13 (PostgreSQL) to 15 (SQLite) statements: 1-4 read and reconcile the file, 5-11 register
# the change (reads), 12 on are its INSERTs.
@pytest.mark.parametrize("k", [1, 3, 7, 12, 10_000],
                         ids=["reading", "reconciling", "registering", "inserting",
                              "before-commit"])
def test_kill_9_during_an_import_registers_nothing(db: Database, db_url: str, tmp_path: Path,
                                                   k: int) -> None:
    implement_normal_change(db, [laptop("a", "SN-1", owner="alice")], at("2026-01-10"))
    path = tmp_path / "found.csv"
    path.write_text("class,name,serial_number,owner\nhardware.laptop,Laptop SN-1,SN-1,bob\n"
                    + "".join(f"hardware.laptop,Found {n},SN-F{n},carol\n" for n in range(200)),
                    encoding="utf-8")
    db.dispose()
    before = snapshot(db)

    _killed(IMPORT_KILLER, db_url, str(k), str(path))

    assert snapshot(db) == before
    assert [c.model for c in changes.list_changes(db, open_only=False)] == ["normal-change"]
    rec = reconcile_file(db, path, "csv")
    summary = register_correction(db, "carol", rec, [d.id for d in rec.differences])
    assert summary.model == "audit-correction"
    assert len(rec.differences) == 201
    assert register.item_view(db, "LAP-000001").core["owner"] == "alice"
