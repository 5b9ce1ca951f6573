"""Handing out an attached file safely, for the screens and the API alike.

Never shown in the page: every file downloads (``Content-Disposition: attachment``, the name
per RFC 6266 with an ASCII fallback and ``filename*``), with the type read from its bytes when it
was uploaded, ``X-Content-Type-Options: nosniff`` so no browser second-guesses it, a sandboxing
Content-Security-Policy with a sandbox, and ``Cache-Control: private, no-store`` (register files are
not for shared caches)."""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

from flask import Response, current_app

from usm.services import attachments
from usm.services.attachments import TEXT_TYPE, Download, Storage
from web.support.security import CONTENT_SECURITY_POLICY

# The app's policy, and a sandbox: were a file ever opened in a tab, it runs nothing.
DOWNLOAD_POLICY = f"{CONTENT_SECURITY_POLICY}; sandbox"


def storage() -> Storage:
    """Where this deployment keeps the bytes (``USM_ATTACHMENT_STORAGE``) and its size limit."""
    config = current_app.config
    return attachments.Storage.from_setting(config.get("ATTACHMENT_STORAGE", "database"),
                                            config.get("ATTACHMENT_MAX_BYTES")
                                            or attachments.Storage().max_bytes)


def content_disposition(filename: str) -> str:
    """``attachment`` with the name twice: plain ASCII for old clients, UTF-8 for the rest."""
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    ascii_name = "".join(c if c.isprintable() and c not in '"\\;' else "_"
                         for c in ascii_name).strip() or "attachment"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def file_response(download: Download) -> Response:
    kind = download.content_type
    if kind == TEXT_TYPE:
        kind = f"{kind}; charset=utf-8"
    response = Response(download.chunks, headers={
        "Content-Type": kind,
        "Content-Length": str(download.size),
        "Content-Disposition": content_disposition(download.filename),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
        "Content-Security-Policy": DOWNLOAD_POLICY,
    })
    return response
