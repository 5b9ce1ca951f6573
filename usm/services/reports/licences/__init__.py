"""Licences (software asset management): the effective licence position per product and metric as
of any day, one product's entitlements and installations behind its figures, and the audit
export."""

from usm.services.reports.licences.audit_export import BadExport, audit_export, audit_sheets
from usm.services.reports.licences.position import (
    METRIC_RULES,
    EntitlementLine,
    InstallationLine,
    NotFound,
    Position,
    licence_position,
    product_position,
)

__all__ = [
    "audit_sheets",
    "BadExport",
    "EntitlementLine",
    "InstallationLine",
    "METRIC_RULES",
    "NotFound",
    "Position",
    "audit_export",
    "licence_position",
    "product_position",
]
