"""Reading a YAML file a process designer uploads or pastes (change models and item classes)."""

from __future__ import annotations

from flask import request
from flask_babel import gettext as _


def uploaded_yaml(limit: int, missing: str) -> tuple[str, str, list[str]]:
    """The uploaded file (or the pasted ``source`` field) as ``(name, text, problems)``;
    ``problems`` names the file when it is too large, not UTF-8, or nothing was given
    (``missing`` says what to give)."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        source = request.form.get("source", "")
        return _("the pasted text"), source, ([] if source.strip() else [missing])
    name = upload.filename
    raw = upload.read(limit + 1)
    if len(raw) > limit:
        return name, "", [_("%(name)s: larger than %(size)s KiB", name=name, size=limit // 1024)]
    try:
        source = raw.decode("utf-8")
    except UnicodeDecodeError:
        return name, "", [_("%(name)s: not UTF-8 text", name=name)]
    return name, source, ([] if source.strip() else [missing])
