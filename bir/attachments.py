"""Attachments: uploaded files (an invoice PDF, a delivery-note photo, a contract) and where they
are attached.

- ``Blob``: the bytes of one uploaded file, once per content (named by its SHA-256), with the
  type read from the bytes. The bytes are in the row (the default: every web worker and host
  reads the same database) or, when a deployment names a shared directory, in a file there
  named by the hash; the row is the index either way.
- ``ItemAttachment``: a file attached to an item. It is register data: added and removed only by
  the ``attach`` and ``detach`` operations of a change (``bir.writer``), and, like a relation,
  each row is valid from the change that attached it to the change that removed it, so the
  register as of any moment shows the attachments then. Nothing is pruned.
- ``ChangeAttachment``: a file kept with an RFC (a quote, a contract). Not register data: the
  change's participants add it while the change is open.

The planners of ``attach`` and ``detach`` are here too; ``bir.changeset`` calls them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    select,
    text,
)
from sqlalchemy.orm import Mapped, Session, deferred, mapped_column

from bir.base import Base, UTCDateTime
from bir.errors import shown

if TYPE_CHECKING:  # the planner's state lives in bir.changeset, which imports this module
    from bir.changeset import _Plan, _Subject

SHA256 = re.compile(r"^[0-9a-f]{64}$")
MAX_FILENAME = 120
MAX_TITLE = 200
MAX_PER_ITEM = 50


class Blob(Base):
    """The bytes of one uploaded file, stored once whoever uploads them again."""

    __tablename__ = "attachment_blob"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int] = mapped_column(BigInteger)
    # Read from the bytes when uploaded (never the client's header nor the file's extension).
    content_type: Mapped[str] = mapped_column(String(100))
    # "database" (the bytes are in ``data``) or "directory" (a file named by the hash).
    stored_in: Mapped[str] = mapped_column(String(16))
    # Loaded only when the file is downloaded, never by a list.
    data: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    created_by: Mapped[str] = mapped_column(String(64))


class ItemAttachment(Base):
    """A file attached to an item, from the change that attached it until the change that
    removed it (half-open, as relations are)."""

    __tablename__ = "bir_item_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("bir_item.id"))
    blob_id: Mapped[int] = mapped_column(ForeignKey("attachment_blob.id"), index=True)
    filename: Mapped[str] = mapped_column(String(MAX_FILENAME))
    title: Mapped[str | None] = mapped_column(String(MAX_TITLE))
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_to: Mapped[datetime | None] = mapped_column(UTCDateTime)
    change_id: Mapped[int] = mapped_column(ForeignKey("chm_change.id"), index=True)
    ended_change_id: Mapped[int | None] = mapped_column(ForeignKey("chm_change.id"), index=True)

    __table_args__ = (
        Index("ix_bir_item_attachment_item", "item_id", "valid_from"),
        # The same file is attached to an item once at a time.
        Index("uq_bir_item_attachment_current", "item_id", "blob_id", unique=True,
              sqlite_where=text("valid_to IS NULL"), postgresql_where=text("valid_to IS NULL")),
    )


class ChangeAttachment(Base):
    """A file kept with a change (an RFC's quote or contract): documentation of the change, not
    register data."""

    __tablename__ = "chm_change_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    change_id: Mapped[int] = mapped_column(ForeignKey("chm_change.id", ondelete="CASCADE"),
                                           index=True)
    blob_id: Mapped[int] = mapped_column(ForeignKey("attachment_blob.id"), index=True)
    filename: Mapped[str] = mapped_column(String(MAX_FILENAME))
    added_by: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


def attachment_events(session: Session, item_id: int
                      ) -> list[tuple[int, datetime, str | None, str | None]]:
    """Every attach and removal on an item, oldest first, for its history: (the change's id,
    when, the file removed, the file attached)."""
    events: list[tuple[int, datetime, str | None, str | None]] = []
    for row in session.scalars(select(ItemAttachment).where(ItemAttachment.item_id == item_id)):
        events.append((row.change_id, row.valid_from, None, row.filename))
        if row.valid_to is not None and row.ended_change_id is not None:
            events.append((row.ended_change_id, row.valid_to, row.filename, None))
    return sorted(events, key=lambda event: event[1])


# -- names ---------------------------------------------------------------------------------------

def _unsafe(char: str) -> bool:
    """Control and format characters (a right-to-left override makes ``exe.pdf`` of
    ``fdp.exe``), and path separators."""
    return unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp") or char in "/\\"


def filename_problem(name: Any) -> str | None:
    """Why ``name`` cannot be an attachment's file name, or None."""
    if not isinstance(name, str) or not name.strip():
        return "give the file's name, e.g. invoice.pdf"
    if len(name) > MAX_FILENAME:
        return f"is longer than {MAX_FILENAME} characters"
    if any(_unsafe(c) for c in name) or name.strip() in (".", ".."):
        return f"{shown(name)} holds a path or a control character"
    if name != name.strip():
        return "starts or ends with a space"
    return None


def clean_filename(raw: str | None) -> str:
    """An uploaded file's name fit to keep: the last part of a path, control characters and
    surrounding spaces and dots removed, at most ``MAX_FILENAME`` characters (the extension
    kept); ``attachment`` when nothing is left."""
    name = unicodedata.normalize("NFC", raw or "")
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(" " if c in "\t\n\r" else c for c in name if not _unsafe(c) or c in "\t\n\r")
    name = " ".join(name.split()).strip(" .")
    if len(name) > MAX_FILENAME:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 10:
            name = stem[:MAX_FILENAME - len(ext) - 1].rstrip(" .") + "." + ext
        else:
            name = name[:MAX_FILENAME].rstrip(" .")
    return name or "attachment"


# -- planning ------------------------------------------------------------------------------------

@dataclass
class AttachmentPlan:
    """What planning knows of attachments: per item (key or @ref) the files attached now and
    after the operations planned so far (sha256 -> file name), and the blobs that exist."""

    attached: dict[str, dict[str, str]] = field(default_factory=dict)
    ids: dict[str, dict[int, str]] = field(default_factory=dict)  # item -> row id -> sha256
    blobs: dict[str, bool] = field(default_factory=dict)


def _state(plan: _Plan) -> AttachmentPlan:
    if plan.attachments is None:
        plan.attachments = AttachmentPlan()
    state: AttachmentPlan = plan.attachments
    return state


def _files_of(session: Session, state: AttachmentPlan, name: str, subject: _Subject
              ) -> dict[str, str]:
    """The files attached to ``subject`` as planned so far (read from the register once)."""
    if name not in state.attached:
        files: dict[str, str] = {}
        ids: dict[int, str] = {}
        if subject.item_id is not None:
            rows = session.execute(
                select(ItemAttachment.id, Blob.sha256, ItemAttachment.filename)
                .join(Blob, Blob.id == ItemAttachment.blob_id)
                .where(ItemAttachment.item_id == subject.item_id,
                       ItemAttachment.valid_to.is_(None)))
            for row_id, sha, filename in rows:
                files[sha] = filename
                ids[row_id] = sha
        state.attached[name] = files
        state.ids[name] = ids
    return state.attached[name]


def _blob_exists(session: Session, state: AttachmentPlan, sha: str) -> bool:
    if sha not in state.blobs:
        state.blobs[sha] = session.scalar(select(Blob.id).where(Blob.sha256 == sha)) is not None
    return state.blobs[sha]


def _subject_of(plan: _Plan, raw: dict[str, Any], path: str) -> tuple[str, _Subject] | None:
    subject = plan.subject(raw.get("item"), f"{path}.item")
    if subject is None:
        return None
    if not plan.within_model(subject.class_code, f"{path}.item", subject.label):
        return None
    return raw["item"].strip(), subject


def plan_attach(plan: _Plan, raw: dict[str, Any], path: str) -> dict[str, Any] | None:
    """``{"op": "attach", "item": KEY or @ref, "attachment": SHA256, "filename": ...,
    "title": ...}``: attach an uploaded file to an item."""
    session, state = plan.session, _state(plan)
    if _unknown_keys(plan, raw, path, {"op", "item", "attachment", "filename", "title"}):
        return None
    named = _subject_of(plan, raw, path)
    sha = raw.get("attachment")
    if not isinstance(sha, str) or not SHA256.match(sha):
        plan.error(f"{path}.attachment", f"{shown(sha)} is not an uploaded file's SHA-256 "
                                         "(64 hexadecimal digits)")
        sha = None
    elif not _blob_exists(session, state, sha):
        plan.error(f"{path}.attachment", f"no uploaded file {sha[:12]}…: upload it first")
        sha = None
    filename = raw.get("filename")
    if (problem := filename_problem(filename)) is not None:
        plan.error(f"{path}.filename", problem)
        filename = None
    title = raw.get("title")
    if title is not None and (not isinstance(title, str) or len(title) > MAX_TITLE or any(
            unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in title)):
        plan.error(f"{path}.title", f"must be text of at most {MAX_TITLE} characters without "
                                    "control characters")
        title = None
    if named is None or sha is None or filename is None:
        return None
    name, subject = named
    files = _files_of(session, state, name, subject)
    if sha in files:
        plan.error(f"{path}.attachment", f"{subject.label} already has this file attached, as "
                                         f"{files[sha]}")
        return None
    if len(files) >= MAX_PER_ITEM:
        plan.error(f"{path}.item", f"{subject.label} has {len(files)} attachments, the most an "
                                   "item keeps: remove one first")
        return None
    files[sha] = filename
    title = (title or "").strip() or None
    return {"item": name, "attachment": sha, "filename": filename, "title": title}


def plan_detach(plan: _Plan, raw: dict[str, Any], path: str) -> dict[str, Any] | None:
    """``{"op": "detach", "item": KEY, "attachment": SHA256 or the attachment's id}``: remove a
    file from an item (its history keeps it)."""
    session, state = plan.session, _state(plan)
    # ``filename`` is what a planned detach shows; the register's own name is kept.
    if _unknown_keys(plan, raw, path, {"op", "item", "attachment", "filename"}):
        return None
    named = _subject_of(plan, raw, path)
    if named is None:
        return None
    name, subject = named
    files = _files_of(session, state, name, subject)
    wanted = raw.get("attachment")
    sha: str | None = None
    if isinstance(wanted, int) and not isinstance(wanted, bool):
        sha = state.ids.get(name, {}).get(wanted)
    elif isinstance(wanted, str) and wanted.strip().isdigit() and len(wanted.strip()) < 12:
        sha = state.ids.get(name, {}).get(int(wanted.strip()))
    elif isinstance(wanted, str) and SHA256.match(wanted):
        sha = wanted
    if sha is None or sha not in files:
        plan.error(f"{path}.attachment", f"{shown(wanted)} is not a file attached to "
                                         f"{subject.label}")
        return None
    filename = files.pop(sha)
    return {"item": name, "attachment": sha, "filename": filename}


def _unknown_keys(plan: _Plan, raw: dict[str, Any], path: str, allowed: set[str]) -> bool:
    unknown = sorted(set(raw) - allowed)
    for name in unknown:
        plan.error(f"{path}.{name}", f"is not a field of a {raw['op']} operation")
    return bool(unknown)


__all__ = ["MAX_FILENAME", "MAX_PER_ITEM", "MAX_TITLE", "SHA256", "Blob", "ChangeAttachment",
           "ItemAttachment", "attachment_events", "clean_filename", "filename_problem",
           "plan_attach", "plan_detach"]
