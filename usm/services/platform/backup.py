"""Backing up and restoring the whole database: the register with its history, the changes,
the change models, users and tokens, as one consistent copy.

SQLite uses its online backup API (a consistent copy while the app keeps running); PostgreSQL
uses ``pg_dump``/``pg_restore`` (custom format), which must be installed (package
``postgresql-client``). A restore replaces everything in the target database with the backup; it
is an operator's act on the whole database, not a register edit, so it bypasses no change: the
history it brings back is the history the changes wrote.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from usm.services.errors import Refused

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"
PG_TIMEOUT_SECONDS = 3600


class BackupError(Refused):
    """A backup or restore that cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class BackupReport:
    path: Path
    backend: str
    size: int
    revision: str | None  # the schema (Alembic) revision the copy holds


def backup_database(url: str, target: Path) -> BackupReport:
    """Copy the database at ``url`` into the new file ``target`` (never overwritten)."""
    parsed = make_url(url)
    if target.exists():
        raise BackupError(f"{target} exists already; choose a new file name")
    if not target.parent.is_dir():
        raise BackupError(f"{target.parent} is not a directory")
    if parsed.get_backend_name() == "sqlite":
        _sqlite_backup(_sqlite_path(parsed), target)
        revision = _sqlite_revision(target)
    elif parsed.get_backend_name() == "postgresql":
        _run(parsed, "pg_dump", ["--format=custom", "--no-owner", "--no-privileges",
                                 f"--file={target}"])
        revision = None
    else:
        raise BackupError(f"cannot back up a {parsed.get_backend_name()} database")
    return BackupReport(target, parsed.get_backend_name(), target.stat().st_size, revision)


def restore_database(url: str, source: Path) -> BackupReport:
    """Replace the contents of the database at ``url`` with the backup ``source``."""
    parsed = make_url(url)
    if not source.is_file():
        raise BackupError(f"{source}: no such backup file")
    kind = _backup_kind(source)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if kind != "sqlite":
            raise BackupError(f"{source} is {_describe(kind)}, not a SQLite backup: restore it "
                              "into a PostgreSQL database (USM_DATABASE_URL)")
        revision = _sqlite_revision(source)
        if revision is None:
            raise BackupError(f"{source} is a SQLite file but not a USM database backup "
                              "(it has no schema revision)")
        _sqlite_restore(source, _sqlite_path(parsed))
    elif backend == "postgresql":
        if kind != "postgresql":
            raise BackupError(f"{source} is {_describe(kind)}, not a pg_dump backup: restore it "
                              "into a SQLite database")
        _run(parsed, "pg_restore", ["--clean", "--if-exists", "--single-transaction",
                                    "--no-owner", "--no-privileges", str(source)])
        revision = None
    else:
        raise BackupError(f"cannot restore into a {backend} database")
    return BackupReport(source, backend, source.stat().st_size, revision)


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database has nothing to back up or restore")
    return Path(url.database)


def _sqlite_backup(live: Path, target: Path) -> None:
    if not live.is_file():
        raise BackupError(f"{live}: no such database file")
    source = sqlite3.connect(live, timeout=15)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
        # One self-contained file, whatever journal mode the live database uses.
        copy.execute("PRAGMA journal_mode=DELETE")
    finally:
        copy.close()
        source.close()


def _sqlite_restore(backup: Path, live: Path) -> None:
    source = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    target = sqlite3.connect(live, timeout=15)
    try:
        if source.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise BackupError(f"{backup} is damaged (integrity check failed); nothing restored")
        source.backup(target)
    finally:
        target.close()
        source.close()


def _sqlite_revision(path: Path) -> str | None:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError:
        return None
    finally:
        connection.close()
    return row[0] if row else None


def _backup_kind(path: Path) -> str | None:
    with path.open("rb") as handle:
        head = handle.read(len(SQLITE_MAGIC))
    if head == SQLITE_MAGIC:
        return "sqlite"
    if head.startswith(PG_DUMP_MAGIC):
        return "postgresql"
    return None


def _describe(kind: str | None) -> str:
    return {"sqlite": "a SQLite backup", "postgresql": "a pg_dump backup"}.get(
        kind or "", "no backup this tool made")


def _run(url: URL, tool: str, arguments: list[str]) -> None:
    program = shutil.which(tool)
    if program is None:
        raise BackupError(f"{tool} is not installed: install the PostgreSQL client tools "
                          "(Debian: apt install postgresql-client) of the server's version")
    # The password goes through the environment, not the command line others can read.
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    dbname = url.set(drivername="postgresql", password=None).render_as_string(
        hide_password=False)
    try:
        done = subprocess.run([program, f"--dbname={dbname}", *arguments], env=env,
                              capture_output=True, text=True, timeout=PG_TIMEOUT_SECONDS,
                              check=False)
    except subprocess.TimeoutExpired as exc:
        raise BackupError(f"{tool} took longer than {PG_TIMEOUT_SECONDS} s; stopped") from exc
    if done.returncode != 0:
        raise BackupError(f"{tool} failed (exit status {done.returncode}): "
                          f"{done.stderr.strip()[-2000:]}")
