"""Files kept with a change (an RFC's quote, a contract, a test report): documentation of the
change, not register data, so no change set carries them. The change's participants add them
while the change is open; a closed, rejected or withdrawn change keeps the files it had."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import IO

from sqlalchemy import select
from sqlalchemy.orm import Session

from bir.attachments import Blob, ChangeAttachment, clean_filename
from bir.base import utcnow
from usm.services.attachments import store
from usm.services.attachments.store import Storage
from usm.services.errors import NotFound, Refused
from usm.services.platform import Database
from workflows.models import Change
from workflows.skeleton import FINAL, Step

MAX_PER_CHANGE = 50


@dataclass(frozen=True)
class ChangeFile:
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    added_by: str
    at: datetime


@dataclass(frozen=True)
class ChangeFiles:
    key: str
    files: list[ChangeFile]
    open: bool  # files may still be added
    max_per_change: int = MAX_PER_CHANGE


def _change(session: Session, key: str) -> Change:
    key = key.strip().upper()
    ok = len(key) <= 16 and "\x00" not in key
    change = session.scalar(select(Change).where(Change.key == key)) if ok else None
    if change is None:
        raise NotFound(f"no change {key[:16]}")
    return change


def _files(session: Session, change_id: int) -> list[ChangeFile]:
    rows = session.execute(
        select(ChangeAttachment, Blob.content_type, Blob.size, Blob.sha256)
        .join(Blob, Blob.id == ChangeAttachment.blob_id)
        .where(ChangeAttachment.change_id == change_id).order_by(ChangeAttachment.id))
    return [ChangeFile(row.id, row.filename, kind, size, sha, row.added_by, row.at)
            for row, kind, size, sha in rows]


def _is_open(change: Change) -> bool:
    return Step(change.step) not in FINAL


def change_files(db: Database, key: str) -> ChangeFiles:
    with db.reading() as session:
        change = _change(session, key)
        return ChangeFiles(change.key, _files(session, change.id), _is_open(change))


def add_change_file(db: Database, storage: Storage, username: str, key: str, stream: IO[bytes],
                    filename: str | None, now: datetime | None = None) -> ChangeFile:
    """Keep an uploaded file with the change ``key``; ``Refused`` once the change is closed."""
    at = now or utcnow()
    name = clean_filename(filename)
    with db.reading() as session:
        change = _change(session, key)
        _check_open(change, len(_files(session, change.id)))
        change_id = change.id
    blob = store.put(db, storage, stream, name, username, at)
    try:
        with db.transaction() as session:
            change = _change(session, key)
            _check_open(change, len(_files(session, change.id)))
            blob_id = session.scalar(select(Blob.id).where(Blob.sha256 == blob.sha256))
            row = ChangeAttachment(change_id=change_id, blob_id=blob_id, filename=name,
                                   added_by=username, at=at)
            session.add(row)
            session.flush()
            return ChangeFile(row.id, name, blob.content_type, blob.size, blob.sha256, username,
                              at)
    except BaseException:
        if blob.new:
            store.discard(db, storage, blob.sha256)
        raise


def _check_open(change: Change, count: int) -> None:
    if not _is_open(change):
        raise Refused(f"{change.key} is {change.step}: files are added to a change while it is "
                      "open")
    if count >= MAX_PER_CHANGE:
        raise Refused(f"{change.key} keeps {count} files, the most a change keeps")


def change_file(db: Database, storage: Storage, key: str, file_id: int) -> store.Download:
    with db.reading() as session:
        change = _change(session, key)
        row = session.scalar(select(ChangeAttachment).where(
            ChangeAttachment.id == file_id, ChangeAttachment.change_id == change.id))
        if row is None:
            raise NotFound(f"no file {file_id} on {change.key}")
        return store.download(session, storage, row.blob_id, row.filename)


__all__ = ["ChangeFile", "ChangeFiles", "add_change_file", "change_file", "change_files"]
