"""Versions of an item class: save a draft (from YAML, the form or an existing version), edit it,
publish it (then it never changes) and retire it. ``class_diff`` compares a draft with the
published version.

Class definitions are design data, not register data: saving or publishing one writes no item,
so it needs no change. Publishing updates the class row the register reads (``bir_item_class``)
in the same transaction; the version it replaces is kept as "superseded".

Every save and every publish is checked (``usm.services.class_checks``) against the definition's
own rules and against the items registered now; a refused version stores nothing. Removing an
attribute rewrites nothing: items keep the value in their versions and it is shown as no longer
in the class until a change clears it. A change set is checked against the published class both
when it is registered and again when it is implemented, so a change registered before a class
change must fit the class as it is at implementation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bir.base import utcnow
from bir.class_versions import ItemClassVersion
from bir.classes import ClassSpec, ItemClass
from bir.items import Item, ItemVersion
from usm.services.documents import dump_yaml
from usm.services.errors import NotFound, Refused
from usm.services.item_classes.checks import (
    ClassDefinitionError,
    check_against_register,
    items_of_subtree,
    load_class_yaml,
    parse_class,
    spec_record,
)
from usm.services.platform import Database
from workflows.definition import DefinitionError, parse_definition
from workflows.models import WorkflowDefinition

__all__ = ["MAX_VERSION", "SETUP_USER", "ClassDefinitionError", "ClassNotFound", "ClassSummary",
           "ClassVersionRefused", "ClassVersionView", "SavedClassVersion", "class_version",
           "class_yaml", "draft_from", "draft_problems", "import_classes", "install_class",
           "list_classes", "publish", "retire", "save_new_draft", "stored_version",
           "update_draft", "version_yaml"]

MAX_VERSION = 2**31 - 1
SETUP_USER = "setup"  # versions installed from the shipped classes.yaml


class ClassNotFound(NotFound):
    """No such class or class version."""


class ClassVersionRefused(Refused):
    """The version is not in a status that allows this (e.g. editing a published version)."""


@dataclass(frozen=True)
class SavedClassVersion:
    code: str
    version: int
    status: str


@dataclass(frozen=True)
class VersionRow:
    version: int
    status: str
    created_by: str | None
    created_at: datetime
    published_at: datetime | None


@dataclass(frozen=True)
class ClassSummary:
    code: str
    name: str
    parent_code: str | None
    published_version: int | None
    versions: list[VersionRow]  # newest first


@dataclass(frozen=True)
class ClassVersionView:
    code: str
    version: int
    status: str
    spec: ClassSpec
    yaml: str
    created_by: str | None
    created_at: datetime
    published_at: datetime | None
    inherited: list[tuple[str, str, str]]  # attribute name, label, class it comes from
    item_count: int  # items of the class and its subclasses now
    versions: list[VersionRow]


def _parse(source: str | dict[str, Any], where: str) -> ClassSpec:
    raw = load_class_yaml(source, where=where) if isinstance(source, str) else dict(source)
    return parse_class(raw)


def _check(session: Session, spec: ClassSpec) -> None:
    problems = check_against_register(session, spec)
    if problems:
        raise ClassDefinitionError(problems)


def save_new_draft(db: Database, source: str | dict[str, Any], *, by: str,
                   where: str = "class") -> SavedClassVersion:
    """Store a definition (YAML text or its mapping) as the next version of its class, a draft.
    A code no class has yet starts a new class (a subclass when the code has a parent part)."""
    spec = _parse(source, where)
    with db.transaction() as session:
        return _save_draft(session, spec, by)


def import_classes(db: Database, entries: list[dict[str, Any]], *, by: str,
                   publish_them: bool = False, where: str = "file") -> list[SavedClassVersion]:
    """Save several classes (a file's ``classes:`` list, parents first) as drafts, and publish
    each when asked, in one transaction: the first refusal stores none of them."""
    saved = []
    with db.transaction() as session:
        for index, entry in enumerate(entries):
            spec = _parse(entry, f"{where}: classes[{index}]")
            draft = _save_draft(session, spec, by)
            if publish_them:
                row = stored_version(session, draft.code, draft.version)
                _publish_row(session, row, spec)
                draft = SavedClassVersion(draft.code, draft.version, "published")
            saved.append(draft)
    return saved


def _save_draft(session: Session, spec: ClassSpec, by: str) -> SavedClassVersion:
    _check(session, spec)
    newest = session.scalar(select(func.max(ItemClassVersion.version))
                            .where(ItemClassVersion.code == spec.code)) or 0
    session.add(ItemClassVersion(code=spec.code, version=newest + 1, status="draft",
                                 spec=spec_record(spec), created_by=by, created_at=utcnow()))
    _flush_or_refuse(session, spec.code)
    return SavedClassVersion(spec.code, newest + 1, "draft")


def draft_from(db: Database, code: str, version: int, *, by: str) -> SavedClassVersion:
    """A new draft that starts as a copy of an existing version."""
    with db.reading() as session:
        spec = dict(stored_version(session, code, version).spec)
    return save_new_draft(db, spec, by=by, where=f"{code} v{version}")


def update_draft(db: Database, code: str, version: int, source: str | dict[str, Any]
                 ) -> SavedClassVersion:
    """Replace a draft's definition; a published, superseded or retired version never changes."""
    spec = _parse(source, f"{code} v{version}")
    with db.transaction() as session:
        row = stored_version(session, code, version, lock=True)
        _check_draft(session, row, spec)
        row.spec = spec_record(spec)
    return SavedClassVersion(code, version, "draft")


def draft_problems(db: Database, code: str, version: int, source: str) -> list[str]:
    """Every problem that saving ``source`` over the draft would meet, storing nothing: the
    editor checks the text as the designer types. Empty when the save would pass."""
    with db.reading() as session:
        row = stored_version(session, code, version)
        try:
            _check_draft(session, row, _parse(source, f"{code} v{version}"))
        except ClassVersionRefused as exc:
            return [str(exc)]
        except ClassDefinitionError as exc:
            return list(exc.problems)
    return []


def _check_draft(session: Session, row: ItemClassVersion, spec: ClassSpec) -> None:
    code, version = row.code, row.version
    if row.status != "draft":
        raise ClassVersionRefused(
            f"{code} v{version} is {row.status}: only a draft changes; make a new draft "
            "from it instead")
    if spec.code != code:
        raise ClassDefinitionError([f"class {spec.code}: a draft keeps its class's code "
                                    f"'{code}'; import it as a new class instead"])
    _check(session, spec)


def publish(db: Database, code: str, version: int, *, by: str) -> SavedClassVersion:
    """Publish a draft: the register uses it from now on, and it never changes. The version it
    replaces stays as history ("superseded")."""
    with db.transaction() as session:
        row = stored_version(session, code, version, lock=True)
        if row.status != "draft":
            raise ClassVersionRefused(f"{code} v{version} is {row.status}; only a draft is "
                                      "published")
        spec = ClassSpec.model_validate(row.spec)
        # Checked again: items and the parent may have changed since the draft was saved.
        _check(session, spec)
        _publish_row(session, row, spec)
    return SavedClassVersion(code, version, "published")


def _publish_row(session: Session, row: ItemClassVersion, spec: ClassSpec) -> None:
    # Locking the class row first makes two publishes of one class take turns, so the second
    # sees the first's version as the one to supersede (one published version per class).
    current = session.get(ItemClass, spec.code, with_for_update=True)
    for previous in session.scalars(select(ItemClassVersion).where(
            ItemClassVersion.code == row.code, ItemClassVersion.status == "published")
            .with_for_update()):
        previous.status = "superseded"
    row.status, row.published_at = "published", utcnow()
    values = dict(parent_code=spec.parent_code, name=spec.name, key_prefix=spec.key_prefix,
                  abstract=spec.abstract, description=spec.description,
                  attributes=[a.model_dump(mode="json", exclude_none=True)
                              for a in spec.attributes])
    if current is None:
        session.add(ItemClass(code=spec.code, **values))
    else:
        for name, value in values.items():
            setattr(current, name, value)
    _flush_or_refuse(session, spec.code)


def retire(db: Database, code: str, version: int) -> SavedClassVersion:
    """Retire a draft (kept, never published) or the published version of a class nothing uses:
    no item ever registered, no subclass, no change model naming it. The class is then gone from
    the register's classes; its versions stay as history."""
    with db.transaction() as session:
        row = stored_version(session, code, version, lock=True)
        if row.status == "published":
            _refuse_retiring_used(session, code, version)
            session.delete(session.get(ItemClass, code))
        elif row.status != "draft":
            raise ClassVersionRefused(f"{code} v{version} is {row.status}; only a draft or the "
                                      "published version is retired")
        row.status = "retired"
    return SavedClassVersion(code, version, "retired")


def _refuse_retiring_used(session: Session, code: str, version: int) -> None:
    where = f"{code} v{version} is not retired"
    used = session.scalar(select(func.count()).select_from(ItemVersion)
                          .where(ItemVersion.class_code == code))
    if used:
        example = session.scalar(select(Item.key).where(Item.class_code == code).limit(1))
        raise ClassVersionRefused(f"{where}: {used} item version(s) are of the class "
                                  f"(e.g. {example}); the register keeps them")
    child = session.scalar(select(ItemClass.code).where(ItemClass.parent_code == code).limit(1))
    if child:
        raise ClassVersionRefused(f"{where}: its subclass {child} is published; retire that "
                                  "first")
    for model, model_version, source in session.execute(
            select(WorkflowDefinition.code, WorkflowDefinition.version, WorkflowDefinition.source)
            .where(WorkflowDefinition.status.in_(("draft", "published")))):
        try:
            named = parse_definition(source).change_set.classes or []
        except DefinitionError:
            continue
        if code in named:
            raise ClassVersionRefused(f"{where}: change model {model} v{model_version} names "
                                      "it in its change set")


def install_class(session: Session, spec: ClassSpec) -> str | None:
    """Install a shipped class: "added" (version 1, published), "updated" (a new published
    version, only while no designer has published one), or None when nothing was to do."""
    published = session.scalar(select(ItemClassVersion).where(
        ItemClassVersion.code == spec.code, ItemClassVersion.status == "published"))
    if published is not None and (
            published.created_by != SETUP_USER
            or ClassSpec.model_validate(published.spec) == spec):
        return None
    newest = session.scalar(select(func.max(ItemClassVersion.version))
                            .where(ItemClassVersion.code == spec.code)) or 0
    row = ItemClassVersion(code=spec.code, version=newest + 1, status="draft",
                           spec=spec_record(spec), created_by=SETUP_USER, created_at=utcnow())
    session.add(row)
    _publish_row(session, row, spec)
    return "added" if published is None else "updated"


def list_classes(db: Database) -> list[ClassSummary]:
    """Every class with a version, by code, with its versions newest first."""
    with db.reading() as session:
        rows = session.scalars(select(ItemClassVersion).order_by(
            ItemClassVersion.code, ItemClassVersion.version.desc())).all()
    by_code: dict[str, list[ItemClassVersion]] = {}
    for row in rows:
        by_code.setdefault(row.code, []).append(row)
    result = []
    for code, versions in by_code.items():
        published = next((v for v in versions if v.status == "published"), None)
        shown = published or versions[0]
        result.append(ClassSummary(code, str(shown.spec.get("name", code)),
                                   code.rsplit(".", 1)[0] if "." in code else None,
                                   published.version if published else None,
                                   [_version_row(v) for v in versions]))
    return result


def class_version(db: Database, code: str, version: int) -> ClassVersionView:
    with db.reading() as session:
        row = stored_version(session, code, version)
        spec = ClassSpec.model_validate(row.spec)
        inherited: list[tuple[str, str, str]] = []
        parent = spec.parent_code
        ancestors = []
        while parent is not None:
            ancestors.append(parent)
            parent = parent.rsplit(".", 1)[0] if "." in parent else None
        classes = {c.code: c for c in session.scalars(
            select(ItemClass).where(ItemClass.code.in_(ancestors)))}
        for ancestor in reversed(ancestors):
            if ancestor in classes:
                inherited += [(a.name, a.label or a.name, ancestor)
                              for a in classes[ancestor].attribute_specs()]
        items = session.scalar(select(func.count()).select_from(Item).where(
            items_of_subtree(code))) or 0
        versions = session.scalars(select(ItemClassVersion).where(ItemClassVersion.code == code)
                                   .order_by(ItemClassVersion.version.desc())).all()
        return ClassVersionView(code, version, row.status, spec, class_yaml(spec), row.created_by,
                                row.created_at, row.published_at, inherited, items,
                                [_version_row(v) for v in versions])


def version_yaml(db: Database, code: str, version: int) -> str:
    with db.reading() as session:
        return class_yaml(ClassSpec.model_validate(stored_version(session, code, version).spec))


def class_yaml(spec: ClassSpec) -> str:
    """A definition as YAML, as export writes it and import reads it back."""
    return dump_yaml(spec_record(spec))


def _version_row(row: ItemClassVersion) -> VersionRow:
    return VersionRow(row.version, row.status, row.created_by, row.created_at, row.published_at)


def stored_version(session: Session, code: str, version: int, *, lock: bool = False
                   ) -> ItemClassVersion:
    """One version row; ``ClassNotFound`` when there is none."""
    query = select(ItemClassVersion).where(ItemClassVersion.code == code,
                                           ItemClassVersion.version == version)
    row = session.scalar(query.with_for_update() if lock else query) \
        if 1 <= version <= MAX_VERSION else None
    if row is None:
        raise ClassNotFound(f"there is no item class {code} version {version}")
    return row


def _flush_or_refuse(session: Session, code: str) -> None:
    try:
        session.flush()
    except IntegrityError as exc:
        raise ClassVersionRefused(f"someone saved a version of {code} at the same moment; "
                                  "save again") from exc


def published_version(db: Database, code: str) -> int:
    """The published version of a class; ``ClassNotFound`` when there is no such class or it has
    no published version."""
    with db.reading() as session:
        versions = session.execute(select(ItemClassVersion.version, ItemClassVersion.status)
                                   .where(ItemClassVersion.code == code)).all()
    if not versions:
        raise ClassNotFound(f"there is no item class {code}")
    published = [version for version, status in versions if status == "published"]
    if not published:
        raise ClassNotFound(f"{code} has no published version; name the version to export")
    return published[0]
