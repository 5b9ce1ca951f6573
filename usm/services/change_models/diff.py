"""What a version changes against the published version of its model: the YAML as a unified diff
and, readably, which states, transitions and model settings were added, removed or changed."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from sqlalchemy import select

from usm.services.change_models.catalogue import DefinitionNotFound
from usm.services.documents import compare_named, plain
from usm.services.platform import Database
from workflows.definition import DefinitionError, parse_definition
from workflows.models import WorkflowDefinition

MODEL_SETTINGS = ("name", "change_class", "description", "approvers", "change_set", "fields",
                  "initial")


@dataclass(frozen=True)
class DefinitionDiff:
    code: str
    version: int
    base_version: int | None  # the published version compared against; None if there is none
    unified: list[str]  # lines of a unified diff of the YAML
    changes: list[str]  # e.g. "transition 'authorise': guards changed: 1 approval → 2 approvals"

    @property
    def identical(self) -> bool:
        return self.base_version is not None and not self.unified


def diff_against_published(db: Database, code: str, version: int) -> DefinitionDiff:
    """Compare ``version`` with the newest published version of the same model (other than
    itself)."""
    with db.reading() as session:
        row = session.scalar(select(WorkflowDefinition).where(
            WorkflowDefinition.code == code, WorkflowDefinition.version == version))
        if row is None:
            raise DefinitionNotFound(f"there is no change model {code} version {version}")
        base = session.scalar(
            select(WorkflowDefinition)
            .where(WorkflowDefinition.code == code, WorkflowDefinition.status == "published",
                   WorkflowDefinition.version != version)
            .order_by(WorkflowDefinition.version.desc()).limit(1))
        source = row.source
        base_source, base_version = (base.source, base.version) if base else (None, None)
    if base_source is None:
        return DefinitionDiff(code, version, None, [], ["a new model: nothing is published yet"])
    unified = [line.rstrip("\n") for line in difflib.unified_diff(
        base_source.splitlines(keepends=True), source.splitlines(keepends=True),
        fromfile=f"{code} v{base_version} (published)", tofile=f"{code} v{version}")]
    return DefinitionDiff(code, version, base_version, unified,
                          structural_changes(base_source, source))


def structural_changes(old_source: str, new_source: str) -> list[str]:
    """The changed states, transitions and settings, as a designer names them."""
    try:
        old = parse_definition(old_source)
        new = parse_definition(new_source)
    except DefinitionError:
        return ["one of the versions no longer passes the checks; compare the YAML"]
    result = [f"{name} changed" for name in MODEL_SETTINGS
              if plain(getattr(old, name)) != plain(getattr(new, name))]
    result += compare_named("state", {s.name: s for s in old.states},
                            {s.name: s for s in new.states})
    result += compare_named("transition", {t.trigger: t for t in old.transitions},
                            {t.trigger: t for t in new.transitions})
    return result
