"""The REST API at /api/v1/: the register and the change process for other tools (discovery agents,
incident and deployment tooling, scripts).

Personal API tokens authenticate (``Authorization: Bearer``), with the same role groups as the web
screens; no operation writes to the register except through a change. ``usm.app.create_app``
registers ``bp`` and exempts it from CSRF (it uses bearer tokens, never cookies). The OpenAPI
document is at /api/v1/openapi.json and the interactive docs at /api/v1/docs.
"""

from __future__ import annotations

from web.api import (
    accounts,
    attachments,
    audit,
    audit_log,
    change_models,
    changes,
    checkouts,
    docs,
    incidents,
    item_classes,
    labels,
    reference,
    register,
    reports,
    search,
)
from web.api.blueprint import PREFIX, bp

__all__ = ["PREFIX", "accounts", "attachments", "audit", "audit_log", "bp", "change_models",
           "changes", "checkouts", "docs", "incidents", "item_classes", "labels", "reference", "register",
           "reports", "search"]
