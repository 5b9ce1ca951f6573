"""What every ``usm`` command shares: opening the database, turning the product's refusals into
one-line messages, reading moments and printing tables."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import wraps
from typing import Any

import click

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
    """Turn the product's own refusals into a one-line message and exit status 1."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except Invalid as exc:
            lines = "\n".join(f"  {problem}" for problem in exc.problems)
            raise click.ClickException(f"invalid input:\n{lines}") from exc
        except UsmError as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper


def parse_moment(value: str) -> datetime | None:
    """A moment as every screen reads it (``usm.services.user_input``); a bad one is a usage error."""
    try:
        return user_input.parse_moment(value)
    except InputError as exc:
        raise click.BadParameter(exc.message) from None


def cell_text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return str(value)


def print_table(rows: list[list[Any]], headers: list[str]) -> None:
    cells = [headers] + [[cell_text(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    for n, row in enumerate(cells):
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            click.echo("  ".join("-" * w for w in widths))
