"""Import files uploaded on the web screen or over the API, kept in the instance folder between the
reconciliation and the coordinator's accept (the web tier keeps no state of its own).

An upload is named by a random token; beside the file, a small JSON file keeps who uploaded it and
the options it is reconciled with (format, match order, name), so an accept names only the token.
Nothing is kept longer than its use:

- a refused upload leaves nothing: the body is written to a ``.part`` file that becomes the upload
  only once it is complete and within the quota, and is deleted on any failure;
- an accepted upload is deleted at once; a marker naming the change it became stays for a day, so
  a second accept is told which change that was;
- an abandoned upload is deleted after a day, swept at each new upload;
- each user keeps at most ``MAX_UPLOADS_PER_USER`` uploads of ``MAX_BYTES_PER_USER`` in all.

Accepting takes a claim on the upload, so exactly one accept registers a change from it: an
exclusive ``flock`` on the stored file. The kernel releases it when the process holding it ends,
however it ends (a worker killed with SIGKILL included), so a crash never leaves the upload
blocked. The lock holds across the worker processes of one host; the instance folder must be on
a local disk (``flock`` is not reliable on network file systems).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from usm.config import instance_path
from usm.services.errors import Refused

TOKEN = re.compile(r"^[0-9a-f]{32}$")
KEEP_SECONDS = 24 * 3600
# A ``.part`` file older than this belongs to a process that died while writing it.
PART_SECONDS = 3600
CHUNK = 1 << 16
MAX_UPLOADS_PER_USER = 5
MAX_BYTES_PER_USER = 200 * 1024 * 1024


class UploadQuotaFull(Refused):
    """The user already keeps as many uploads, or as many bytes of them, as the quota allows."""

    code = "upload_quota"

    def __init__(self, uploads: int, limit_bytes: int):
        self.uploads = uploads
        self.limit_bytes = limit_bytes
        super().__init__(
            f"you keep {uploads} upload(s) not yet accepted; at most {MAX_UPLOADS_PER_USER} "
            f"uploads of {limit_bytes // (1024 * 1024)} MB in all are kept per user: accept "
            "one of them, or wait until they are removed a day after their upload")


def _folder() -> Path:
    folder = instance_path() / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def store_upload(stream: IO[bytes], owner: str) -> str:
    """Save an uploaded file for ``owner``; return its token. ``UploadQuotaFull`` when the user's
    quota is used up (nothing is kept then); any failure while reading the stream (a body over
    the size limit, a client that went away) leaves nothing either."""
    folder = _folder()
    _sweep(folder)
    count, used = _usage(folder, owner)
    if count >= MAX_UPLOADS_PER_USER:
        raise UploadQuotaFull(count, MAX_BYTES_PER_USER)
    token = secrets.token_hex(16)
    part = folder / f"{token}.part"
    try:
        with part.open("wb") as out:
            written = 0
            while chunk := stream.read(CHUNK):
                written += len(chunk)
                if used + written > MAX_BYTES_PER_USER:
                    raise UploadQuotaFull(count, MAX_BYTES_PER_USER)
                out.write(chunk)
        _write_meta(token, {"owner": owner})
        part.rename(folder / f"{token}.upload")
    except BaseException:
        part.unlink(missing_ok=True)
        (folder / f"{token}.json").unlink(missing_ok=True)
        raise
    return token


def _sweep(folder: Path) -> None:
    """Remove what outlived its use: uploads, options and acceptance markers older than a day
    (an upload being accepted right now stays), and ``.part`` files of writers that died."""
    now = time.time()
    for path in folder.iterdir():
        try:
            age = now - path.stat().st_mtime
        except FileNotFoundError:  # removed meanwhile by another worker
            continue
        if path.suffix == ".part" and age > PART_SECONDS:
            path.unlink(missing_ok=True)
        elif age > KEEP_SECONDS and not (path.suffix == ".upload" and _locked(path)):
            path.unlink(missing_ok=True)


def _usage(folder: Path, owner: str) -> tuple[int, int]:
    """How many uploads ``owner`` keeps, and their bytes."""
    count = size = 0
    for meta in folder.glob("*.json"):
        upload = meta.with_suffix(".upload")
        try:
            if json.loads(meta.read_text(encoding="utf-8")).get("owner") != owner:
                continue
            size += upload.stat().st_size
        except (FileNotFoundError, ValueError):  # accepted, swept or being written meanwhile
            continue
        count += 1
    return count, size


def upload_path(token: str) -> Path | None:
    """The stored file of ``token``; ``None`` for a token that is malformed, unknown or expired."""
    if not TOKEN.match(token):
        return None
    path = _folder() / f"{token}.upload"
    return path if path.is_file() else None


def discard_upload(token: str) -> None:
    """Delete an upload and its options (nothing can be accepted from it any more)."""
    if TOKEN.match(token):
        (_folder() / f"{token}.upload").unlink(missing_ok=True)
        (_folder() / f"{token}.json").unlink(missing_ok=True)


def _write_meta(token: str, values: dict[str, Any]) -> None:
    (_folder() / f"{token}.json").write_text(json.dumps(values), encoding="utf-8")


def save_options(token: str, options: dict[str, str]) -> None:
    """Keep the options an upload is reconciled with (format, match order, file name)."""
    _write_meta(token, {**(upload_options(token) or {}), **options})


def upload_options(token: str) -> dict[str, str] | None:
    """What is kept beside an upload: its owner and the options of ``save_options``; ``None``
    when there is nothing."""
    path = _folder() / f"{token}.json"
    if not TOKEN.match(token) or not path.is_file():
        return None
    options: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    return options


@dataclass
class Claim:
    """The one accept allowed to register a change from an upload, while it runs."""

    token: str
    fd: int | None

    def release(self) -> None:
        """Let another accept try (this one registered nothing); closing drops the lock."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def claim_upload(token: str) -> Claim | None:
    """Claim an upload for an accept; ``None`` when another accept holds it, or it is gone (was
    accepted meanwhile, expired, never existed). Release the claim, or end it with
    ``record_acceptance``; a process that dies holding it releases it too."""
    path = upload_path(token)
    if path is None:
        return None
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    if os.fstat(fd).st_nlink == 0:  # accepted (so deleted) by the claim this one waited for
        os.close(fd)
        return None
    return Claim(token, fd)


def release_claim(claim: Claim) -> None:
    """Undo ``claim_upload`` after an accept that registered nothing."""
    claim.release()


def record_acceptance(claim: Claim, change_key: str) -> None:
    """The claimed upload became ``change_key``: keep that, drop the file and its options, and
    end the claim."""
    (_folder() / f"{claim.token}.accepted").write_text(change_key, encoding="utf-8")
    discard_upload(claim.token)
    claim.release()


def _locked(path: Path) -> bool:
    """Whether an accept holds a claim on ``path`` now."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def accepted_as(token: str) -> str | None:
    """The change an upload was accepted as; ``None`` if it was not accepted (yet)."""
    if not TOKEN.match(token):
        return None
    marker = _folder() / f"{token}.accepted"
    return marker.read_text(encoding="utf-8").strip() if marker.is_file() else None
