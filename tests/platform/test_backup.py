"""``usm backup`` / ``usm restore``: back up, change the register, restore, and the database is
exactly as it was at the backup, row for row, on SQLite and on PostgreSQL."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from bir.base import Base
from tests.support.helpers import at, implement_normal_change, laptop
from usm.cli import main
from usm.services import changes, register
from usm.services.platform import Database


def _usm(db_url: str, tmp_path: Path, *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), input=stdin, env={
        "USM_DATABASE_URL": db_url, "USM_INSTANCE_PATH": str(tmp_path / "instance")})


def _contents(db_url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order."""
    db = Database.connect(db_url)
    try:
        with db.reading() as session:
            return {table.name: sorted((tuple(row) for row in session.execute(select(table))),
                                       key=repr)
                    for table in Base.metadata.sorted_tables}
    finally:
        db.dispose()


def _needs_tools(db_url: str) -> None:
    if db_url.startswith("postgresql") and not (shutil.which("pg_dump")
                                                and shutil.which("pg_restore")):
        pytest.skip("pg_dump/pg_restore are not installed")


def test_backup_then_restore_gives_back_the_database_as_it_was(db_url: str,
                                                               tmp_path: Path) -> None:
    _needs_tools(db_url)
    db = Database.connect(db_url)
    implement_normal_change(db, [laptop("a", "SN-1", owner="alice")], at("2026-01-10"))
    open_key = changes.register_change(db, "carol", model="normal-change", title="Later",
                                       operations=[laptop("b", "SN-2")]).key
    saved = _contents(db_url)
    target = tmp_path / "usm.backup"

    made = _usm(db_url, tmp_path, "backup", str(target))
    assert made.exit_code == 0, made.output
    assert f"to {target}" in made.output and target.stat().st_size > 0

    implement_normal_change(db, [{"op": "update_item", "item": "LAP-000001", "owner": "bob"},
                                 laptop("c", "SN-3")], at("2026-02-10"))
    changes.add_comment(db, open_key, "carol", "after the backup")
    assert register.item_view(db, "LAP-000001").core["owner"] == "bob"
    db.dispose()
    assert _contents(db_url) != saved

    refused = _usm(db_url, tmp_path, "restore", str(target), stdin="n\n")
    assert refused.exit_code == 1 and "Aborted" in refused.output
    assert _contents(db_url) != saved, "nothing restored without confirmation"
    restored = _usm(db_url, tmp_path, "restore", str(target), "--yes")
    assert restored.exit_code == 0, restored.output

    assert _contents(db_url) == saved
    db = Database.connect(db_url)
    try:
        assert register.item_view(db, "LAP-000001").core["owner"] == "alice"
        assert len(register.item_history(db, "LAP-000001")) == 1
        # the restored database works on: keys go on from where the backup left them
        implement_normal_change(db, [laptop("d", "SN-4")], at("2026-03-10"))
        assert register.item_view(db, "LAP-000002").core["name"] == "Laptop SN-4"
    finally:
        db.dispose()


def test_backup_and_restore_refuse_what_they_cannot_do(sqlite_url: str, tmp_path: Path) -> None:
    existing = tmp_path / "taken.backup"
    existing.write_bytes(b"x")
    taken = _usm(sqlite_url, tmp_path, "backup", str(existing))
    assert taken.exit_code == 1 and "exists already; choose a new file name" in taken.output
    assert existing.read_bytes() == b"x"

    missing = _usm(sqlite_url, tmp_path, "restore", str(tmp_path / "nope"), "--yes")
    assert missing.exit_code == 1 and "no such backup file" in missing.output
    saved = _contents(sqlite_url)
    junk = _usm(sqlite_url, tmp_path, "restore", str(existing), "--yes")
    assert junk.exit_code == 1 and "no backup this tool made" in junk.output
    foreign = tmp_path / "pg.backup"
    foreign.write_bytes(b"PGDMP\x01\x0e\x00")
    wrong_kind = _usm(sqlite_url, tmp_path, "restore", str(foreign), "--yes")
    assert wrong_kind.exit_code == 1 and "not a SQLite backup" in wrong_kind.output
    assert _contents(sqlite_url) == saved
