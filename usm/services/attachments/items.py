"""Files attached to items: register data, so attached and removed only through a change.

Attaching on the item page is one action, and still a change: the file is stored, then a
``standard-change`` with one ``attach`` operation is registered and carried through its steps
(``changes.carry_through``), each step in its log, the implementation writing the attachment
with the change that made it. When the change stops short (a role or guard of the model), it
waits where it stopped, the item lists the file as pending with the change, and the reasons go
back to the user. When registering the change fails, the stored file is removed again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session, aliased

from bir.attachments import MAX_PER_ITEM, Blob, ItemAttachment, clean_filename
from bir.base import utcnow
from bir.items import Item
from bir.queries import valid_at
from usm.services import changes
from usm.services.attachments import store
from usm.services.attachments.store import Storage
from usm.services.errors import NotFound
from usm.services.platform import Database
from workflows.engine import compiled
from workflows.models import Change, ChangeOperation
from workflows.skeleton import FINAL

MODEL = "standard-change"


@dataclass(frozen=True)
class Attachment:
    """A file attached to an item, as a list shows it."""

    id: int
    filename: str
    title: str | None
    content_type: str
    size: int
    sha256: str
    added_by: str
    added_at: datetime
    change_key: str
    removed_at: datetime | None = None
    removed_change_key: str | None = None


@dataclass(frozen=True)
class PendingAttachment:
    """An attach or detach planned by a change that is not implemented yet."""

    op: str  # attach or detach
    filename: str
    change_key: str
    state_label: str


@dataclass(frozen=True)
class ItemAttachments:
    key: str
    as_of: datetime | None
    attachments: list[Attachment]
    pending: list[PendingAttachment]
    max_per_item: int = MAX_PER_ITEM


@dataclass(frozen=True)
class AttachResult:
    """The change that attaches (or removes) a file, and where it stands."""

    filename: str
    sha256: str
    change: changes.Carried


def _item(session: Session, key: str) -> Item:
    key = key.strip().upper()
    ok = len(key) <= 32 and "\x00" not in key
    item = session.scalar(select(Item).where(Item.key == key)) if ok else None
    if item is None:
        raise NotFound(f"no item {key[:32]} in the register")
    return item


def _listed(session: Session, key: str, as_of: datetime | None) -> tuple[str, list[Attachment]]:
    """The item's key as registered and its attachments then, in one statement (the item
    joined to its attachments, so an item without any still answers); ``NotFound`` when there
    is no such item."""
    key = key.strip().upper()
    if len(key) > 32 or "\x00" in key:
        raise NotFound(f"no item {key[:32]} in the register")
    added, ended = aliased(Change), aliased(Change)
    period = (ItemAttachment.valid_to.is_(None) if as_of is None
              else valid_at(ItemAttachment, as_of))  # type: ignore[arg-type]
    stmt = (select(Item.key, ItemAttachment, Blob.content_type, Blob.size, Blob.sha256,
                   added.key, added.requester, ended.key)
            .select_from(Item)
            .outerjoin(ItemAttachment, and_(ItemAttachment.item_id == Item.id, period))
            .outerjoin(Blob, Blob.id == ItemAttachment.blob_id)
            .outerjoin(added, added.id == ItemAttachment.change_id)
            .outerjoin(ended, ended.id == ItemAttachment.ended_change_id)
            .where(Item.key == key)
            .order_by(ItemAttachment.valid_from, ItemAttachment.id))
    found = session.execute(stmt).all()
    if not found:
        raise NotFound(f"no item {key} in the register")
    return found[0][0], [
        Attachment(row.id, row.filename, row.title, kind, size, sha, requester, row.valid_from,
                   change_key, row.valid_to, ended_key)
        for _key, row, kind, size, sha, change_key, requester, ended_key in found
        if row is not None]


def item_attachments(db: Database, key: str, as_of: datetime | None = None) -> ItemAttachments:
    """The files attached to an item now (or as of a moment), and those changes in progress
    will attach or remove."""
    with db.reading() as session:
        key, listed = _listed(session, key, as_of)
        pending: list[PendingAttachment] = []
        if as_of is None:
            for change, payload in session.execute(
                    select(Change, ChangeOperation.payload)
                    .join(ChangeOperation, ChangeOperation.change_id == Change.id)
                    .where(ChangeOperation.item_key == key,
                           ChangeOperation.op.in_(("attach", "detach")),
                           Change.implemented_at.is_(None),
                           Change.step.not_in([s.value for s in FINAL]))
                    .order_by(Change.id, ChangeOperation.seq)):
                label = compiled(change.definition).definition.state(change.state).title
                pending.append(PendingAttachment(payload["op"], payload.get("filename") or "",
                                                 change.key, label))
        return ItemAttachments(key, as_of, listed, pending)


def _details(key: str, what: str, now: datetime) -> dict[str, Any]:
    """What the standard-change model's guards ask, for a chore that changes no register value
    but a file: low risk, no cost, carried out now."""
    return changes.chore_details(f"{key}: {what}; no registered value changes", now)


def attach_file(db: Database, storage: Storage, username: str, key: str, stream: IO[bytes],
                filename: str | None, title: str | None = None, now: datetime | None = None
                ) -> AttachResult:
    """Store an uploaded file and attach it to the item ``key`` through a standard change,
    carried through as far as the model lets ``username``. ``ValidationFailed`` (a file over the
    limit or of a kind not allowed, a title too long, an item at its most attachments) records
    nothing."""
    at = now or utcnow()
    name = clean_filename(filename)
    with db.reading() as session:
        key = _item(session, key).key
    blob = store.put(db, storage, stream, name, username, at)
    operation: dict[str, Any] = {"op": "attach", "item": key, "attachment": blob.sha256,
                                 "filename": name}
    if title and title.strip():
        operation["title"] = title.strip()
    try:
        carried = changes.carry_through(
            db, username, model=MODEL, title=f"Attach {name} to {key}"[:200],
            operations=[operation], now=at, **_details(key, f"attach {name}", at))
    except BaseException:
        if blob.new:  # a file nobody will attach is not kept
            store.discard(db, storage, blob.sha256)
        raise
    return AttachResult(name, blob.sha256, carried)


def detach_file(db: Database, username: str, key: str, attachment_id: int,
                now: datetime | None = None) -> AttachResult:
    """Remove an attachment from the item ``key`` through a standard change (the item's history
    keeps it, and the file stays downloadable from there)."""
    at = now or utcnow()
    with db.reading() as session:
        item = _item(session, key)
        row = session.scalar(select(ItemAttachment).where(
            ItemAttachment.id == attachment_id, ItemAttachment.item_id == item.id,
            ItemAttachment.valid_to.is_(None)))
        if row is None:
            raise NotFound(f"no attachment {attachment_id} on {item.key}")
        sha = session.scalar(select(Blob.sha256).where(Blob.id == row.blob_id))
        key, name = item.key, row.filename
    carried = changes.carry_through(
        db, username, model=MODEL, title=f"Remove {name} from {key}"[:200],
        operations=[{"op": "detach", "item": key, "attachment": sha}], now=at,
        **_details(key, f"remove the attachment {name}", at))
    return AttachResult(name, str(sha), carried)


def item_file(db: Database, storage: Storage, key: str, attachment_id: int) -> store.Download:
    """The bytes of a file attached to the item now or ever (its history links to it)."""
    with db.reading() as session:
        item = _item(session, key)
        row = session.scalar(select(ItemAttachment).where(
            ItemAttachment.id == attachment_id, ItemAttachment.item_id == item.id))
        if row is None:
            raise NotFound(f"no attachment {attachment_id} on {item.key}")
        return store.download(session, storage, row.blob_id, row.filename)


__all__ = ["AttachResult", "Attachment", "ItemAttachments", "PendingAttachment",
           "attach_file", "detach_file", "item_attachments", "item_file"]
