"""Merging one reference value into another: the items that name the first are moved to the
second by ONE change (the register changes only through CHM), and the first is retired and
marked as merged into the second.

The change is a ``standard-change`` carried through as far as the administrator's roles allow
(``changes.carry_through``) with its details filled in (impact, low risk, no cost, a window of
the next hour); an administrator without the coordinator role leaves it at the first move a
coordinator makes, and ``Merged.carried.blocked`` says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bir.base import utcnow
from bir.errors import FieldError, ValidationFailed, shown
from bir.items import Item
from bir.reference import (
    KIND_FIELDS,
    KIND_WORDS,
    ReferenceKind,
    ReferenceValue,
    folded,
    storable,
)
from usm.services import changes
from usm.services.audit_log import Origin, record
from usm.services.errors import Denied, Refused
from usm.services.platform import Database
from usm.services.reference.values import ReferenceNotFound, reference_kind
from workflows.models import Change

MODEL = "standard-change"
BATCH = 1000  # items read per query while the change set is built


@dataclass(frozen=True)
class Merged:
    """What a merge did: how many items it moves and the change that moves them (``None`` when
    no item held the merged value, so nothing in the register changes)."""

    kind: str
    source: str
    target: str
    items: int
    carried: changes.Carried | None


def _value(session: Session, kind: ReferenceKind, code: str) -> ReferenceValue:
    if not storable(code or ""):
        raise ReferenceNotFound(f"no {KIND_WORDS[kind]} with that code")
    value = session.scalar(select(ReferenceValue).where(
        ReferenceValue.kind == kind.value, ReferenceValue.folded == folded(code or "")))
    if value is None:
        raise ReferenceNotFound(f"no {KIND_WORDS[kind]} {shown((code or '').strip())}")
    return value


def _holders(session: Session, field: str, code: str) -> list[str]:
    """Keys of the items whose ``field`` holds ``code``, read in keyset batches by id."""
    column = getattr(Item, field)
    keys: list[str] = []
    after = 0
    while True:
        rows = session.execute(select(Item.id, Item.key).where(column == code, Item.id > after)
                               .order_by(Item.id).limit(BATCH)).all()
        keys += [key for _id, key in rows]
        if len(rows) < BATCH:
            return keys
        after = rows[-1][0]


def _retire(session: Session, origin: Origin, source: ReferenceValue, target: ReferenceValue,
            items: int, change: str | None, at: datetime) -> None:
    source.active = False
    source.merged_into_id = target.id
    source.updated_at, source.updated_by = at, origin.actor
    record(session, origin, "reference.merged", f"{source.kind}:{source.code}",
           {"into": target.code, "items": items, "change": change}, at=at)


def merge_values(db: Database, origin: Origin, kind: str, source: str, target: str, *,
                 now: datetime | None = None) -> Merged:
    """Merge ``source`` into ``target`` (codes of ``kind``, any case): one change sets every
    item holding ``source`` to ``target``, and ``source`` is retired, merged into ``target``,
    in the same transaction as the change's registration."""
    chosen = reference_kind(kind)
    if not origin.actor:
        raise Denied("a merge is registered as a change, so it needs a user to act as")
    at = now or utcnow()
    field = KIND_FIELDS[chosen]
    word = KIND_WORDS[chosen]
    with db.reading() as session:
        merged = _value(session, chosen, source)
        kept = _value(session, chosen, target)
        if merged.id == kept.id:
            raise ValidationFailed([FieldError("target", "a value cannot be merged into itself")])
        if not kept.active:
            raise ValidationFailed([FieldError("target", f"{shown(kept.code)} is retired: "
                                                         f"merge into an active {word}")])
        if merged.merged_into_id is not None:
            raise Refused(f"{merged.code} is already merged")
        keys = _holders(session, field, merged.code)
        source_code, target_code = merged.code, kept.code

    def retire(session: Session, change: Change | None) -> None:
        retired = _value(session, chosen, source_code)
        into = _value(session, chosen, target_code)
        if retired.merged_into_id is not None:
            raise Refused(f"{retired.code} is already merged")
        _retire(session, origin, retired, into, len(keys), change.key if change else None, at)

    if not keys:
        with db.transaction() as session:
            retire(session, None)
        return Merged(chosen.value, source_code, target_code, 0, None)
    operations: list[dict[str, Any]] = [{"op": "update_item", "item": key, field: target_code}
                                        for key in keys]
    carried = changes.carry_through(
        db, origin.actor, model=MODEL,
        title=f"Merge {word} {source_code} into {target_code}", operations=operations,
        with_change=retire, now=at,
        reason=f"reference data: {source_code} merged into {target_code}",
        **changes.chore_details(
            f"{len(keys)} item(s) name {word} {target_code} instead of {source_code}; nothing "
            "else changes and no service is affected", at))
    return Merged(chosen.value, source_code, target_code, len(keys), carried)
