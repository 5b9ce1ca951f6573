"""Scan sessions kept in the instance folder while a coordinator scans (the web tier keeps no
state of its own): per session, a small JSON file (who scans, where, since when, and the upload
it was finished as) and the scanned values, one a line, appended as they come.

A session is named by a random token and belongs to the user who started it. Sessions unused for
a day are removed, swept whenever one starts; each user keeps at most ``MAX_SESSIONS_PER_USER``
open ones (not yet registered as a change): a coordinator walks many rooms in a day.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import time
from pathlib import Path
from typing import Any

from bir.errors import NotFound, Refused
from usm.config import instance_path

TOKEN = re.compile(r"^[0-9a-f]{32}$")
KEEP_SECONDS = 24 * 3600
MAX_SESSIONS_PER_USER = 20
GONE = "no such scan (a scan is kept for a day after its last use); start a new one"


class TooManyScans(Refused):
    code = "scan_quota"

    def __init__(self) -> None:
        super().__init__(f"you keep {MAX_SESSIONS_PER_USER} open scans already; finish one, or "
                         "wait until they are removed a day after their last use")


def _folder() -> Path:
    folder = instance_path() / "scans"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _files(token: str) -> tuple[Path, Path]:
    folder = _folder()
    return folder / f"{token}.json", folder / f"{token}.scans"


def create_session(owner: str, values: dict[str, Any]) -> str:
    """A new session of ``owner`` keeping ``values``; return its token."""
    folder = _folder()
    _sweep(folder)
    if sum(1 for meta in folder.glob("*.json") if _open_of(meta, owner)) >= MAX_SESSIONS_PER_USER:
        raise TooManyScans()
    token = secrets.token_hex(16)
    meta, scans = _files(token)
    scans.touch()
    _write_json(meta, {**values, "owner": owner})
    return token


def read_session(token: str, owner: str) -> dict[str, Any]:
    """The values of ``owner``'s session ``token``; ``NotFound`` for another user's, an unknown
    or an expired one (they are not told apart)."""
    if not TOKEN.match(token):
        raise NotFound(GONE)
    meta, _scans = _files(token)
    try:
        values: dict[str, Any] = json.loads(meta.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError) as exc:
        raise NotFound(GONE) from exc
    if values.get("owner") != owner:
        raise NotFound(GONE)
    return values


def update_session(token: str, owner: str, **changes: Any) -> None:
    values = read_session(token, owner)
    _write_json(_files(token)[0], {**values, **changes})


def scanned_values(token: str) -> list[str]:
    """The values scanned in session ``token`` (read with ``read_session`` first), in order."""
    try:
        text = _files(token)[1].read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise NotFound(GONE) from exc
    return [line for line in text.split("\n") if line]


def append_value(token: str, value: str) -> None:
    """Add one value (one line, appended in one write: two tabs scanning at once both land)."""
    with _files(token)[1].open("a", encoding="utf-8") as out:
        out.write(value + "\n")


def replace_values(token: str, values: list[str]) -> None:
    scans = _files(token)[1]
    part = scans.with_name(scans.name + ".part")
    part.write_text("".join(v + "\n" for v in values), encoding="utf-8")
    os.replace(part, scans)


def _write_json(path: Path, values: dict[str, Any]) -> None:
    part = path.with_name(path.name + ".part")
    part.write_text(json.dumps(values), encoding="utf-8")
    os.replace(part, path)


def _open_of(meta: Path, owner: str) -> bool:
    """Whether ``meta`` is a session of ``owner`` not yet registered as a change."""
    try:
        values = json.loads(meta.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):  # removed, or being replaced, meanwhile
        return False
    return isinstance(values, dict) and values.get("owner") == owner and not values.get("change")


def _sweep(folder: Path) -> None:
    """Remove sessions neither file of which was touched for a day, and what a writer that died
    left behind."""
    now = time.time()
    for part in folder.glob("*.part"):
        try:
            if now - part.stat().st_mtime > KEEP_SECONDS:
                part.unlink(missing_ok=True)
        except FileNotFoundError:
            continue
    for meta in folder.glob("*.json"):
        scans = meta.with_suffix(".scans")
        try:
            last = max(p.stat().st_mtime for p in (meta, scans) if p.exists())
        except (ValueError, FileNotFoundError):  # removed meanwhile by another worker
            continue
        if now - last > KEEP_SECONDS:
            scans.unlink(missing_ok=True)
            meta.unlink(missing_ok=True)
