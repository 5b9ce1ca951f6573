"""Keyset pagination: an opaque cursor that names where the previous page ended, and the URL of
the next page with the same filters."""

from __future__ import annotations

import base64
import binascii
from typing import TypeVar

from flask import request, url_for

from web.api.errors import ApiError

_VERSION = "k1:"
T = TypeVar("T")


def encode_cursor(last_key: str) -> str:
    return base64.urlsafe_b64encode((_VERSION + last_key).encode("utf-8")).decode("ascii") \
        .rstrip("=")


def decode_cursor(cursor: str | None) -> str | None:
    """The key the previous page ended at; 422 for a cursor this API did not make."""
    if cursor is None:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("utf-8")
    except (binascii.Error, ValueError):
        text = ""
    if not text.startswith(_VERSION) or len(text) == len(_VERSION):
        raise ApiError(422, "invalid_request", "the cursor is not one this API gave out",
                       [("cursor", "use the cursor of a previous page's next link")])
    return text.removeprefix(_VERSION)


def page_of(rows: list[T], limit: int, key_of: str = "key") -> tuple[list[T], str | None]:
    """The first ``limit`` of ``rows`` (fetched as ``limit + 1``, so the last page is known
    without an empty page after it) and the URL of the next page, or None on the last one."""
    if len(rows) <= limit:
        return rows, None
    shown = rows[:limit]
    args = {k: v for k, v in request.args.to_dict(flat=False).items() if k != "cursor"}
    assert request.endpoint is not None
    return shown, url_for(request.endpoint, **(request.view_args or {}), **args,
                          cursor=encode_cursor(getattr(shown[-1], key_of)))
