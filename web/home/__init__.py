"""The landing page with each role's dashboard.

Each module of this package adds its routes to ``bp``; the imports below register them."""

from __future__ import annotations

from web.home.blueprint import bp

__all__ = ["bp"]

from web.home import index, my_work  # noqa: E402,F401
