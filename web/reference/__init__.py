"""reference (issue 23): screens. Each module of this package adds its routes to ``bp``."""

from __future__ import annotations

from web.reference import lookup, pages  # noqa: F401  (each adds its routes to bp)
from web.reference.blueprint import bp

__all__ = ["bp"]
