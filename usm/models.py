"""Imports every table module so the shared metadata is complete (for Alembic and tests)."""

from bir.attachments import Blob, ChangeAttachment, ItemAttachment
from bir.class_versions import ItemClassVersion
from bir.classes import ItemClass
from bir.items import Item, ItemVersion
from bir.keys import KeyCounter
from bir.reference import ReferenceValue
from bir.relations import Relation
from usm.accounts import ApiToken, User
from usm.audit_log import AuditEntry
from usm.checkouts import Checkout, Reservation
from usm.incidents import Failure
from usm.sessions import SignInAttempt, SignInSession
from workflows.models import (
    Approval,
    Change,
    ChangeComment,
    ChangeModel,
    ChangeOperation,
    StepLogEntry,
)

__all__ = [
    "ApiToken", "Approval", "AuditEntry", "Blob", "ChangeAttachment", "ItemAttachment", "Change",
    "ChangeComment", "ChangeOperation", "Item", "ItemClass", "ItemClassVersion", "ItemVersion",
    "KeyCounter", "Relation", "SignInAttempt", "SignInSession", "StepLogEntry", "User",
    "ChangeModel", "Checkout", "Reservation", "ReferenceValue", "Failure",
]
