"""Versions of a change model: save a draft, edit it, publish it (then it never changes), retire it,
and compare a draft with the published version.

Definitions are process data, not register data: saving one writes no BIR record, so it needs no
change. Every text is checked against the CHM skeleton before it is stored; a refused text stores
nothing and ``DefinitionError`` names every problem. A change keeps the version row it was
registered with, so nothing here touches changes in flight.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bir.base import utcnow
from usm.services.change_models.catalogue import (
    STEP_COLUMNS,
    DefinitionDetail,
    DefinitionNotFound,
    definition_detail,
)
from usm.services.change_models.form import FLAG_GUARDS, TransitionForm, transition_forms
from usm.services.errors import Refused
from usm.services.platform import Database
from workflows.changes import check_definition
from workflows.definition import Definition, DefinitionError, parse_definition
from workflows.guards import CHANGE_FIELDS, RISK_LEVELS
from workflows.models import WorkflowDefinition
from workflows.skeleton import ROLES

__all__ = ["MAX_VERSION", "DefinitionError", "DefinitionNotFound", "DefinitionRefused", "Editor",
           "SavedVersion",
           "discard_draft", "draft_from", "draft_problems", "editor", "publish", "retire",
           "save_new_draft", "update_draft", "version_source", "with_version"]

MAX_VERSION = 2**31 - 1
_VERSION_LINE = re.compile(r"^version:[^\n]*$", re.MULTILINE)
_CODE_LINE = re.compile(r"^code:[^\n]*$", re.MULTILINE)


class DefinitionRefused(Refused):
    """The version is not in a status that allows this (e.g. editing a published version)."""


@dataclass(frozen=True)
class SavedVersion:
    code: str
    version: int
    status: str


def with_version(source: str, version: int) -> str:
    """The text with its top-level ``version:`` set to ``version`` (added after ``code:``)."""
    line = f"version: {version}"
    if _VERSION_LINE.search(source):
        return _VERSION_LINE.sub(line, source, count=1)
    if _CODE_LINE.search(source):
        return _CODE_LINE.sub(lambda m: f"{m.group(0)}\n{line}", source, count=1)
    return f"{line}\n{source}"


def save_new_draft(db: Database, source: str, *, where: str = "definition") -> SavedVersion:
    """Store ``source`` as a new draft: the next version number of its model, whatever version
    the text names (a designer's file may carry any number)."""
    code = parse_definition(source, where=where).code
    with db.transaction() as session:
        newest = session.scalar(select(func.max(WorkflowDefinition.version))
                                .where(WorkflowDefinition.code == code)) or 0
        text = with_version(source, newest + 1)
        definition = check_definition(session, text, where=where)
        session.add(WorkflowDefinition(
            code=code, version=newest + 1, name=definition.name,
            change_class=definition.change_class.value, status="draft", source=text,
            created_at=utcnow()))
        _flush_or_refuse(session, code)
    return SavedVersion(code, newest + 1, "draft")


def draft_from(db: Database, code: str, version: int) -> SavedVersion:
    """A new draft that starts as a copy of an existing version."""
    with db.reading() as session:
        source = _row(session, code, version).source
    return save_new_draft(db, source, where=f"{code} v{version}")


def update_draft(db: Database, code: str, version: int, source: str) -> SavedVersion:
    """Replace the text of a draft; a published or retired version is refused (immutable)."""
    text = with_version(source, version)
    with db.transaction() as session:
        row = _row(session, code, version, lock=True)
        definition = _checked_draft_text(session, row, text)
        row.source, row.name = text, definition.name
        row.change_class = definition.change_class.value
    return SavedVersion(code, version, "draft")


def draft_problems(db: Database, code: str, version: int, source: str) -> list[str]:
    """Every problem that saving ``source`` over the draft would meet, storing nothing: the
    editor checks the text as the designer types. Empty when the save would pass."""
    with db.reading() as session:
        row = _row(session, code, version)
        try:
            _checked_draft_text(session, row, with_version(source, version))
        except DefinitionRefused as exc:
            return [str(exc)]
        except DefinitionError as exc:
            return list(exc.problems)
    return []


def _checked_draft_text(session: Session, row: WorkflowDefinition, text: str) -> Definition:
    code, version = row.code, row.version
    if row.status != "draft":
        raise DefinitionRefused(
            f"{code} v{version} is {row.status}: a published version never changes; "
            "make a new draft from it instead")
    definition = check_definition(session, text, where=f"{code} v{version}")
    if definition.code != code:
        raise DefinitionError([f"code: a draft keeps its model's code '{code}' (the text names "
                               f"'{definition.code}'); import it as a new model instead"])
    return definition


def publish(db: Database, code: str, version: int) -> SavedVersion:
    """Publish a draft: new changes of the model start on it from now on, and it never changes."""
    with db.transaction() as session:
        row = _row(session, code, version, lock=True)
        if row.status != "draft":
            raise DefinitionRefused(f"{code} v{version} is {row.status}; only a draft is published")
        # Checked again: the item classes it names may have changed since it was saved.
        check_definition(session, row.source, where=f"{code} v{version}")
        row.status, row.published_at = "published", utcnow()
    return SavedVersion(code, version, "published")


def retire(db: Database, code: str, version: int) -> SavedVersion:
    """Retire a published version: no new change starts on it; changes in flight keep it."""
    with db.transaction() as session:
        row = _row(session, code, version, lock=True)
        if row.status != "published":
            raise DefinitionRefused(
                f"{code} v{version} is {row.status}; only a published version is retired")
        row.status = "retired"
    return SavedVersion(code, version, "retired")


def discard_draft(db: Database, code: str, version: int) -> None:
    """Throw a draft away (no change can use a draft, so nothing refers to it)."""
    with db.transaction() as session:
        row = _row(session, code, version, lock=True)
        if row.status != "draft":
            raise DefinitionRefused(f"{code} v{version} is {row.status}; only a draft is discarded")
        session.delete(row)


def version_source(db: Database, code: str, version: int) -> str:
    with db.reading() as session:
        return _row(session, code, version).source


def _row(session: Session, code: str, version: int, *, lock: bool = False) -> WorkflowDefinition:
    query = select(WorkflowDefinition).where(WorkflowDefinition.code == code,
                                             WorkflowDefinition.version == version)
    row = session.scalar(query.with_for_update() if lock else query) \
        if 1 <= version <= MAX_VERSION else None
    if row is None:
        raise DefinitionNotFound(f"there is no change model {code} version {version}")
    return row


def _flush_or_refuse(session: Session, code: str) -> None:
    try:
        session.flush()
    except IntegrityError as exc:
        raise DefinitionRefused(f"someone saved a version of {code} at the same moment; "
                                "save again") from exc


@dataclass(frozen=True)
class Editor:
    """What the editor screen shows: the version (parsed, for the diagram and tables), each
    transition as form values, and the choices the form offers."""

    detail: DefinitionDetail
    transitions: list[TransitionForm]
    roles: list[tuple[str, str]]
    steps: list[tuple[str, str]]
    risk_levels: tuple[str, ...]
    flag_guards: tuple[str, ...]
    field_names: list[str]  # what required_fields may name


def editor(db: Database, code: str, version: int) -> Editor:
    detail = definition_detail(db, code, version)
    try:
        forms = transition_forms(parse_definition(detail.source))
    except DefinitionError:
        forms = []
    return Editor(detail=detail, transitions=forms, roles=list(ROLES.items()),
                  steps=[(c.code, c.label) for c in STEP_COLUMNS],
                  risk_levels=RISK_LEVELS, flag_guards=FLAG_GUARDS,
                  field_names=[*CHANGE_FIELDS, *(f.name for f in detail.fields)])


def published_version(db: Database, code: str) -> int:
    """The newest published version of a model; ``DefinitionNotFound`` when it has none."""
    with db.reading() as session:
        newest = session.scalar(select(func.max(WorkflowDefinition.version)).where(
            WorkflowDefinition.code == code, WorkflowDefinition.status == "published"))
    if newest is None:
        raise DefinitionNotFound(f"there is no published change model {code}")
    return newest
