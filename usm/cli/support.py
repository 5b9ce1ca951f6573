"""What every ``usm`` command shares: opening the database, turning the product's refusals into
messages, reading moments and files, and printing tables."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import wraps
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from usm.config import database_url
from usm.services import user_input
from usm.services.errors import Invalid, UsmError
from usm.services.platform import Database
from usm.services.user_input import InputError


def connect_database() -> Database:
    return Database.connect(database_url())


@contextmanager
def open_db() -> Iterator[Database]:
    db = connect_database()
    try:
        yield db
    finally:
        db.dispose()


def friendly(func: Callable[..., Any]) -> Callable[..., Any]:
    """The product's refusals as a message and exit status 1: every problem of a refused input on
    its own line, any other refusal as its one sentence."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except Invalid as exc:
            lines = "\n".join(f"  - {problem}" for problem in exc.problems)
            raise click.ClickException(f"refused, nothing stored:\n{lines}") from exc
        except UsmError as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper


def parse_moment(value: str) -> datetime | None:
    """A moment as every screen reads it (``usm.services.user_input``); a bad one is a usage error."""
    try:
        return user_input.parse_moment(value)
    except InputError as exc:
        raise click.BadParameter(exc.message) from None


def read_text(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{file}: cannot read it as UTF-8 text ({exc})") from exc


def write_text(text: str, output: Path | None) -> None:
    """``text`` to ``output``, or to standard output when none is named."""
    if output is None:
        click.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    click.echo(f"wrote {output}", err=True)


def cell_text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return str(value)


def print_table(rows: list[list[Any]], headers: list[str]) -> None:
    """A table with a header line; never wrapped or cut, so a script can read its columns."""
    table = Table(*headers, box=None, show_edge=False, pad_edge=False, header_style="bold")
    for column in table.columns:
        column.no_wrap = True
        column.overflow = "ignore"
    for row in rows:
        table.add_row(*(cell_text(c) for c in row))
    width = sum(max(len(cell_text(h)), *(len(cell_text(r[i])) for r in rows), 1) + 2
                for i, h in enumerate(headers))
    console = Console(width=max(width, 80), highlight=False, soft_wrap=True)
    with console.capture() as captured:
        console.print(table)
    click.echo(captured.get().rstrip("\n"))
