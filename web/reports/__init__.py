"""Asset-management reports computed from the one register (BIR): finance, licences, lifecycle and
spares, for today or as of any past date. Each topic is a module of this package that adds its
views to ``bp``; the imports at the bottom register them."""

from __future__ import annotations

from web.reports.blueprint import TOPICS, bp

__all__ = ["TOPICS", "bp"]

# Topic modules register their routes (and their place on the index) on import.
from web.reports import finance, index, licences, lifecycle, spares  # noqa: E402,F401
