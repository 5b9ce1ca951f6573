"""Attachments (issue 23): files on items and on changes, kept where every web worker and host
finds them.

- ``Storage`` (``USM_ATTACHMENT_STORAGE``, ``USM_ATTACHMENT_MAX_BYTES``): the database by
  default, or a shared directory; one copy per content (SHA-256).
- Every file's kind is read from its bytes against an allow-list (``content``).
- Item attachments are register data: ``attach_file`` and ``detach_file`` register a
  ``standard-change`` with an ``attach``/``detach`` operation and carry it through its steps;
  the item's history shows the file under that change.
- Change attachments are kept with the RFC while it is open (``add_change_file``).
"""

from __future__ import annotations

from usm.services.attachments.changes import (
    MAX_PER_CHANGE,
    ChangeFile,
    ChangeFiles,
    add_change_file,
    change_file,
    change_files,
)
from usm.services.attachments.content import ALLOWED, ALLOWED_TEXT, SHOWN_INLINE, TEXT, content_type
from usm.services.attachments.items import (
    Attachment,
    AttachResult,
    ItemAttachments,
    PendingAttachment,
    attach_file,
    detach_file,
    item_attachments,
    item_file,
)
from usm.services.attachments.store import (
    Download,
    Storage,
    StoredBlob,
    discard,
    put,
    size_text,
    sweep,
)

TEXT_TYPE = TEXT

__all__ = [
    "TEXT_TYPE", "ALLOWED", "ALLOWED_TEXT", "MAX_PER_CHANGE", "SHOWN_INLINE", "AttachResult", "Attachment",
    "ChangeFile", "ChangeFiles", "Download", "ItemAttachments", "PendingAttachment", "Storage",
    "StoredBlob", "add_change_file", "attach_file", "change_file",
    "change_files", "content_type", "detach_file", "discard", "item_attachments", "item_file",
    "put", "size_text", "sweep",
]
