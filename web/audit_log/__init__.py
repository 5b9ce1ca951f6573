"""The audit log for administrators: who did what to the product's access and data (sign-ins,
sessions, tokens, users and roles, settings, exports), filtered, a page at a time, and as CSV or
XLSX. Each module of this package adds its routes to ``bp``; the import below registers them."""

from __future__ import annotations

from web.audit_log.blueprint import bp

__all__ = ["bp"]

from web.audit_log import pages  # noqa: E402,F401
