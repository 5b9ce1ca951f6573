"""Licences (software asset management): the effective licence position per product and metric as
of any day, one product's entitlements and installations behind its figures, the audit export,
and the change that marks a software product as needing no licence (or needing one)."""

from usm.services.reports.licences.audit_export import BadExport, audit_export, audit_sheets
from usm.services.reports.licences.inventory import LICENSING, NO_LICENCE_NEEDED, product_key
from usm.services.reports.licences.marking import product_items, register_licensing_change
from usm.services.reports.licences.position import (
    ENTITLED,
    METRIC_RULES,
    NO_LICENCE,
    UNLICENSED,
    EntitlementLine,
    InstallationLine,
    NotFound,
    Position,
    licence_position,
    product_position,
)

__all__ = [
    "ENTITLED",
    "LICENSING",
    "NO_LICENCE",
    "NO_LICENCE_NEEDED",
    "UNLICENSED",
    "audit_sheets",
    "BadExport",
    "EntitlementLine",
    "InstallationLine",
    "METRIC_RULES",
    "NotFound",
    "Position",
    "audit_export",
    "licence_position",
    "product_items",
    "product_position",
    "product_key",
    "register_licensing_change",
]
