"""``usm db upgrade``, ``usm demo``, ``usm serve``, ``usm quickstart``, ``usm backup`` and ``usm restore``:
the database, the demo data, the web server, and the whole database copied out and back in."""

from __future__ import annotations

from pathlib import Path

import click

from usm.cli.support import friendly, open_db
from usm.config import database_url
from usm.services.platform import BackupError, backup_database, restore_database


@click.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Migrate the schema to the latest version and install the shipped classes and models."""
    from usm.db import upgrade
    from usm.services.platform import install_shipped

    url = database_url()
    upgrade(url)
    with open_db() as database:
        report = install_shipped(database)
    click.echo(f"database at {_safe_url(url)} is up to date; "
               f"{len(report.classes_added)} class(es) and "
               f"{len(report.definitions_added)} change model version(s) added")
    if report.classes_updated:
        # A class as an older release shipped it is published again as this release ships it.
        click.echo("shipped classes published as a new version: "
                   + ", ".join(report.classes_updated))


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@click.command()
@friendly
def demo() -> None:
    """Load demo users, services, items and changes, all through the change process."""
    from usm.services.platform import DemoRefused, load_demo

    with open_db() as database:
        try:
            report = load_demo(database)
        except DemoRefused as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(report.summary)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
def serve(host: str, port: int, threads: int) -> None:
    """Serve the web screens (waitress). Run `usm db upgrade` first."""
    from waitress import serve as waitress_serve

    from usm.app import create_app

    click.echo(f"USM is serving on http://{host}:{port}/  (Ctrl+C stops it)")
    waitress_serve(create_app(), host=host, port=port, threads=threads)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.pass_context
def quickstart(ctx: click.Context, host: str, port: int) -> None:
    """Upgrade the database, load the demo data if the register is empty, and serve."""
    from usm.services.platform import DemoRefused, load_demo

    ctx.invoke(db_upgrade)
    with open_db() as database:
        try:
            click.echo(load_demo(database).summary)
        except DemoRefused:
            click.echo("register already has data; demo not loaded again")
    ctx.invoke(serve, host=host, port=port)

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
