"""``usm backup FILE`` and ``usm restore FILE``: the whole database copied out and back in."""

from __future__ import annotations

from pathlib import Path

import click

from usm.config import database_url
from usm.services.platform import BackupError, backup_database, restore_database

file_argument = click.argument("file", type=click.Path(dir_okay=False, path_type=Path))


@click.command("backup")
@file_argument
def backup(file: Path) -> None:
    """Copy the database (USM_DATABASE_URL) into the new FILE while the app keeps running:
    SQLite's online backup, or pg_dump (custom format) for PostgreSQL."""
    try:
        report = backup_database(database_url(), file)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    revision = f", schema revision {report.revision}" if report.revision else ""
    click.echo(f"backed up the {report.backend} database to {report.path} "
               f"({report.size} bytes{revision})")


@click.command("restore")
@file_argument
@click.option("--yes", is_flag=True, help="Do not ask for confirmation")
def restore(file: Path, yes: bool) -> None:
    """Replace everything in the database (USM_DATABASE_URL) with the backup FILE. Stop the
    app first; run `usm db upgrade` afterwards when the backup is from an older release."""
    if not yes:
        click.confirm(f"Replace the whole database with {file}? Everything registered since the "
                      "backup is lost", abort=True)
    try:
        report = restore_database(database_url(), file)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    revision = f" (schema revision {report.revision})" if report.revision else ""
    click.echo(f"restored the {report.backend} database from {report.path}{revision}; "
               "run `usm db upgrade` if the backup is from an older release")
