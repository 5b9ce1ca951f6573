"""The register's vocabulary as plain values: lifecycle statuses, attribute types, relation kinds
and the item fields, for building the API's schemas from the register's own definitions (so the
OpenAPI document states the same rules the register enforces)."""

from __future__ import annotations

from bir.classes import AttributeType
from bir.items import MONEY_FIELDS, ItemFields
from bir.queries import SERVICE_CLASS
from bir.vocabulary import RELATION_KINDS, LifecycleStatus

STATUSES = tuple(s.value for s in LifecycleStatus)
ATTRIBUTE_TYPES = tuple(t.value for t in AttributeType)
RELATION_KIND_CODES = tuple(RELATION_KINDS)

__all__ = ["ATTRIBUTE_TYPES", "MONEY_FIELDS", "RELATION_KIND_CODES", "SERVICE_CLASS", "STATUSES",
           "ItemFields"]
