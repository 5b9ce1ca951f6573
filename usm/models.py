"""Imports every table module so the shared metadata is complete (for Alembic and tests)."""

from bir.class_versions import ItemClassVersion
from bir.classes import ItemClass
from bir.items import Item, ItemVersion
from bir.keys import KeyCounter
from bir.relations import Relation
from usm.accounts import ApiToken, User
from workflows.models import (
    Approval,
    Change,
    ChangeComment,
    ChangeModel,
    ChangeOperation,
    StepLogEntry,
)

__all__ = [
    "ApiToken", "Approval", "Change", "ChangeComment", "ChangeOperation", "Item", "ItemClass",
    "ItemClassVersion", "ItemVersion", "KeyCounter", "Relation", "StepLogEntry", "User",
    "ChangeModel",
]
