"""The coordinator's import screen: upload discovered inventory (or scan it at a location),
reconcile it with the BIR, accept differences as one audit-correction change.

Each module of this package adds its routes to ``bp``; the imports below register them."""

from __future__ import annotations

from web.audit.blueprint import bp
from web.audit.imports import MAX_UPLOAD_BYTES

__all__ = ["MAX_UPLOAD_BYTES", "bp"]

from web.audit import imports, quality, scan  # noqa: E402,F401
