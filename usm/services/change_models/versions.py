"""Versions of a change model: save a draft, edit it, publish it (then it never changes), retire it,
discard a draft, and compare a draft with the published version.

The mechanics are those of every versioned document (``usm.services.documents``); what is a change
model's own is here: its text is YAML checked against the CHM skeleton (a refused text stores
nothing and ``ChangeModelError`` names every problem), the version it names is set to the one it
is stored as, and a draft may be discarded. A change keeps the version row it was registered with,
so nothing here touches changes in flight.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from usm.services.change_models.catalogue import (
    STEP_COLUMNS,
    ChangeModelDetail,
    ChangeModelNotFound,
    change_model_detail,
)
from usm.services.change_models.diff import structural_changes
from usm.services.change_models.form import FLAG_GUARDS, TransitionForm, transition_forms
from usm.services.documents import MAX_VERSION, PUBLISHED, RETIRED, Checked, Lifecycle, SavedVersion
from usm.services.errors import Refused
from usm.services.platform import Database
from workflows.change_model import ChangeModelError, parse_change_model
from workflows.changes import check_change_model, store_definition
from workflows.guards import CHANGE_FIELDS, RISK_LEVELS
from workflows.models import ChangeModel
from workflows.skeleton import ROLES

__all__ = ["MAX_VERSION", "ChangeModelError", "ChangeModelNotFound", "ChangeModelRefused", "Editor",
           "SavedVersion", "diff_against_published", "discard_draft", "draft_from",
           "draft_problems", "editor", "install_change_model", "publish", "published_version", "retire",
           "save_new_draft", "update_draft", "version_source", "with_version"]

_VERSION_LINE = re.compile(r"^version:[^\n]*$", re.MULTILINE)
_CODE_LINE = re.compile(r"^code:[^\n]*$", re.MULTILINE)


class ChangeModelRefused(Refused):
    """The version is not in a status that allows this (e.g. editing a published version)."""


def with_version(source: str, version: int) -> str:
    """The text with its top-level ``version:`` set to ``version`` (added after ``code:``)."""
    line = f"version: {version}"
    if _VERSION_LINE.search(source):
        return _VERSION_LINE.sub(line, source, count=1)
    if _CODE_LINE.search(source):
        return _CODE_LINE.sub(lambda m: f"{m.group(0)}\n{line}", source, count=1)
    return f"{line}\n{source}"


class ChangeModels(Lifecycle[ChangeModel]):
    table = ChangeModel
    noun = "change model"
    not_found = ChangeModelNotFound
    invalid = ChangeModelError
    refused = ChangeModelRefused
    unchanging = "a published version never changes"
    new_document = "a new model: nothing is published yet"

    def code_of(self, source: Any, where: str) -> str:
        return parse_change_model(source, where=where).code

    def checked(self, session: Session, source: Any, code: str, version: int,
                where: str) -> Checked:
        text = with_version(source, version)
        definition = check_change_model(session, text, where=where)
        return Checked({"source": text, "name": definition.name,
                        "change_class": definition.change_class.value}, definition)

    def source_of(self, row: ChangeModel) -> str:
        return row.source

    def text_of(self, row: ChangeModel) -> str:
        return row.source

    def wrong_code(self, code: str, named: str) -> str:
        return (f"code: a draft keeps its model's code '{code}' (the text names '{named}'); "
                "import it as a new model instead")

    def changes(self, session: Session, base: ChangeModel,
                row: ChangeModel) -> list[str]:
        return structural_changes(base.source, row.source)

    def discard_draft(self, db: Database, code: str, version: int) -> None:
        """Throw a draft away (no change can use a draft, so nothing refers to it)."""
        with db.transaction() as session:
            row = self.stored(session, code, version, lock=True)
            if row.status != "draft":
                raise ChangeModelRefused(f"{code} v{version} is {row.status}; only a draft is "
                                        "discarded")
            session.delete(row)


CHANGE_MODELS = ChangeModels()
save_new_draft = CHANGE_MODELS.save_new_draft
draft_from = CHANGE_MODELS.draft_from
update_draft = CHANGE_MODELS.update_draft
draft_problems = CHANGE_MODELS.draft_problems
publish = CHANGE_MODELS.publish
retire = CHANGE_MODELS.retire
discard_draft = CHANGE_MODELS.discard_draft
published_version = CHANGE_MODELS.published_version
version_source = CHANGE_MODELS.version_text
diff_against_published = CHANGE_MODELS.diff_against_published


@dataclass(frozen=True)
class Editor:
    """What the editor screen shows: the version (parsed, for the diagram and tables), each
    transition as form values, and the choices the form offers."""

    detail: ChangeModelDetail
    transitions: list[TransitionForm]
    roles: list[tuple[str, str]]
    steps: list[tuple[str, str]]
    risk_levels: tuple[str, ...]
    flag_guards: tuple[str, ...]
    field_names: list[str]  # what required_fields may name


def editor(db: Database, code: str, version: int) -> Editor:
    detail = change_model_detail(db, code, version)
    try:
        forms = transition_forms(parse_change_model(detail.source))
    except ChangeModelError:
        forms = []
    return Editor(detail=detail, transitions=forms, roles=list(ROLES.items()),
                  steps=[(c.code, c.label) for c in STEP_COLUMNS],
                  risk_levels=RISK_LEVELS, flag_guards=FLAG_GUARDS,
                  field_names=[*CHANGE_FIELDS, *(f.name for f in detail.fields)])



SETUP_USER = "setup"  # versions installed from the shipped change models


def install_change_model(session: Session, source: str) -> str | None:
    """Install a shipped change model: "added" (its first version, published), "updated" (a new
    published version replacing the shipped one, only while no designer has published one), or
    None when nothing was to do. Changes under way keep the version they started on."""
    shipped = check_change_model(session, source)
    rows = session.scalars(select(ChangeModel).where(ChangeModel.code == shipped.code)
                           .order_by(ChangeModel.version.desc())).all()
    if not rows:
        store_definition(session, source)
        row = CHANGE_MODELS.stored(session, shipped.code, shipped.version)
        row.created_by = SETUP_USER
        return "added"
    published = next((r for r in rows if r.status == PUBLISHED), None)
    # Versions from before makers were recorded are the shipped ones when they carry the
    # shipped file's own number.
    was_shipped = published is not None and (
        published.created_by == SETUP_USER
        or (published.created_by is None and published.version == shipped.version))
    if not was_shipped or published.source.strip() == with_version(
            source, published.version).strip():
        return None
    draft = CHANGE_MODELS.add_draft(session, source, shipped.code, SETUP_USER, shipped.code)
    CHANGE_MODELS.publish_row(session, CHANGE_MODELS.stored(session, draft.code, draft.version))
    published.status = RETIRED
    return "updated"
