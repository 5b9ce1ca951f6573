"""checkouts over the API (issue 23)."""

from __future__ import annotations
