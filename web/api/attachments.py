"""attachments over the API (issue 23): files on items, attached and removed by changes carried
through their steps, and files kept with a change; downloads with the headers of the screens."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import request, url_for

from usm.services import attachments
from web.api.auth import holder, roles_required
from web.api.blueprint import bp
from web.api.errors import ApiError
from web.api.schemas.attachments import (
    AttachedOut,
    AttachmentOut,
    AttachmentsQuery,
    AttachmentUpload,
    CarriedOut,
    ChangeFileOut,
    ChangeFilesOut,
    ChangeFileUpload,
    ItemAttachmentsOut,
    PendingAttachmentOut,
)
from web.api.spec import api_spec, responses
from web.attachments.downloads import file_response, storage
from web.support import access
from web.support.context import database

TAGS = ["attachments"]
FILE_ID = "<int(min=1, max=2147483647):file_id>"


def multipart(view: Callable[..., Any]) -> Callable[..., Any]:
    """Refuse, before the schema is checked, a body that is not a multipart form with a part
    named ``file`` (or that has parts without a name): the same 422 whatever else was sent."""
    @wraps(view)
    def checked(*args: Any, **kwargs: Any) -> Any:
        if request.mimetype != "multipart/form-data" or "file" not in request.files \
                or any(not name for name in (*request.form.keys(), *request.files.keys())):
            raise ApiError(422, "invalid_request", "send the file as multipart/form-data, in "
                                                   "the part named file", [("file", "is missing")])
        return view(*args, **kwargs)

    return checked


def _upload() -> Any:
    return request.files["file"]


def _attachment(key: str, a: attachments.Attachment) -> AttachmentOut:
    return AttachmentOut(id=a.id, filename=a.filename, title=a.title,
                         content_type=a.content_type, size=a.size, sha256=a.sha256,
                         added_by=a.added_by, added_at=a.added_at, change=a.change_key,
                         content=url_for("api.get_item_attachment_content", key=key,
                                         file_id=a.id))


def _carried(done: attachments.AttachResult) -> tuple[AttachedOut, int, dict[str, str]]:
    c = done.change
    out = AttachedOut(filename=done.filename, sha256=done.sha256, change=CarriedOut(
        key=c.key, state=c.state, state_label=c.state_label, step=c.step, reached=c.reached,
        blocked=list(c.blocked)))
    return out, 201, {"Location": url_for("api.get_change", key=c.key)}


@bp.get("/items/<key>/attachments")
@roles_required(*access.REGISTER_READERS)
@api_spec.validate(query=AttachmentsQuery, resp=responses("HTTP_404", HTTP_200=ItemAttachmentsOut),
                   tags=TAGS, operation_id="listItemAttachments")
def list_item_attachments(key: str, query: AttachmentsQuery) -> ItemAttachmentsOut:
    """The files attached to an item, now or as of a moment, and those pending in changes"""
    found = attachments.item_attachments(database(), key, as_of=query.as_of)
    return ItemAttachmentsOut(
        key=found.key, as_of=found.as_of,
        attachments=[_attachment(found.key, a) for a in found.attachments],
        pending=[PendingAttachmentOut(op=p.op, filename=p.filename, change=p.change_key,
                                      state=p.state_label) for p in found.pending])


@bp.post("/items/<key>/attachments")
@roles_required(*access.CHANGE_EDITORS, file_body=True)
@multipart
@api_spec.validate(form=AttachmentUpload, resp=responses(
    "HTTP_404", "HTTP_409", "HTTP_413", HTTP_201=AttachedOut), tags=TAGS,
    operation_id="attachToItem")
def attach_to_item(key: str) -> Any:
    """Attach a file to an item: one call, and a change

    Send the file as `multipart/form-data` (part `file`, optional `title`). Its kind is read
    from its bytes: PDF, PNG, JPEG, GIF, WebP, plain text or CSV, Word (.docx) or Excel (.xlsx);
    anything else (HTML, SVG, programs, archives) is a 422 naming the file and what it is, as is
    a file over the size limit (`USM_ATTACHMENT_MAX_BYTES`, 20 MB unless set). A
    `standard-change` with an `attach` operation is registered and carried through its steps as
    far as the caller's roles and the model's guards allow: `change.reached` tells whether it
    was closed; otherwise `change.blocked` says what a person must do next, and the file is
    attached when that change is implemented.
    """
    upload = _upload()
    done = attachments.attach_file(database(), storage(), holder().username, key,
                                   upload.stream, upload.filename, request.form.get("title"))
    return _carried(done)


@bp.get(f"/items/<key>/attachments/{FILE_ID}/content")
@roles_required(*access.REGISTER_READERS)
@api_spec.validate(resp=responses("HTTP_404", HTTP_200=None), tags=TAGS,
                   operation_id="getItemAttachmentContent")
def get_item_attachment_content(key: str, file_id: int) -> Any:
    """Download a file attached to an item, now or before (the history keeps removed files)

    Always as an attachment (`Content-Disposition`), with the type read from its bytes and
    `X-Content-Type-Options: nosniff`.
    """
    return file_response(attachments.item_file(database(), storage(), key, file_id))


@bp.delete(f"/items/<key>/attachments/{FILE_ID}")
@roles_required(*access.CHANGE_EDITORS)
@api_spec.validate(resp=responses("HTTP_404", "HTTP_409", HTTP_201=AttachedOut), tags=TAGS,
                   operation_id="detachFromItem")
def detach_from_item(key: str, file_id: int) -> Any:
    """Remove a file from an item: a change with a `detach` operation, carried through

    The answer is that change (201), as for attaching; the item's history keeps the file.
    """
    return _carried(attachments.detach_file(database(), holder().username, key, file_id))


def _change_file(key: str, f: attachments.ChangeFile) -> ChangeFileOut:
    return ChangeFileOut(id=f.id, filename=f.filename, content_type=f.content_type, size=f.size,
                         sha256=f.sha256, added_by=f.added_by, at=f.at,
                         content=url_for("api.get_change_file_content", key=key, file_id=f.id))


@bp.get("/changes/<key>/attachments")
@roles_required(*access.CHANGE_PARTICIPANTS)
@api_spec.validate(resp=responses("HTTP_404", HTTP_200=ChangeFilesOut), tags=TAGS,
                   operation_id="listChangeFiles")
def list_change_files(key: str) -> ChangeFilesOut:
    """The files kept with a change (quotes, contracts); they change nothing in the register"""
    found = attachments.change_files(database(), key)
    return ChangeFilesOut(key=found.key, open=found.open,
                          files=[_change_file(found.key, f) for f in found.files])


@bp.post("/changes/<key>/attachments")
@roles_required(*access.CHANGE_PARTICIPANTS, file_body=True)
@multipart
@api_spec.validate(form=ChangeFileUpload, resp=responses(
    "HTTP_404", "HTTP_409", "HTTP_413", HTTP_201=ChangeFileOut), tags=TAGS,
    operation_id="addChangeFile")
def add_change_file(key: str) -> Any:
    """Keep a file with a change while it is open (409 once it is closed)

    `multipart/form-data`, part `file`; the same kinds and size limit as item attachments.
    """
    added = attachments.add_change_file(database(), storage(), holder().username, key,
                                        _upload().stream, request.files["file"].filename)
    return _change_file(key.strip().upper(), added), 201


@bp.get(f"/changes/<key>/attachments/{FILE_ID}/content")
@roles_required(*access.CHANGE_PARTICIPANTS)
@api_spec.validate(resp=responses("HTTP_404", HTTP_200=None), tags=TAGS,
                   operation_id="getChangeFileContent")
def get_change_file_content(key: str, file_id: int) -> Any:
    """Download a file kept with a change"""
    return file_response(attachments.change_file(database(), storage(), key, file_id))
