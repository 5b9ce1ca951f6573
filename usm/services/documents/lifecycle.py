"""The life of a versioned document (a change model, an item class): drafts that change, a
published version that never does, retirement, and the comparison with what is published.

One implementation of the mechanics: version numbers, the status a step needs, two designers
saving at once, the live check, which version is published, the YAML diff. Each kind of document
plugs in what is its own (``Lifecycle``'s abstract methods): how its text is read and checked,
what a row stores, what publishing and retiring also do. Documents are design data, not register
data: saving one writes no item, so it needs no change.
"""

from __future__ import annotations

import difflib
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bir.base import utcnow
from bir.errors import Invalid, NotFound, Refused
from usm.services.documents.yaml_text import normalised
from usm.services.platform import Database

MAX_VERSION = 2**31 - 1  # the version column's range: a larger number names no version
DRAFT, PUBLISHED, RETIRED = "draft", "published", "retired"


class VersionTable(Protocol):
    """The columns every document's version table has."""

    code: Any
    version: Any
    status: Any
    created_by: Any
    created_at: Any
    published_at: Any


Row = TypeVar("Row", bound=VersionTable)


@dataclass(frozen=True)
class SavedVersion:
    code: str
    version: int
    status: str


@dataclass(frozen=True)
class VersionRow:
    """One version as a list of versions shows it."""

    version: int
    status: str
    created_by: str | None
    created_at: datetime
    published_at: datetime | None


@dataclass(frozen=True)
class DocumentDiff:
    """A version against the published version of its document: the YAML as a unified diff and,
    readably, what changed (e.g. "transition 'authorise' changed (...)")."""

    code: str
    version: int
    base_version: int | None  # the published version compared against; None if there is none
    unified: list[str]
    changes: list[str]

    @property
    def identical(self) -> bool:
        return self.base_version is not None and not self.unified


@dataclass(frozen=True)
class Checked:
    """A text that passed a kind's checks: the values its row stores, and the parsed document."""

    values: dict[str, Any]
    document: Any


class Lifecycle(ABC, Generic[Row]):
    """The mechanics; a subclass names its table and words and fills in the abstract methods."""

    table: type[Row]
    noun: str  # "change model", "item class"
    not_found: type[NotFound]
    refused: type[Refused]
    invalid: type[Invalid] = Invalid  # raised with one problem per entry
    unchanging = "only a draft changes"  # why a version that is not a draft refuses an edit
    retirable: tuple[str, ...] = (PUBLISHED,)
    retire_rule = "only a published version is retired"
    new_document = "a new document: nothing is published yet"

    # -- what each kind fills in ----------------------------------------------------------------

    @abstractmethod
    def code_of(self, source: Any, where: str) -> str:
        """The code ``source`` names (it is parsed: a text that does not parse is ``Invalid``)."""

    @abstractmethod
    def checked(self, session: Session, source: Any, code: str, version: int,
                where: str) -> Checked:
        """``source`` checked as version ``version`` of ``code`` would be stored; ``Invalid``
        naming every problem otherwise."""

    @abstractmethod
    def source_of(self, row: Row) -> Any:
        """What a new draft made from ``row`` starts from."""

    @abstractmethod
    def text_of(self, row: Row) -> str:
        """The row as the YAML a designer reads, exports and imports back."""

    @abstractmethod
    def wrong_code(self, code: str, named: str) -> str:
        """The problem of a draft's text that names another code."""

    def changes(self, session: Session, base: Row, row: Row) -> list[str]:
        """What changed from ``base`` to ``row``, as a designer names it."""
        return []

    def publishing(self, session: Session, row: Row) -> None:
        """What publishing ``row`` does beyond its own status (after the checks, while ``row`` is
        still the draft)."""

    def retiring(self, session: Session, row: Row) -> None:
        """Refuse (``refused``) to retire ``row`` when something still depends on it."""

    # -- the mechanics ---------------------------------------------------------------------------

    def stored(self, session: Session, code: str, version: int, *, lock: bool = False) -> Row:
        """One version row; ``not_found`` when there is none."""
        query = select(self.table).where(self.table.code == code,
                                         self.table.version == version)
        row = session.scalar(query.with_for_update() if lock else query) \
            if 1 <= version <= MAX_VERSION else None
        if row is None:
            raise self.not_found(f"there is no {self.noun} {code} version {version}")
        return row

    def save_new_draft(self, db: Database, source: Any, *, by: str | None = None,
                       where: str = "source") -> SavedVersion:
        """Store ``source`` as the next version of its document, a draft (a code no version has
        yet starts a new document), whatever version the text itself names."""
        source = normalised(source)
        code = self.code_of(source, where)
        with db.transaction() as session:
            return self.add_draft(session, source, code, by, where)

    def add_draft(self, session: Session, source: Any, code: str, by: str | None,
                  where: str) -> SavedVersion:
        source = normalised(source)
        version = (session.scalar(select(func.max(self.table.version))
                                  .where(self.table.code == code)) or 0) + 1
        checked = self.checked(session, source, code, version, where)
        session.add(self.table(code=code, version=version, status=DRAFT, created_by=by,
                               created_at=utcnow(), **checked.values))
        self._flush_or_refuse(session, code)
        return SavedVersion(code, version, DRAFT)

    def draft_from(self, db: Database, code: str, version: int, *,
                   by: str | None = None) -> SavedVersion:
        """A new draft that starts as a copy of an existing version."""
        with db.reading() as session:
            source = self.source_of(self.stored(session, code, version))
        return self.save_new_draft(db, source, by=by, where=f"{code} v{version}")

    def update_draft(self, db: Database, code: str, version: int, source: Any) -> SavedVersion:
        """Replace a draft's text; any other version never changes (``refused``)."""
        source = normalised(source)
        with db.transaction() as session:
            row = self.stored(session, code, version, lock=True)
            for name, value in self._checked_draft(session, row, source).values.items():
                setattr(row, name, value)
        return SavedVersion(code, version, DRAFT)

    def draft_problems(self, db: Database, code: str, version: int, source: str) -> list[str]:
        """Every problem that saving ``source`` over the draft would meet, storing nothing: the
        editor checks the text as the designer types. Empty when the save would pass."""
        source = normalised(source)
        with db.reading() as session:
            row = self.stored(session, code, version)
            try:
                self._checked_draft(session, row, source)
            except Refused as exc:
                return [str(exc)]
            except Invalid as exc:
                return exc.problems
        return []

    def _checked_draft(self, session: Session, row: Row, source: Any) -> Checked:
        code, version = row.code, row.version
        if row.status != DRAFT:
            raise self.refused(f"{code} v{version} is {row.status}: {self.unchanging}; make a "
                               "new draft from it instead")
        where = f"{code} v{version}"
        named = self.code_of(source, where)
        if named != code:
            raise self.invalid([self.wrong_code(code, named)])
        return self.checked(session, source, code, version, where)

    def publish(self, db: Database, code: str, version: int, *,
                by: str | None = None) -> SavedVersion:
        """Publish a draft: from now on it is what its document is, and it never changes. It is
        checked again: what it names may have changed since it was saved."""
        with db.transaction() as session:
            row = self.stored(session, code, version, lock=True)
            self.publish_row(session, row)
        return SavedVersion(code, version, PUBLISHED)

    def publish_row(self, session: Session, row: Row) -> None:
        if row.status != DRAFT:
            raise self.refused(f"{row.code} v{row.version} is {row.status}; only a draft is "
                               "published")
        self.checked(session, self.source_of(row), row.code, row.version,
                     f"{row.code} v{row.version}")
        self.publishing(session, row)
        row.status, row.published_at = PUBLISHED, utcnow()
        self._flush_or_refuse(session, row.code)

    def retire(self, db: Database, code: str, version: int) -> SavedVersion:
        """Retire a version: nothing new starts on it; it stays as history."""
        with db.transaction() as session:
            row = self.stored(session, code, version, lock=True)
            if row.status not in self.retirable:
                raise self.refused(f"{code} v{version} is {row.status}; {self.retire_rule}")
            self.retiring(session, row)
            row.status = RETIRED
        return SavedVersion(code, version, RETIRED)

    def published_version(self, db: Database, code: str) -> int:
        """The newest published version of a document; ``not_found`` when it has none."""
        with db.reading() as session:
            newest = session.scalar(select(func.max(self.table.version)).where(
                self.table.code == code, self.table.status == PUBLISHED))
        if newest is None:
            raise self.not_found(f"there is no published {self.noun} {code}")
        return newest

    def version_text(self, db: Database, code: str, version: int) -> str:
        with db.reading() as session:
            return self.text_of(self.stored(session, code, version))

    def versions(self, session: Session, code: str) -> list[VersionRow]:
        """Every version of a document, newest first."""
        rows = session.scalars(select(self.table).where(self.table.code == code)
                               .order_by(self.table.version.desc()))
        return [version_row(row) for row in rows]

    def diff_against_published(self, db: Database, code: str, version: int) -> DocumentDiff:
        """Compare ``version`` with the newest published version of its document (other than
        itself)."""
        with db.reading() as session:
            row = self.stored(session, code, version)
            base = session.scalar(
                select(self.table).where(self.table.code == code,
                                         self.table.status == PUBLISHED,
                                         self.table.version != version)
                .order_by(self.table.version.desc()).limit(1))
            if base is None:
                return DocumentDiff(code, version, None, [], [self.new_document])
            # Texts stored before line endings were normalised compare by their lines alone.
            unified = [line.rstrip("\n") for line in difflib.unified_diff(
                normalised(self.text_of(base)).splitlines(keepends=True),
                normalised(self.text_of(row)).splitlines(keepends=True),
                fromfile=f"{code} v{base.version} (published)", tofile=f"{code} v{version}")]
            return DocumentDiff(code, version, base.version, unified,
                                self.changes(session, base, row))

    def _flush_or_refuse(self, session: Session, code: str) -> None:
        try:
            session.flush()
        except IntegrityError as exc:
            raise self.refused(f"someone saved a version of {code} at the same moment; "
                               "save again") from exc


def version_row(row: VersionTable) -> VersionRow:
    return VersionRow(row.version, row.status, row.created_by, row.created_at, row.published_at)
