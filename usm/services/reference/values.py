"""Reference values as administrators keep them: add, rename, link, retire and reactivate, a page
of a kind's values with how many items use each, and the type-ahead lookup the pickers call.

Each edit is administration, not a register edit (the register holds only the stable code), so it
is written directly and recorded in the audit log in the same transaction, as user edits are.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bir.base import utcnow
from bir.errors import FieldError, ValidationFailed, shown
from bir.items import Item
from bir.reference import (
    CODE_LENGTH,
    KIND_FIELDS,
    KIND_WORDS,
    NAME_LENGTH,
    ReferenceKind,
    ReferenceValue,
    folded,
    storable,
)
from usm.accounts import User
from usm.services.audit_log import Origin, record
from usm.services.cursors import decode_cursor, encode_cursor
from usm.services.errors import NotFound
from usm.services.platform import Database

PAGE_SIZE = 50
MAX_PAGE = 200
LOOKUP_LIMIT = 20
MAX_QUERY = 120
STATES = ("active", "retired", "all")
KINDS = tuple(kind.value for kind in ReferenceKind)
BUILDING = "building"


class ReferenceNotFound(NotFound):
    pass


def reference_kind(text: str | None) -> ReferenceKind:
    """The kind named ``text`` (person, location, cost_centre); ``ReferenceNotFound`` otherwise."""
    try:
        return ReferenceKind((text or "").strip())
    except ValueError:
        raise ReferenceNotFound(f"{shown(text)} is not a kind of reference data (one of "
                                f"{', '.join(k.value for k in ReferenceKind)})") from None


@dataclass(frozen=True)
class ReferenceRow:
    """One value as the screens and the API show it; ``uses`` is the number of items holding
    its code now."""

    id: int
    kind: str
    code: str
    name: str
    label: str
    active: bool
    merged_into: str | None
    username: str | None
    item_key: str | None
    uses: int
    created_at: datetime
    created_by: str | None
    updated_at: datetime
    updated_by: str | None


@dataclass(frozen=True)
class ReferencePage:
    kind: str
    rows: list[ReferenceRow]
    total: int  # values of the kind matching the query and state, on every page
    kind_total: int  # every value of the kind (0: the kind is open, see ``bir.reference``)
    next_cursor: str | None


def _row(value: ReferenceValue, uses: int, merged_into: str | None) -> ReferenceRow:
    return ReferenceRow(value.id, value.kind, value.code, value.name, value.label, value.active,
                        merged_into, value.username, value.item_key, uses, value.created_at,
                        value.created_by, value.updated_at, value.updated_by)


def _uses(session: Session, kind: str, codes: list[str]) -> dict[str, int]:
    column = getattr(Item, KIND_FIELDS[ReferenceKind(kind)])
    if not codes:
        return {}
    return dict(session.execute(select(column, func.count()).where(column.in_(codes))
                                .group_by(column)).all())  # type: ignore[arg-type]


def _rows(session: Session, values: list[ReferenceValue]) -> list[ReferenceRow]:
    if not values:
        return []
    uses = _uses(session, values[0].kind, [v.code for v in values])
    targets = {v.merged_into_id for v in values if v.merged_into_id}
    merged = dict(session.execute(select(ReferenceValue.id, ReferenceValue.code)
                                  .where(ReferenceValue.id.in_(targets))).all()) if targets else {}
    return [_row(v, uses.get(v.code, 0), merged.get(v.merged_into_id)) for v in values]


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _matching(query: str) -> object:
    pattern = _like(folded(query))
    return or_(ReferenceValue.folded.like(pattern, escape="\\"),
               func.lower(ReferenceValue.name).like(pattern, escape="\\"),
               func.lower(ReferenceValue.item_key).like(pattern, escape="\\"))


def _query_text(q: str | None) -> str:
    text = (q or "").strip()
    if len(text) > MAX_QUERY:
        raise ValidationFailed([FieldError("q", f"at most {MAX_QUERY} characters")])
    if not storable(text):
        raise ValidationFailed([FieldError("q", "holds a character no text can keep (NUL)")])
    return text


def reference_page(db: Database, kind: str, *, q: str | None = None, state: str = "active",
                   cursor: str | None = None, limit: int = PAGE_SIZE) -> ReferencePage:
    """A page of ``kind``'s values by name, those whose code, name or building key contain ``q``
    (any case), in ``state`` (active, retired or all); ``next_cursor`` opens the next page."""
    chosen = reference_kind(kind)
    text = _query_text(q)
    if state not in STATES:
        raise ValidationFailed([FieldError("state", f"{shown(state)} is not one of "
                                                    f"{', '.join(STATES)}")])
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationFailed([FieldError("limit", f"a number from 1 to {MAX_PAGE}")])
    conditions = [ReferenceValue.kind == chosen.value]
    if text:
        conditions.append(_matching(text))  # type: ignore[arg-type]
    if state != "all":
        conditions.append(ReferenceValue.active.is_(state == "active"))
    with db.reading() as session:
        total = session.scalar(select(func.count()).select_from(ReferenceValue)
                               .where(*conditions)) or 0
        kind_total = session.scalar(select(func.count()).select_from(ReferenceValue)
                                    .where(ReferenceValue.kind == chosen.value)) or 0
        stmt = select(ReferenceValue).where(*conditions)
        if cursor:
            name, last_id = decode_cursor(cursor, 2)
            if name is None or last_id is None or not last_id.isdigit() or not storable(name):
                raise ValidationFailed([FieldError("cursor", "not a page link of this list")])
            stmt = stmt.where(or_(ReferenceValue.name > name, (ReferenceValue.name == name)
                                  & (ReferenceValue.id > int(last_id))))
        values = list(session.scalars(stmt.order_by(ReferenceValue.name, ReferenceValue.id)
                                      .limit(limit + 1)))
        more = len(values) > limit
        values = values[:limit]
        rows = _rows(session, values)
    following = encode_cursor(values[-1].name, str(values[-1].id)) if more else None
    return ReferencePage(chosen.value, rows, total, kind_total, following)


@dataclass(frozen=True)
class LookupMatch:
    """One suggestion of a picker: the code goes in the input, the label tells it apart."""

    code: str
    name: str
    label: str
    item_key: str | None = None


def lookup(db: Database, kind: str, q: str | None, limit: int = LOOKUP_LIMIT
           ) -> list[LookupMatch]:
    """At most ``limit`` (20) active values of ``kind`` whose code, name or (a location's)
    building key contains ``q``, any case; those starting with it first, then by name."""
    chosen = reference_kind(kind)
    text = _query_text(q)
    limit = max(1, min(limit, LOOKUP_LIMIT))
    conditions = [ReferenceValue.kind == chosen.value, ReferenceValue.active.is_(True)]
    if text:
        conditions.append(_matching(text))  # type: ignore[arg-type]
    with db.reading() as session:
        values = list(session.scalars(select(ReferenceValue).where(*conditions)
                                      .order_by(ReferenceValue.name, ReferenceValue.id)
                                      .limit(limit * 5)))
    start = folded(text)
    values.sort(key=lambda v: (not (v.folded.startswith(start)
                                    or v.name.casefold().startswith(start)), v.name.casefold()))
    return [LookupMatch(v.code, v.name, v.label, v.item_key) for v in values[:limit]]


def _clean(field: str, value: str | None, length: int, errors: list[FieldError]) -> str | None:
    text = (value or "").strip()
    if not text:
        errors.append(FieldError(field, "is required"))
        return None
    if len(text) > length:
        errors.append(FieldError(field, f"at most {length} characters"))
        return None
    if any(unicodedata.category(ch)[0] == "C" for ch in text):
        errors.append(FieldError(field, "must not contain control characters"))
        return None
    return text


def _links(session: Session, kind: ReferenceKind, username: str | None, item_key: str | None,
           errors: list[FieldError]) -> tuple[str | None, str | None]:
    """A person's user and a location's building item, checked; ``None`` for blank."""
    user = (username or "").strip() or None
    key = (item_key or "").strip().upper() or None
    for field, text in (("username", user), ("item_key", key)):
        if text and not storable(text):
            errors.append(FieldError(field, "holds a character no text can keep (NUL)"))
            return None, None
    if user and kind is not ReferenceKind.PERSON:
        errors.append(FieldError("username", "only a person is linked to a user"))
    elif user and session.scalar(select(User.id).where(User.username == user)) is None:
        errors.append(FieldError("username", f"no user {shown(user)}"))
    if key and kind is not ReferenceKind.LOCATION:
        errors.append(FieldError("item_key", "only a location is linked to a building item"))
    elif key:
        klass = session.scalar(select(Item.class_code).where(Item.key == key))
        if klass is None:
            errors.append(FieldError("item_key", f"no item {shown(key)} in the register"))
        elif klass != BUILDING and not klass.startswith(BUILDING + "."):
            errors.append(FieldError("item_key", f"{key} is a {klass} item, not a building"))
    return user, key


def _find(session: Session, kind: ReferenceKind, code: str, *, lock: bool = False
          ) -> ReferenceValue:
    if not storable(code or ""):
        raise ReferenceNotFound(f"no {KIND_WORDS[kind]} with that code")
    stmt = select(ReferenceValue).where(ReferenceValue.kind == kind.value,
                                        ReferenceValue.folded == folded(code or ""))
    value = session.scalar(stmt.with_for_update() if lock else stmt)
    if value is None:
        raise ReferenceNotFound(f"no {KIND_WORDS[kind]} {shown((code or '').strip())}")
    return value


def get_value(db: Database, kind: str, code: str) -> ReferenceRow:
    """One value by its code (any case); ``ReferenceNotFound`` otherwise."""
    chosen = reference_kind(kind)
    with db.reading() as session:
        return _rows(session, [_find(session, chosen, code)])[0]


def add_value(db: Database, origin: Origin, kind: str, code: str | None, name: str | None = None,
              *, username: str | None = None, item_key: str | None = None,
              now: datetime | None = None) -> ReferenceRow:
    """A new active value of ``kind``; its name is the code when none is given. Refused
    (``ValidationFailed``, naming the field) for a code the kind already has in any case."""
    chosen = reference_kind(kind)
    errors: list[FieldError] = []
    clean_code = _clean("code", code, CODE_LENGTH[chosen], errors)
    clean_name = _clean("name", name or code, NAME_LENGTH, errors)
    at = now or utcnow()
    with db.transaction() as session:
        user, key = _links(session, chosen, username, item_key, errors)
        if clean_code:
            taken = session.scalar(select(ReferenceValue).where(
                ReferenceValue.kind == chosen.value, ReferenceValue.folded == folded(clean_code)))
            if taken is not None:
                errors.append(FieldError("code", f"there is already a {KIND_WORDS[chosen]} "
                                                 f"{shown(taken.code)} ({taken.name})"))
        if errors or clean_code is None or clean_name is None:
            raise ValidationFailed(errors)
        value = ReferenceValue(kind=chosen.value, code=clean_code, folded=folded(clean_code),
                               name=clean_name, active=True, username=user, item_key=key,
                               created_at=at, created_by=origin.actor, updated_at=at,
                               updated_by=origin.actor)
        session.add(value)
        session.flush()
        record(session, origin, "reference.created", f"{chosen.value}:{clean_code}",
               {"name": clean_name, "username": user, "item_key": key}, at=at)
        return _rows(session, [value])[0]


UNSET = object()


def update_value(db: Database, origin: Origin, kind: str, code: str, *,
                 name: str | None = None, active: bool | None = None,
                 username: object = UNSET, item_key: object = UNSET,
                 now: datetime | None = None) -> ReferenceRow:
    """Rename a value (its code stays, so the items and reports that name it do not change),
    retire or reactivate it, or change its link (``None`` or blank removes one). Each change
    is a row of the audit log."""
    chosen = reference_kind(kind)
    errors: list[FieldError] = []
    clean_name = _clean("name", name, NAME_LENGTH, errors) if name is not None else None
    at = now or utcnow()
    with db.transaction() as session:
        value = _find(session, chosen, code, lock=True)
        new_user, new_key = value.username, value.item_key
        if username is not UNSET or item_key is not UNSET:
            linked_user, linked_key = _links(
                session, chosen, None if username is UNSET else str(username or ""),
                None if item_key is UNSET else str(item_key or ""), errors)
            new_user = value.username if username is UNSET else linked_user
            new_key = value.item_key if item_key is UNSET else linked_key
        if errors:
            raise ValidationFailed(errors)
        target = f"{chosen.value}:{value.code}"
        if clean_name is not None and clean_name != value.name:
            record(session, origin, "reference.renamed", target,
                   {"from": value.name, "to": clean_name}, at=at)
            value.name = clean_name
        if (new_user, new_key) != (value.username, value.item_key):
            record(session, origin, "reference.linked", target,
                   {"username": new_user, "item_key": new_key}, at=at)
            value.username, value.item_key = new_user, new_key
        if active is not None and active != value.active:
            record(session, origin, "reference.activated" if active else "reference.retired",
                   target, at=at)
            value.active = active
            if active:
                value.merged_into_id = None
        value.updated_at, value.updated_by = at, origin.actor
        session.flush()
        return _rows(session, [value])[0]
