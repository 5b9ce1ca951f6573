"""Keyset pagination over the API: the cursor (``usm.services.cursors``) that names the key the
previous page ended at, and the URL of the next page with the same filters."""

from __future__ import annotations

from typing import TypeVar

from flask import request, url_for

from usm.services.cursors import decode_cursor, encode_cursor
from usm.services.user_input import InputError

T = TypeVar("T")


def after_key(cursor: str | None) -> str | None:
    """The key the previous page ended at; a 422 naming ``cursor`` for one this API did not make."""
    if cursor is None:
        return None
    message = "use the cursor of a previous page's next link"
    (key,) = decode_cursor(cursor, 1, message=message)
    if key is None:
        raise InputError("cursor", message)
    return key


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
