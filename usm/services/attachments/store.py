"""The content store: an uploaded file's bytes, kept once per content (SHA-256) where every web
worker and host finds them.

Two backends, chosen by ``USM_ATTACHMENT_STORAGE``: ``database`` (the default) keeps the bytes in
the ``attachment_blob`` row; a directory path (a share every host mounts) keeps them in a file
named by the hash, written to a temporary file in the same directory first and renamed into
place, so no reader ever sees half a file. The row is the index either way, and says where its
bytes are: changing the setting later leaves earlier files readable.

A blob nobody refers to (its upload's change was refused, or the worker died in between) is
removed by the request that stored it, or by the sweep that each new upload runs.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO

from sqlalchemy import delete, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bir.attachments import Blob, ChangeAttachment, ItemAttachment
from bir.base import utcnow
from usm.config import DEFAULT_ATTACHMENT_MAX_BYTES, attachment_max_bytes, attachment_storage
from usm.services.attachments.content import content_type
from usm.services.errors import FieldError, NotFound, ValidationFailed
from usm.services.platform import Database
from workflows.models import Change, ChangeOperation
from workflows.skeleton import FINAL

CHUNK = 1 << 16
# An unreferenced blob younger than this may belong to an upload whose change is being
# registered right now; older ones are swept.
SWEEP_AFTER = timedelta(hours=1)
SWEEP_BATCH = 20


@dataclass(frozen=True)
class Storage:
    """Where the bytes go (``directory`` None: in the database) and the largest file accepted."""

    directory: Path | None = None
    max_bytes: int = DEFAULT_ATTACHMENT_MAX_BYTES

    @classmethod
    def from_setting(cls, setting: str = "database", max_bytes: int = DEFAULT_ATTACHMENT_MAX_BYTES
                     ) -> Storage:
        return cls(None if setting == "database" else Path(setting), max_bytes)

    @classmethod
    def from_env(cls) -> Storage:
        return cls.from_setting(attachment_storage(), attachment_max_bytes())

    @property
    def name(self) -> str:
        return "database" if self.directory is None else "directory"


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    size: int
    content_type: str
    new: bool  # stored by this upload (not the same bytes uploaded before)


def size_text(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB".replace(".0 MB", " MB")
    if size >= 1024:
        return f"{size / 1024:.0f} kB"
    return f"{size} bytes"


def read_upload(stream: IO[bytes], filename: str, max_bytes: int) -> bytes:
    """The uploaded bytes, at most ``max_bytes``: a larger file is refused without reading it
    all."""
    parts: list[bytes] = []
    total = 0
    while chunk := stream.read(CHUNK):
        total += len(chunk)
        if total > max_bytes:
            raise ValidationFailed([FieldError("file", f"{filename}: the file is larger than "
                                                       f"{size_text(max_bytes)}, the most an "
                                                       "attachment may be")])
        parts.append(chunk)
    return b"".join(parts)


def put(db: Database, storage: Storage, stream: IO[bytes], filename: str, username: str,
        now: datetime | None = None) -> StoredBlob:
    """Check and keep an uploaded file; the same bytes uploaded before are kept once."""
    data = read_upload(stream, filename, storage.max_bytes)
    kind = content_type(data, filename)
    sha = hashlib.sha256(data).hexdigest()
    sweep(db, storage, now)
    with db.reading() as session:
        found = session.execute(select(Blob.size, Blob.content_type)
                                .where(Blob.sha256 == sha)).one_or_none()
    if found is not None:
        return StoredBlob(sha, found.size, found.content_type, False)
    if storage.directory is not None:
        _write_file(storage.directory, sha, data)
    try:
        with db.transaction() as session:
            session.add(Blob(sha256=sha, size=len(data), content_type=kind,
                             stored_in=storage.name,
                             data=data if storage.directory is None else None,
                             created_at=now or utcnow(), created_by=username))
    except IntegrityError:  # the same bytes, uploaded by someone else at this very moment
        return StoredBlob(sha, len(data), kind, False)
    return StoredBlob(sha, len(data), kind, True)


def _path(directory: Path, sha: str) -> Path:
    return directory / sha[:2] / sha


def _write_file(directory: Path, sha: str, data: bytes) -> None:
    """Write to a temporary file beside the target, flush it to disk, then rename it into place
    (atomic on one file system): a reader finds the whole file or none."""
    target = _path(directory, sha)
    if target.exists() and target.stat().st_size == len(data):
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.parent / f".{sha}.{secrets.token_hex(6)}.part"
    try:
        with part.open("wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(part, target)
    finally:
        part.unlink(missing_ok=True)


@dataclass(frozen=True)
class Download:
    """A file to hand out: its name, the type read from its bytes, its size and the bytes."""

    filename: str
    content_type: str
    size: int
    chunks: Iterator[bytes]


def download(session: Session, storage: Storage, blob_id: int, filename: str) -> Download:
    """The bytes of a blob, from where its row says they are: read from the row while the
    session is open, or streamed from the shared directory."""
    blob = session.get(Blob, blob_id)
    if blob is None:
        raise NotFound(f"the bytes of {filename} are gone")
    if blob.stored_in == "database":
        return Download(filename, blob.content_type, blob.size, iter([blob.data or b""]))
    if storage.directory is None:
        raise NotFound(f"{filename} is kept in a directory, and USM_ATTACHMENT_STORAGE names "
                       "none")
    path = _path(storage.directory, blob.sha256)
    if not path.is_file():
        raise NotFound(f"the file of {filename} is missing from {storage.directory}")
    return Download(filename, blob.content_type, blob.size, _file_chunks(path))


def _file_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def _referenced(session: Session, blob: Blob) -> bool:
    if session.scalar(select(exists().where(ItemAttachment.blob_id == blob.id))) or \
            session.scalar(select(exists().where(ChangeAttachment.blob_id == blob.id))):
        return True
    # An attach operation of a change still open will need the bytes at implementation.
    payloads = session.scalars(
        select(ChangeOperation.payload).join(Change, Change.id == ChangeOperation.change_id)
        .where(ChangeOperation.op == "attach", Change.implemented_at.is_(None),
               Change.step.not_in([s.value for s in FINAL])))
    return any(payload.get("attachment") == blob.sha256 for payload in payloads)


def discard(db: Database, storage: Storage, sha: str) -> bool:
    """Remove a blob that nothing refers to (an upload whose change was refused); whether it
    was removed."""
    with db.transaction() as session:
        blob = session.scalar(select(Blob).where(Blob.sha256 == sha))
        if blob is None or _referenced(session, blob):
            return False
        where = blob.stored_in
        session.execute(delete(Blob).where(Blob.id == blob.id))
    if where == "directory" and storage.directory is not None:
        _path(storage.directory, sha).unlink(missing_ok=True)
    return True


def sweep(db: Database, storage: Storage, now: datetime | None = None) -> int:
    """Remove blobs older than ``SWEEP_AFTER`` that nothing refers to (a worker died between
    the upload and its change); how many."""
    before = (now or utcnow()) - SWEEP_AFTER
    with db.reading() as session:
        candidates = list(session.scalars(
            select(Blob.sha256).where(
                Blob.created_at < before,
                ~exists().where(ItemAttachment.blob_id == Blob.id),
                ~exists().where(ChangeAttachment.blob_id == Blob.id))
            .order_by(Blob.id).limit(SWEEP_BATCH)))
    return sum(discard(db, storage, sha) for sha in candidates)


__all__ = ["Download", "Storage", "StoredBlob", "download", "discard", "put", "read_upload", "size_text",
           "sweep"]
