"""The search in the header: items, changes and people in one results page, an exact key
straight to its page.

Each module of this package adds its routes to ``bp``; the imports below register them."""

from __future__ import annotations

from web.search.blueprint import bp

__all__ = ["bp"]

from web.search import results  # noqa: E402,F401
