"""Process designers' screens for item classes: the classes and their versions, the editor, the
comparison, import and export.

Each module of this package adds its routes to ``bp``; the imports below register them."""

from __future__ import annotations

from web.item_classes.blueprint import bp

__all__ = ["bp"]

from web.item_classes import pages  # noqa: E402,F401
