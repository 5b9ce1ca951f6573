"""Versions of an item class: save a draft (from YAML, the form or an existing version), edit it,
publish it (then it never changes) and retire it, and compare a draft with the published version.

The mechanics are those of every versioned document (``usm.services.documents``); what is an item
class's own is here. Every save and every publish is checked (``usm.services.item_classes.checks``)
against the definition's own rules and against the items registered now; a refused version stores
nothing. Publishing updates the class row the register reads (``bir_item_class``) in the same
transaction, and the version it replaces is kept as "superseded". Removing an attribute rewrites
nothing: items keep the value in their versions and it is shown as no longer in the class until a
change clears it. A change set is checked against the published class both when it is registered
and again when it is implemented, so a change registered before a class change must fit the class
as it is at implementation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bir.class_versions import ItemClassVersion
from bir.classes import ClassSpec, ItemClass
from bir.items import Item, ItemVersion
from usm.services.documents import (
    DRAFT,
    MAX_VERSION,
    PUBLISHED,
    Checked,
    Lifecycle,
    SavedVersion,
    VersionRow,
    dump_yaml,
    version_row,
)
from usm.services.errors import NotFound, Refused
from usm.services.item_classes.checks import (
    ClassDefinitionError,
    check_against_register,
    items_of_subtree,
    load_class_yaml,
    parse_class,
    spec_record,
)
from usm.services.item_classes.diff import class_changes, items_holding
from usm.services.platform import Database
from workflows.change_model import ChangeModelError, parse_change_model
from workflows.models import ChangeModel

__all__ = ["MAX_VERSION", "SETUP_USER", "ClassDefinitionError", "ClassNotFound", "ClassSummary",
           "ClassVersionRefused", "ClassVersionView", "SavedVersion", "class_version",
           "class_yaml", "diff_against_published", "draft_from", "draft_problems",
           "import_classes", "install_class", "list_classes", "publish", "published_version",
           "retire", "save_new_draft", "update_draft", "version_yaml"]

SETUP_USER = "setup"  # versions installed from the shipped classes.yaml


class ClassNotFound(NotFound):
    """No such class or class version."""


class ClassVersionRefused(Refused):
    """The version is not in a status that allows this (e.g. editing a published version)."""


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


class ItemClasses(Lifecycle[ItemClassVersion]):
    table = ItemClassVersion
    noun = "item class"
    not_found = ClassNotFound
    invalid = ClassDefinitionError
    refused = ClassVersionRefused
    retirable = (DRAFT, PUBLISHED)
    retire_rule = "only a draft or the published version is retired"
    new_document = "a new class: nothing is published yet"

    def code_of(self, source: Any, where: str) -> str:
        return _parse(source, where).code

    def checked(self, session: Session, source: Any, code: str, version: int,
                where: str) -> Checked:
        spec = _parse(source, where)
        problems = check_against_register(session, spec)
        if problems:
            raise ClassDefinitionError(problems)
        return Checked({"spec": spec_record(spec)}, spec)

    def source_of(self, row: ItemClassVersion) -> dict[str, Any]:
        return dict(row.spec)

    def text_of(self, row: ItemClassVersion) -> str:
        return class_yaml(ClassSpec.model_validate(row.spec))

    def wrong_code(self, code: str, named: str) -> str:
        return (f"class {named}: a draft keeps its class's code '{code}'; import it as a new "
                "class instead")

    def changes(self, session: Session, base: ItemClassVersion,
                row: ItemClassVersion) -> list[str]:
        old, new = ClassSpec.model_validate(base.spec), ClassSpec.model_validate(row.spec)
        return class_changes(old, new, items_holding(session, row.code, old, new))

    def publishing(self, session: Session, row: ItemClassVersion) -> None:
        """The register uses the class from now on; the version it replaces is superseded."""
        spec = ClassSpec.model_validate(row.spec)
        # Locking the class row first makes two publishes of one class take turns, so the second
        # sees the first's version as the one to supersede (one published version per class).
        current = session.get(ItemClass, spec.code, with_for_update=True)
        for previous in session.scalars(select(ItemClassVersion).where(
                ItemClassVersion.code == row.code, ItemClassVersion.status == PUBLISHED)
                .with_for_update()):
            previous.status = "superseded"
        values = dict(parent_code=spec.parent_code, name=spec.name, key_prefix=spec.key_prefix,
                      abstract=spec.abstract, description=spec.description,
                      attributes=[a.model_dump(mode="json", exclude_none=True)
                                  for a in spec.attributes],
                      depreciation=spec.depreciation.model_dump(mode="json")
                      if spec.depreciation else None)
        if current is None:
            session.add(ItemClass(code=spec.code, **values))
        else:
            for name, value in values.items():
                setattr(current, name, value)

    def retiring(self, session: Session, row: ItemClassVersion) -> None:
        """A published class nothing uses leaves the register's classes; a draft just ends."""
        if row.status == PUBLISHED:
            _refuse_retiring_used(session, row.code, row.version)
            session.delete(session.get(ItemClass, row.code))


ITEM_CLASSES = ItemClasses()
save_new_draft = ITEM_CLASSES.save_new_draft
draft_from = ITEM_CLASSES.draft_from
update_draft = ITEM_CLASSES.update_draft
draft_problems = ITEM_CLASSES.draft_problems
publish = ITEM_CLASSES.publish
retire = ITEM_CLASSES.retire
published_version = ITEM_CLASSES.published_version
version_yaml = ITEM_CLASSES.version_text
diff_against_published = ITEM_CLASSES.diff_against_published


def import_classes(db: Database, entries: list[dict[str, Any]], *, by: str,
                   publish_them: bool = False, where: str = "file") -> list[SavedVersion]:
    """Save several classes (a file's ``classes:`` list, parents first) as drafts, and publish
    each when asked, in one transaction: the first refusal stores none of them."""
    saved = []
    with db.transaction() as session:
        for index, entry in enumerate(entries):
            place = f"{where}: classes[{index}]"
            draft = ITEM_CLASSES.add_draft(session, entry, ITEM_CLASSES.code_of(entry, place),
                                           by, place)
            if publish_them:
                ITEM_CLASSES.publish_row(session, ITEM_CLASSES.stored(session, draft.code,
                                                                      draft.version))
                draft = SavedVersion(draft.code, draft.version, PUBLISHED)
            saved.append(draft)
    return saved


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
            select(ChangeModel.code, ChangeModel.version, ChangeModel.source)
            .where(ChangeModel.status.in_(("draft", "published")))):
        try:
            named = parse_change_model(source).change_set.classes or []
        except ChangeModelError:
            continue
        if code in named:
            raise ClassVersionRefused(f"{where}: change model {model} v{model_version} names "
                                      "it in its change set")


def install_class(session: Session, spec: ClassSpec) -> str | None:
    """Install a shipped class: "added" (version 1, published), "updated" (a new published
    version, only while no designer has published one), or None when nothing was to do."""
    published = session.scalar(select(ItemClassVersion).where(
        ItemClassVersion.code == spec.code, ItemClassVersion.status == PUBLISHED))
    if published is not None and (
            published.created_by != SETUP_USER
            or ClassSpec.model_validate(published.spec) == spec):
        return None
    draft = ITEM_CLASSES.add_draft(session, spec_record(spec), spec.code, SETUP_USER, spec.code)
    ITEM_CLASSES.publish_row(session, ITEM_CLASSES.stored(session, spec.code, draft.version))
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
                                   [version_row(v) for v in versions]))
    return result


def class_version(db: Database, code: str, version: int) -> ClassVersionView:
    with db.reading() as session:
        row = ITEM_CLASSES.stored(session, code, version)
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
                                [version_row(v) for v in versions])


def class_yaml(spec: ClassSpec) -> str:
    """A definition as YAML, as export writes it and import reads it back."""
    return dump_yaml(spec_record(spec))
