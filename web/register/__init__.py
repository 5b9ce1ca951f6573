"""Service owners' screens over the register: search, an item now or as of a moment, the services and
what supports each, and the register's downloads.

Each module of this package adds its routes to ``bp``; the imports below register them."""

from __future__ import annotations

from web.register.blueprint import bp

__all__ = ["bp"]

from web.register import bulk, export, pages  # noqa: E402,F401
