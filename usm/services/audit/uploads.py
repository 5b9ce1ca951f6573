"""Import files uploaded on the web screen, kept in the instance folder between the
reconciliation and the coordinator's accept (the web tier keeps no state of its own).
An upload is named by a random token; uploads older than a day are removed.

The API also keeps an upload's options (format, match order, name) beside it, so an accept names
only the token, and a claim marker that lets exactly one accept register a change from it."""

from __future__ import annotations

import json
import os
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
    for old in folder.glob("*.*"):
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


def save_options(token: str, options: dict[str, str]) -> None:
    """Keep the options an upload is reconciled with (format, match order, file name)."""
    (_folder() / f"{token}.json").write_text(json.dumps(options), encoding="utf-8")


def upload_options(token: str) -> dict[str, str] | None:
    """The options kept by ``save_options``; ``None`` when there are none."""
    path = _folder() / f"{token}.json"
    if not TOKEN.match(token) or not path.is_file():
        return None
    options: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    return options


def claim_upload(token: str) -> bool:
    """Mark an upload as being accepted; ``False`` when another accept claimed it first (the
    marker is created exclusively, so two concurrent accepts cannot both win)."""
    if not TOKEN.match(token):
        return False
    try:
        os.close(os.open(_folder() / f"{token}.accepted", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True


def release_claim(token: str) -> None:
    """Undo ``claim_upload`` after an accept that registered nothing."""
    if TOKEN.match(token):
        (_folder() / f"{token}.accepted").unlink(missing_ok=True)


def record_acceptance(token: str, change_key: str) -> None:
    """The claimed upload became ``change_key``: keep that, drop the file and its options."""
    (_folder() / f"{token}.accepted").write_text(change_key, encoding="utf-8")
    discard_upload(token)
    (_folder() / f"{token}.json").unlink(missing_ok=True)


def accepted_as(token: str) -> str | None:
    """The change an upload was accepted as ("" while an accept is still running); ``None`` if it
    was not accepted."""
    if not TOKEN.match(token):
        return None
    path = _folder() / f"{token}.accepted"
    return path.read_text(encoding="utf-8").strip() if path.is_file() else None
