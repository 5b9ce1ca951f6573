"""Change coordinators' screens: the change queue, registering a change, a change's detail and its
moves, the change-set forms, the calendar and the queue's download.

Each module of this package adds its routes to ``bp``; the imports below register them."""

from __future__ import annotations

from web.changes.blueprint import bp

__all__ = ["bp"]

from web.changes import export, pages  # noqa: E402,F401
