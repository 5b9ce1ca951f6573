"""Workflow-definition services: list the change models, validate a definition file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from usm.services.database import Database
from workflows.definition import Definition, DefinitionError, parse_definition
from workflows.models import WorkflowDefinition


@dataclass(frozen=True)
class DefinitionRow:
    code: str
    version: int
    name: str
    change_class: str
    status: str


def list_definitions(db: Database) -> list[DefinitionRow]:
    with db.reading() as session:
        rows = session.scalars(select(WorkflowDefinition)
                               .order_by(WorkflowDefinition.code, WorkflowDefinition.version))
        return [DefinitionRow(r.code, r.version, r.name, r.change_class, r.status) for r in rows]


def validate_definition_file(path: Path) -> Definition:
    """Parse and check a definition file; ``DefinitionError`` lists every problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DefinitionError([f"{path}: cannot read: {exc}"]) from exc
    return parse_definition(text, where=str(path))
