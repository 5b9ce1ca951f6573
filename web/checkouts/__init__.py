"""Check-outs and reservations (issue 23): the check-out and check-in forms for one item or a
selection, the list of what is out, overdue and booked, and the panels the item page and the
home page include (``panels``).

Each module of this package adds its routes to ``bp``; the imports below register them."""

from __future__ import annotations

from web.checkouts.blueprint import bp

__all__ = ["bp"]

from web.checkouts import pages  # noqa: E402,F401
