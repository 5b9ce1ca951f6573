"""Acting as another user: while an administrator's token for another user is in use, every
transaction that commits a write records an ``act_as`` row naming both, in that same transaction.

The API holds ``acting_as`` around each request made with such a token, so every operation,
present or future, is covered without each service knowing about it (the same way
``bir.guard`` watches every flush).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy import event
from sqlalchemy.orm import Session

from usm.db import WRITE_OPTION
from usm.services.audit_log.entries import Origin, record

_acting: ContextVar[tuple[Origin, str] | None] = ContextVar("usm_acting_as", default=None)


@contextmanager
def acting_as(origin: Origin, request: str) -> Iterator[None]:
    """While this holds, a committed write transaction records ``origin`` (actor and acting_as)
    and ``request`` (what was asked, e.g. ``POST /api/v1/changes``)."""
    token = _acting.set((origin, request))
    try:
        yield
    finally:
        _acting.reset(token)


@event.listens_for(Session, "before_commit")
def _record_acting(session: Session) -> None:
    current = _acting.get()
    if current is None:
        return
    if not session.get_bind().get_execution_options().get(WRITE_OPTION):
        return  # a reading session commits nothing
    origin, request = current
    record(session, origin, "act_as", request)
