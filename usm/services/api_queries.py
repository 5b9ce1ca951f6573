"""Reads the REST API needs beyond the screens' services: item classes, services with what
supports them, a change model in full, and the register's vocabulary the API's schemas are built
from (so the OpenAPI document states the same rules the register enforces).

Everything here reads; writes go through ``usm.services.changes`` and ``usm.services.api_changes``.
It also names the refusals the services raise, so the API can answer each with its own status
without reaching below the service layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from bir.changeset import OP_KINDS
from bir.classes import AttributeType, ClassCatalogue
from bir.errors import FieldError, NotFound, NotYetRegistered, ValidationFailed
from bir.impact import supporting_item_ids
from bir.items import Item, ItemFields
from bir.queries import get_item
from bir.vocabulary import RELATION_KINDS, LifecycleStatus
from usm.services.database import Database
from workflows.changes import NotAChange, latest_definition
from workflows.definition import Definition
from workflows.engine import ChangeConflict, ChangeError, TransitionRefused, compiled
from workflows.guards import RISK_LEVELS
from workflows.models import WorkflowDefinition
from workflows.skeleton import ROLES, SKELETON, ChangeClass, ChangeSource, Step

SERVICE_CLASS = "service"

# The register's vocabulary, for building API schemas from the register's own definitions.
STEPS = tuple(s.value for s in Step)
WORKING_STEPS = tuple(s.value for s in SKELETON)
STATUSES = tuple(s.value for s in LifecycleStatus)
SOURCES = tuple(s.value for s in ChangeSource)
CHANGE_CLASSES = tuple(c.value for c in ChangeClass)
ATTRIBUTE_TYPES = tuple(t.value for t in AttributeType)
RELATION_KIND_CODES = tuple(RELATION_KINDS)
OPERATION_KINDS = OP_KINDS
RISKS = RISK_LEVELS
ROLE_NAMES = tuple(ROLES)


class DefinitionNotFound(NotFound):
    """No change model with that code (or not that version)."""


@dataclass(frozen=True)
class AttributeRow:
    name: str
    label: str | None
    type: str
    required: bool
    allowed: list[str] | None
    unit: str | None
    help: str | None
    inherited_from: str | None  # the ancestor class that defines it, None for the class itself


@dataclass(frozen=True)
class ItemClassRow:
    code: str
    name: str
    parent_code: str | None
    key_prefix: str
    abstract: bool
    description: str | None
    attributes: list[AttributeRow]


@dataclass(frozen=True)
class ServiceItem:
    key: str
    name: str
    class_code: str
    status: str


@dataclass(frozen=True)
class ServiceView:
    key: str
    name: str
    status: str
    owner: str | None
    cost_centre: str | None
    supporting: list[ServiceItem]


@dataclass(frozen=True)
class DefinitionDetail:
    code: str
    version: int
    name: str
    change_class: str
    status: str
    published_at: datetime | None
    definition: Definition
    source: str


def list_item_classes(db: Database) -> list[ItemClassRow]:
    """Every item class, parents before children, each with all the attributes its items carry."""
    with db.reading() as session:
        catalogue = ClassCatalogue.load(session)
    return [_class_row(catalogue, code) for code in sorted(catalogue.by_code)]


def item_class(db: Database, code: str) -> ItemClassRow:
    with db.reading() as session:
        catalogue = ClassCatalogue.load(session)
    if catalogue.get(code) is None:
        raise NotFound(f"no item class {code}")
    return _class_row(catalogue, code)


def _class_row(catalogue: ClassCatalogue, code: str) -> ItemClassRow:
    klass = catalogue.by_code[code]
    attributes = []
    for ancestor in catalogue.lineage(code):
        for spec in ancestor.attribute_specs():
            attributes = [a for a in attributes if a.name != spec.name]
            attributes.append(AttributeRow(
                spec.name, spec.label, spec.type.value, spec.required, spec.allowed, spec.unit,
                spec.help, None if ancestor.code == code else ancestor.code))
    return ItemClassRow(klass.code, klass.name, klass.parent_code, klass.key_prefix,
                        klass.abstract, klass.description, attributes)


def service_view(db: Database, key: str) -> ServiceView:
    """A service item and the items it depends on (now), found through the relation graph."""
    with db.reading() as session:
        service = get_item(session, key.strip().upper())
        if service.class_code != SERVICE_CLASS:
            raise NotFound(f"{service.key} is not a service")
        ids = supporting_item_ids(session, service.id)
        items = session.scalars(select(Item).where(Item.id.in_(ids)).order_by(Item.key)) \
            if ids else []
        return ServiceView(service.key, service.name, service.status, service.owner,
                           service.cost_centre,
                           [ServiceItem(i.key, i.name, i.class_code, i.status) for i in items])


def definition_detail(db: Database, code: str, version: int | None = None) -> DefinitionDetail:
    """A change model in full: the latest published version, or the given version."""
    with db.reading() as session:
        if version is None:
            row = session.scalar(
                select(WorkflowDefinition).where(WorkflowDefinition.code == code,
                                                 WorkflowDefinition.status == "published")
                .order_by(WorkflowDefinition.version.desc()).limit(1))
            if row is None:
                row = session.scalar(select(WorkflowDefinition)
                                     .where(WorkflowDefinition.code == code)
                                     .order_by(WorkflowDefinition.version.desc()).limit(1))
        else:
            row = session.scalar(select(WorkflowDefinition).where(
                WorkflowDefinition.code == code, WorkflowDefinition.version == version))
        if row is None:
            raise DefinitionNotFound(
                f"no change model {code}" + (f" version {version}" if version else ""))
        return DefinitionDetail(row.code, row.version, row.name, row.change_class, row.status,
                                row.published_at, compiled(row).definition, row.source)


def is_standard_model(db: Database, code: str) -> bool:
    """Whether the latest published version of ``code`` is pre-authorised (a standard change)."""
    with db.reading() as session:
        row = latest_definition(session, code)
        return compiled(row).definition.pre_authorised


__all__ = [
    "ChangeConflict", "ChangeError", "FieldError", "NotAChange", "NotFound", "NotYetRegistered",
    "TransitionRefused", "ValidationFailed",
    "ATTRIBUTE_TYPES", "CHANGE_CLASSES", "OPERATION_KINDS", "RELATION_KIND_CODES", "RISKS",
    "ROLE_NAMES", "SOURCES", "STATUSES", "STEPS", "WORKING_STEPS", "AttributeRow",
    "DefinitionDetail", "DefinitionNotFound", "ItemClassRow", "ItemFields", "ServiceItem",
    "ServiceView", "definition_detail", "is_standard_model", "item_class", "list_item_classes",
    "service_view",
]
