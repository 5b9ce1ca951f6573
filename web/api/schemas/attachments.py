"""Schemas of attachments: files on items (attached and removed by changes) and on changes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field
from spectree.model_adapter.pydantic_adapter import BaseFile

from web.api.schemas.common import Moment, Query


class AttachmentUpload(BaseModel):
    """A multipart upload: the file in the part ``file``, an optional ``title``."""

    file: BaseFile
    title: str | None = Field(None, description="at most 200 characters, e.g. Invoice 2026-114")


class ChangeFileUpload(BaseModel):
    """A multipart upload: the file in the part ``file``."""

    file: BaseFile


class AttachmentsQuery(Query):
    as_of: Moment | None = Field(None, description="the attachments at this moment")


class AttachmentOut(BaseModel):
    id: int
    filename: str
    title: str | None
    content_type: str = Field(description="read from the file's bytes when it was uploaded")
    size: int = Field(description="bytes")
    sha256: str
    added_by: str
    added_at: datetime
    change: str = Field(description="the change that attached it")
    content: str = Field(description="where to download it")


class PendingAttachmentOut(BaseModel):
    op: str = Field(description="attach or detach")
    filename: str
    change: str
    state: str = Field(description="where the change waits")


class ItemAttachmentsOut(BaseModel):
    key: str
    as_of: datetime | None
    attachments: list[AttachmentOut]
    pending: list[PendingAttachmentOut] = Field(description="files changes in progress will "
                                                            "attach or remove")


class CarriedOut(BaseModel):
    """The change that attaches or removes the file, and how far it went."""

    key: str
    state: str
    state_label: str
    step: str
    reached: bool = Field(description="carried through every step (closed)")
    blocked: list[str] = Field(description="when not: what a person must do next")


class AttachedOut(BaseModel):
    filename: str
    sha256: str
    change: CarriedOut


class ChangeFileOut(BaseModel):
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    added_by: str
    at: datetime
    content: str


class ChangeFilesOut(BaseModel):
    key: str
    open: bool = Field(description="files may still be added")
    files: list[ChangeFileOut]
