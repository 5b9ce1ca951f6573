"""Imports every table module so the shared metadata is complete (for Alembic and tests)."""

from bir.classes import ItemClass
from bir.items import Item, ItemVersion
from bir.keys import KeyCounter
from bir.relations import Relation
from usm.accounts import ApiToken, User
from workflows.models import (
    Approval,
    Change,
    ChangeComment,
    ChangeOperation,
    StepLogEntry,
    WorkflowDefinition,
)

__all__ = [
    "ApiToken", "Approval", "Change", "ChangeComment", "ChangeOperation", "Item", "ItemClass",
    "ItemVersion", "KeyCounter", "Relation", "StepLogEntry", "User", "WorkflowDefinition",
]
