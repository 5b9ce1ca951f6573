"""Incidents (issue 20): the failures of an item recorded from incidents, shown on the item's page
(``panels``), and the small form a change coordinator records one with. Incident tools do the
same over the API (``web.api.incidents``).

Each module of this package adds its routes to ``bp``; the imports below register them."""

from __future__ import annotations

from web.incidents.blueprint import bp

__all__ = ["bp"]

from web.incidents import pages  # noqa: E402,F401
