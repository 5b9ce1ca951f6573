"""The rule that only the implementation of a change writes the register, enforced on every ORM
flush and statement, and on the bulk path (``bir.bulk``) that bypasses the ORM."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

REGISTER_TABLES = frozenset({"bir_item", "bir_item_version", "bir_relation",
                             "bir_item_attachment"})
_applying: ContextVar[bool] = ContextVar("applying_change_set", default=False)


class RegisterWriteRefused(RuntimeError):
    """Something tried to write the register outside the implementation of a change."""


@contextmanager
def register_writes() -> Iterator[None]:
    """Held by ``bir.writer`` while it applies a change set, and by nothing else."""
    token = _applying.set(True)
    try:
        yield
    finally:
        _applying.reset(token)


def refuse_unapplied(table: str | None) -> None:
    if table in REGISTER_TABLES and not _applying.get():
        raise RegisterWriteRefused(
            f"{table} is written only by implementing a change (CHM); use the change engine")


@event.listens_for(Session, "before_flush")
def _refuse_unapplied_flush(session: Session, flush_context: Any, instances: Any) -> None:
    if _applying.get():
        return
    for obj in (*session.new, *session.dirty, *session.deleted):
        table = getattr(obj, "__tablename__", None)
        if obj not in session.dirty or session.is_modified(obj):
            refuse_unapplied(table)


@event.listens_for(Session, "do_orm_execute")
def _refuse_unapplied_statement(state: ORMExecuteState) -> None:
    if not state.is_select:
        refuse_unapplied(getattr(getattr(state.statement, "table", None), "name", None))
