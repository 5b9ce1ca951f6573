"""Register services: read items now or as of a moment, their history and relations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from bir import queries
from bir.classes import ClassCatalogue
from bir.errors import NotFound, NotYetRegistered
from bir.impact import impacted_services
from bir.items import CONFIGURATION_FIELDS, CORE_FIELDS, FINANCIAL_FIELDS
from usm.services.database import Database
from workflows.models import Change, ChangeOperation
from workflows.skeleton import FINAL


@dataclass(frozen=True)
class ItemView:
    key: str
    class_code: str
    class_name: str
    version: int
    valid_from: datetime
    valid_to: datetime | None
    as_of: datetime | None
    core: dict[str, Any]
    configuration: dict[str, Any]
    financial: dict[str, Any]
    attributes: list[tuple[str, str, Any, str | None]]  # name, label, value, unit
    relations: list[queries.RelatedItem]
    services: list[tuple[str, str]]
    pending_changes: list[tuple[str, str, str]]


@dataclass(frozen=True)
class HistoryRow:
    version: int
    valid_from: datetime
    valid_to: datetime | None
    change_key: str
    change_title: str
    changes: list[queries.FieldChange]


@dataclass(frozen=True)
class ItemRow:
    key: str
    name: str
    class_code: str
    status: str
    owner: str | None
    location: str | None
    cost_centre: str | None


def item_view(db: Database, key: str, as_of: datetime | None = None) -> ItemView:
    """An item with its attributes grouped as users read them; ``as_of`` shows it as it was."""
    key = key.strip().upper()
    with db.reading() as session:
        current = queries.get_item(session, key)
        record_source = queries.item_as_of(session, key, as_of) if as_of else current
        record = record_source.record()
        catalogue = ClassCatalogue.load(session)
        specs = catalogue.specs(record["class_code"])
        attributes = [
            (name, (specs[name].label if name in specs else None) or name, value,
             specs[name].unit if name in specs else None)
            for name, value in sorted(record["attributes"].items())
        ]
        pending = session.execute(
            select(Change.key, Change.title, Change.step)
            .join(ChangeOperation, ChangeOperation.change_id == Change.id)
            .where(ChangeOperation.item_key == current.key,
                   Change.step.not_in([s.value for s in FINAL]),
                   Change.implemented_at.is_(None))
            .distinct().order_by(Change.key)
        ).all()
        klass = catalogue.get(record["class_code"])
        return ItemView(
            key=current.key, class_code=record["class_code"],
            class_name=klass.name if klass else record["class_code"],
            version=record_source.version, valid_from=record_source.valid_from,
            valid_to=getattr(record_source, "valid_to", None), as_of=as_of,
            core={f: record[f] for f in CORE_FIELDS},
            configuration={f: record[f] for f in CONFIGURATION_FIELDS},
            financial={f: record[f] for f in FINANCIAL_FIELDS},
            attributes=attributes,
            relations=queries.relations_of(session, current.id, as_of),
            services=[(s.key, s.name) for s in impacted_services(session, {current.id})],
            pending_changes=[tuple(row) for row in pending],  # type: ignore[misc]
        )


def item_history(db: Database, key: str) -> list[HistoryRow]:
    key = key.strip().upper()
    with db.reading() as session:
        entries = queries.item_history(session, key)
        ids = {e.version.change_id for e in entries}
        changes = {c.id: c for c in session.scalars(select(Change).where(Change.id.in_(ids)))}
        return [
            HistoryRow(e.version.version, e.version.valid_from, e.version.valid_to,
                       changes[e.version.change_id].key, changes[e.version.change_id].title,
                       e.changes)
            for e in entries
        ]


def list_items(db: Database, flt: queries.ItemFilter | None = None, *,
               after: str | None = None, limit: int = queries.PAGE_SIZE,
               as_of: datetime | None = None) -> tuple[list[ItemRow], int]:
    """A page of the register (now, or as of a moment) and the count of all matches."""
    with db.reading() as session:
        if as_of is None:
            rows: list[Any] = queries.list_items(session, flt, after=after, limit=limit)
            total = queries.count_items(session, flt)
        else:
            rows = queries.register_as_of(session, as_of, flt, after=after, limit=limit)
            total = queries.count_as_of(session, as_of, flt)
        return [ItemRow(r.key, r.name, r.class_code, r.status, r.owner, r.location,
                        r.cost_centre) for r in rows], total


ItemFilter = queries.ItemFilter

__all__ = ["HistoryRow", "ItemFilter", "ItemRow", "ItemView", "NotFound", "NotYetRegistered",
           "item_history", "item_view", "list_items"]
