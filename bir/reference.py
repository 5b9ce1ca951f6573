"""Reference data: the people, locations and cost centres an item's ``owner``, ``location`` and
``cost_centre`` name, as rows instead of free text (issue 23).

The register keeps storing a string in those columns, and that string is a reference value's
``code``: a stable identifier that never changes once created. The row adds a display ``name``
(renamed at will), a kind, whether it is still active, what it was merged into, and an optional
link to a user (a person) or a registered building item (a location). A rename changes the name
only, so reports that group by the stored code never split.

The closed-list rule (``ReferenceCheck``), applied wherever a change set is planned (registration,
editing and implementation): once a kind has at least one row, a change set may set that field
only to an active code of that kind, matched case-insensitively and normalised to the stored
spelling; anything else is refused with the closest values as suggestions. A kind with no rows
at all is open, so a new installation works before an administrator sets its reference data up.
Clearing a field is always allowed, and a retired value may stay on an item (an update that sets
the value the item already holds is not a new use) but cannot be newly set.

Administrators maintain the rows (``usm.services.reference``); these are administration, not
register edits, so they are not written through a change (as users and item classes are not).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    and_,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from bir.base import Base, UTCDateTime
from bir.batches import batches
from bir.errors import FieldError, shown
from bir.items import Item


class ReferenceKind(StrEnum):
    PERSON = "person"
    LOCATION = "location"
    COST_CENTRE = "cost_centre"


# Which item field holds which kind, and how long a code of that kind may be (the column's size).
FIELD_KINDS: dict[str, ReferenceKind] = {
    "owner": ReferenceKind.PERSON,
    "location": ReferenceKind.LOCATION,
    "cost_centre": ReferenceKind.COST_CENTRE,
}
KIND_FIELDS = {kind: name for name, kind in FIELD_KINDS.items()}
CODE_LENGTH = {ReferenceKind.PERSON: 64, ReferenceKind.LOCATION: 120,
               ReferenceKind.COST_CENTRE: 64}
NAME_LENGTH = 120
KIND_WORDS = {ReferenceKind.PERSON: "person", ReferenceKind.LOCATION: "location",
              ReferenceKind.COST_CENTRE: "cost centre"}
SUGGESTIONS = 3
# Beyond this many active values of a kind, suggestions come from the codes and names that
# share the typed value's first letters only: difflib over a whole large directory is too slow.
SUGGEST_POOL = 5000


def folded(text: str) -> str:
    """The form codes are matched in: trimmed, case-insensitive (cut to the column's size:
    case-folding may lengthen a text, "ß" becomes "ss")."""
    return text.strip().casefold()[:120]


def storable(text: str) -> bool:
    """Whether a database can compare ``text`` at all: no NUL (PostgreSQL refuses one in any
    text) and no lone surrogate. Other text is simply not a known value."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class ReferenceValue(Base):
    """One person, location or cost centre an item may name."""

    __tablename__ = "bir_reference_value"
    __table_args__ = (
        UniqueConstraint("kind", "folded", name="uq_bir_reference_value_kind_folded"),
        Index("ix_bir_reference_value_kind_name", "kind", "name", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    # What the register stores; never changes once created.
    code: Mapped[str] = mapped_column(String(120))
    # The code as matched (``folded``): one row per code whatever its case.
    folded: Mapped[str] = mapped_column(String(120))
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("bir_reference_value.id"))
    # A person may be a user of the product; a location may be a registered building item.
    username: Mapped[str | None] = mapped_column(String(64))
    item_key: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str | None] = mapped_column(String(64))

    @property
    def label(self) -> str:
        """The name, with the code where it differs."""
        return self.name if self.name == self.code else f"{self.name} ({self.code})"


def display_names(session: Session, kind: ReferenceKind | str, codes: Iterable[str]
                  ) -> dict[str, str]:
    """Code -> its label (``ReferenceValue.label``) for the ``codes`` that have a row."""
    wanted = sorted({c for c in codes if c})
    names: dict[str, str] = {}
    for batch in batches(wanted):
        rows = session.execute(select(ReferenceValue.code, ReferenceValue.name).where(
            ReferenceValue.kind == str(kind), ReferenceValue.code.in_(batch)))
        names.update((code, name if name == code else f"{name} ({code})") for code, name in rows)
    return names


def field_labels(session: Session, fields: dict[str, Any]) -> dict[str, str]:
    """For an item's ``owner``, ``location`` and ``cost_centre`` values, the label of the
    reference value each names (its name, with the code where it differs), in one statement;
    fields whose value has no row are left out."""
    wanted = {name: str(fields[name]) for name in FIELD_KINDS if fields.get(name)}
    if not wanted:
        return {}
    rows = session.execute(select(ReferenceValue.kind, ReferenceValue.code, ReferenceValue.name)
                           .where(or_(*(and_(ReferenceValue.kind == str(FIELD_KINDS[name]),
                                             ReferenceValue.code == code)
                                        for name, code in wanted.items()))))
    found = {(kind, code): name if name == code else f"{name} ({code})"
             for kind, code, name in rows}
    return {name: found[(str(FIELD_KINDS[name]), code)] for name, code in wanted.items()
            if (str(FIELD_KINDS[name]), code) in found}


@dataclass(frozen=True)
class _Known:
    code: str
    name: str
    active: bool


@dataclass
class ReferenceCheck:
    """The closed-list rule for one change set (see the module's text). ``load`` reads, per kind
    the change set names, whether the kind has rows and the rows its values match, in a few
    queries however many operations there are."""

    session: Session
    closed: set[str] = field(default_factory=set)
    known: dict[tuple[str, str], _Known] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session, operations: Any) -> ReferenceCheck:
        check = cls(session)
        wanted: dict[str, set[str]] = {}
        for raw in operations if isinstance(operations, list) else []:
            if not isinstance(raw, dict):
                continue
            for name, kind in FIELD_KINDS.items():
                value = raw.get(name)
                if isinstance(value, str) and value.strip() and storable(value):
                    wanted.setdefault(kind, set()).add(folded(value))
        for kind, values in wanted.items():
            if session.scalar(select(ReferenceValue.id).where(ReferenceValue.kind == kind)
                              .limit(1)) is None:
                continue
            check.closed.add(kind)
            for batch in batches(sorted(values)):
                rows = session.execute(
                    select(ReferenceValue.folded, ReferenceValue.code, ReferenceValue.name,
                           ReferenceValue.active)
                    .where(ReferenceValue.kind == kind, ReferenceValue.folded.in_(batch)))
                check.known.update(((kind, f), _Known(code, name, active))
                                   for f, code, name, active in rows)
        return check

    def apply(self, fields: dict[str, Any], path: str, current: dict[str, Any] | None = None,
              item_key: str | None = None) -> list[FieldError]:
        """Normalise the reference fields of ``fields`` in place to their stored codes; the
        problems, each naming ``path.field``. ``current`` is the item's present row where the
        caller has it, else ``item_key`` names the item to read when a retired value needs it."""
        errors: list[FieldError] = []
        for name, kind in FIELD_KINDS.items():
            value = fields.get(name)
            if not isinstance(value, str) or kind not in self.closed:
                continue
            found = self.known.get((kind, folded(value)))
            if found is not None and found.active:
                fields[name] = found.code
                continue
            if found is not None and self._held(name, found.code, current, item_key):
                fields[name] = found.code
                continue
            errors.append(FieldError(f"{path}.{name}", self._refusal(kind, value, found)))
        return errors

    def _held(self, name: str, code: str, current: dict[str, Any] | None,
              item_key: str | None) -> bool:
        """Whether the item already holds ``code`` (a retired value kept, not newly set)."""
        if current is not None:
            return current.get(name) == code
        if not item_key:
            return False
        return self.session.scalar(select(getattr(Item, name)).where(Item.key == item_key)) == code

    def _refusal(self, kind: str, value: str, found: _Known | None) -> str:
        word = KIND_WORDS[ReferenceKind(kind)]
        if found is not None:
            return (f"{shown(found.code)} is a retired {word}; it stays on the items that hold it "
                    f"but cannot be newly set{self._hint(kind, value)}")
        return f"{shown(value.strip())} is not a known {word}{self._hint(kind, value)}"

    def _hint(self, kind: str, value: str) -> str:
        close = suggestions(self.session, kind, value)
        if not close:
            return ""
        return "; did you mean " + " or ".join(
            f"{shown(code)}" + ("" if name == code else f" ({name})") for code, name in close) + "?"


def suggestions(session: Session, kind: str, value: str, limit: int = SUGGESTIONS
                ) -> list[tuple[str, str]]:
    """The active values of ``kind`` closest to ``value`` (code, name), by difflib's ratio on
    both the code and the name, best first."""
    if not storable(value):
        return []
    text = folded(value)
    query = select(ReferenceValue.code, ReferenceValue.name).where(
        ReferenceValue.kind == kind, ReferenceValue.active.is_(True))
    rows = list(session.execute(query.limit(SUGGEST_POOL + 1)))
    if len(rows) > SUGGEST_POOL and text:
        start = text[:2]
        rows = list(session.execute(query.where(
            (ReferenceValue.folded.like(f"{start}%")) | (func.lower(ReferenceValue.name)
                                                         .like(f"{start}%")))
            .limit(SUGGEST_POOL)))
    scored: list[tuple[float, str, str]] = []
    for code, name in rows:
        score = max(difflib.SequenceMatcher(None, text, folded(code)).ratio(),
                    difflib.SequenceMatcher(None, text, folded(name)).ratio(),
                    _part_score(text, folded(code)), _part_score(text, folded(name)))
        if score >= 0.5:
            scored.append((score, code, name))
    scored.sort(key=lambda s: (-s[0], s[1]))
    return [(code, name) for _score, code, name in scored[:limit]]


def _part_score(text: str, other: str) -> float:
    """The best ratio of ``text`` against the words or dash-separated parts of ``other``, so
    'FIN-100' finds 'CC-100' by its number and 'finance' finds 'CC-100 Finance'."""
    parts = [p for p in other.replace("-", " ").split() if p]
    typed = [p for p in text.replace("-", " ").split() if p]
    best = 0.0
    for t in typed:
        for p in parts:
            if len(p) >= 3 and len(t) >= 3 and t == p:
                best = max(best, 0.6)
    return best
