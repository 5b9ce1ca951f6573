"""Import files uploaded on the web screen, kept in the instance folder between the
reconciliation and the coordinator's accept (the web tier keeps no state of its own).
An upload is named by a random token; uploads older than a day are removed."""

from __future__ import annotations

import re
import secrets
import time
from pathlib import Path
from typing import IO

from usm.config import instance_path

TOKEN = re.compile(r"^[0-9a-f]{32}$")
KEEP_SECONDS = 24 * 3600
CHUNK = 1 << 16


def _folder() -> Path:
    folder = instance_path() / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def store_upload(stream: IO[bytes]) -> str:
    """Save an uploaded file; return its token."""
    folder = _folder()
    cutoff = time.time() - KEEP_SECONDS
    for old in folder.glob("*.upload"):
        if old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)
    token = secrets.token_hex(16)
    with (folder / f"{token}.upload").open("wb") as out:
        while chunk := stream.read(CHUNK):
            out.write(chunk)
    return token


def upload_path(token: str) -> Path | None:
    """The stored file of ``token``; ``None`` for a token that is malformed, unknown or expired."""
    if not TOKEN.match(token):
        return None
    path = _folder() / f"{token}.upload"
    return path if path.is_file() else None


def discard_upload(token: str) -> None:
    path = upload_path(token)
    if path is not None:
        path.unlink(missing_ok=True)
