"""Installing what the product ships: the item-class hierarchy and the change models."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from bir.classes import ItemClass, load_class_specs
from usm.services.database import Database
from workflows.changes import store_definition
from workflows.models import WorkflowDefinition

SHIPPED_DEFINITIONS = Path(__file__).resolve().parents[2] / "workflows" / "definitions"


@dataclass
class InstallReport:
    classes_added: list[str] = field(default_factory=list)
    classes_updated: list[str] = field(default_factory=list)
    definitions_added: list[str] = field(default_factory=list)


def install_shipped(db: Database) -> InstallReport:
    """Add shipped classes and definition versions that the database does not have yet; idempotent."""
    report = InstallReport()
    with db.transaction() as session:
        existing = {c.code: c for c in session.scalars(select(ItemClass))}
        for spec in load_class_specs():
            values = dict(parent_code=spec.parent_code, name=spec.name, key_prefix=spec.key_prefix,
                          abstract=spec.abstract, description=spec.description,
                          attributes=[a.model_dump(exclude_none=True) for a in spec.attributes])
            current = existing.get(spec.code)
            if current is None:
                session.add(ItemClass(code=spec.code, **values))
                session.flush()
                report.classes_added.append(spec.code)
            elif any(getattr(current, k) != v for k, v in values.items()):
                for k, v in values.items():
                    setattr(current, k, v)
                report.classes_updated.append(spec.code)
        known = {(d.code, d.version) for d in session.execute(
            select(WorkflowDefinition.code, WorkflowDefinition.version))}
        for path in sorted(SHIPPED_DEFINITIONS.glob("*.yaml")):
            row = store_definition(session, path.read_text(encoding="utf-8"))
            if (row.code, row.version) not in known:
                report.definitions_added.append(f"{row.code} v{row.version}")
    return report
