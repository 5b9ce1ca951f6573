"""Asset labels: a PDF sheet of labels with a QR code that opens the item's page, for one item or
everything a register search finds.

Each module of this package adds its routes to ``bp``; the imports below register them."""

from __future__ import annotations

from web.labels.blueprint import bp

__all__ = ["bp"]

from web.labels import pages  # noqa: E402,F401
