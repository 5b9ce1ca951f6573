"""Attachments on the item and change pages: upload, download and remove.

Attaching a file to an item is one action for the coordinator and still a change: the service
registers a standard change with the ``attach`` operation and carries it through its steps. The
page then says which change did it, or where that change waits and why (the file is listed as
pending with the change until it is implemented). Removing is a change the same way. A file kept
with a change (its quote, its contract) is added by the change's participants while it is open.
"""

from __future__ import annotations

from flask import current_app, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from usm.services import attachments
from usm.services.errors import Invalid, Refused
from web.attachments.blueprint import bp
from web.attachments.downloads import file_response, storage
from web.support import access
from web.support.context import database
from web.support.security import roles_required


def _item_page(key: str) -> ResponseReturnValue:
    return redirect(url_for("register.item", key=key.strip().upper(), _anchor="attachments"),
                    303)


def _change_page(key: str) -> ResponseReturnValue:
    return redirect(url_for("changes.detail", key=key.strip().upper(), _anchor="files"), 303)


def _problems(exc: Invalid) -> str:
    return "; ".join(e.message for e in exc.errors) or str(exc)


def _report(done: attachments.AttachResult, attached: bool) -> None:
    carried = done.change
    if carried.reached:
        text = (_("%(file)s is attached: change %(change)s was carried through all its steps.",
                  file=done.filename, change=carried.key) if attached else
                _("%(file)s is removed: change %(change)s was carried through all its steps.",
                  file=done.filename, change=carried.key))
        flash(text, "success")
        return
    flash(_("%(file)s waits for change %(change)s, which stopped at “%(state)s”: %(reasons)s. "
            "It takes effect when the change is implemented.", file=done.filename,
            change=carried.key, state=carried.state_label, reasons="; ".join(carried.blocked)),
          "info")


@bp.post("/items/<key>/attachments")
@roles_required(*access.CHANGE_EDITORS)
def attach(key: str) -> ResponseReturnValue:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(_("Choose the file to attach."), "error")
        return _item_page(key)
    try:
        done = attachments.attach_file(database(), storage(), current_user.username, key,
                                       upload.stream, upload.filename, request.form.get("title"))
    except Invalid as exc:
        flash(_("Nothing was attached: %(problems)s", problems=_problems(exc)), "error")
        return _item_page(key)
    _report(done, attached=True)
    return _item_page(key)


@bp.post("/items/<key>/attachments/<int:attachment_id>/remove")
@roles_required(*access.CHANGE_EDITORS)
def detach(key: str, attachment_id: int) -> ResponseReturnValue:
    try:
        done = attachments.detach_file(database(), current_user.username, key, attachment_id)
    except Invalid as exc:
        flash(_("Nothing was removed: %(problems)s", problems=_problems(exc)), "error")
        return _item_page(key)
    _report(done, attached=False)
    return _item_page(key)


@bp.get("/items/<key>/attachments/<int:attachment_id>")
@roles_required(*access.REGISTER_READERS)
def item_download(key: str, attachment_id: int) -> ResponseReturnValue:
    return file_response(attachments.item_file(database(), storage(), key, attachment_id))


@bp.post("/changes/<key>/files")
@roles_required(*access.CHANGE_PARTICIPANTS)
def add_change_file(key: str) -> ResponseReturnValue:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(_("Choose the file to add."), "error")
        return _change_page(key)
    try:
        added = attachments.add_change_file(database(), storage(), current_user.username, key,
                                            upload.stream, upload.filename)
    except Invalid as exc:
        flash(_("Nothing was added: %(problems)s", problems=_problems(exc)), "error")
        return _change_page(key)
    except Refused as exc:
        flash(_("Nothing was added: %(problem)s", problem=str(exc)), "error")
        return _change_page(key)
    flash(_("%(file)s is kept with the change.", file=added.filename), "success")
    return _change_page(key)


@bp.get("/changes/<key>/files/<int:file_id>")
@roles_required(*access.CHANGE_PARTICIPANTS)
def change_download(key: str, file_id: int) -> ResponseReturnValue:
    return file_response(attachments.change_file(database(), storage(), key, file_id))


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_error: RequestEntityTooLarge) -> ResponseReturnValue:
    """A body over the app's limit, refused when the form is first read (the CSRF check)."""
    limit = current_app.config.get("ATTACHMENT_MAX_BYTES") or attachments.Storage().max_bytes
    flash(_("Nothing was attached: the file is larger than %(size)s, the most an attachment "
            "may be.", size=attachments.size_text(limit)), "error")
    key = (request.view_args or {}).get("key", "")
    if request.endpoint == "attachments.add_change_file":
        return _change_page(key)
    return _item_page(key)
