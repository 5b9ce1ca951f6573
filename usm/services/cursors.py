"""Keyset page cursors: an opaque text that names where the previous page ended (its last row's
sort value and key, with the sort it belongs to), read back exactly. The register's pages, the
API's lists and the change queue all use this one codec."""

from __future__ import annotations

import base64
import binascii
import json

from usm.services.user_input import InputError

MAX_CURSOR = 2000  # characters: a cursor this codec makes is far shorter


def encode_cursor(*parts: str | None) -> str:
    """``parts`` (texts or None) as URL-safe base64 of a JSON array, without padding."""
    return base64.urlsafe_b64encode(json.dumps(list(parts)).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, size: int, *, field: str = "cursor",
                  message: str = "not a page link of this list; start again from the first page"
                  ) -> list[str | None]:
    """The ``size`` parts ``encode_cursor`` made ``cursor`` of; ``InputError`` naming ``field``
    for anything else (a cursor of another shape, tampered with, or not one at all)."""
    try:
        if len(cursor) > MAX_CURSOR:
            raise ValueError(cursor)
        parts = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, UnicodeDecodeError, ValueError, RecursionError):
        raise InputError(field, message) from None
    if not isinstance(parts, list) or len(parts) != size or not all(
            part is None or isinstance(part, str) for part in parts):
        raise InputError(field, message)
    return parts
