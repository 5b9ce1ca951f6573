"""The editors' live check: the YAML a designer is typing, checked exactly as a save would check
it and answered as JSON (``{"problems": [...]}``), with nothing stored.

The browser sends ``{"source": ...}`` as JSON with the CSRF token in the ``X-CSRFToken`` header
(a form field ``source`` works as well). Flask-WTF checks the token before the view runs.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import jsonify, request
from flask.typing import ResponseReturnValue

MAX_SOURCE_BYTES = 256 * 1024
# JSON escapes newlines and quotes, so the body may be somewhat larger than the text it carries.
_MAX_BODY_BYTES = 2 * MAX_SOURCE_BYTES
_TOO_LARGE = f"source: larger than {MAX_SOURCE_BYTES // 1024} KiB; it is checked when you save"


def problems_answer(check: Callable[[str], list[str]]) -> ResponseReturnValue:
    """Run ``check`` on the posted text and answer its problems (an empty list when it passes)."""
    if (request.content_length or 0) > _MAX_BODY_BYTES:
        return jsonify(problems=[_TOO_LARGE]), 413
    if request.is_json:
        try:
            body = request.get_json(silent=True)
        except RecursionError:  # silent covers ValueError only; a deep body is not a source
            body = None
        source = body.get("source") if isinstance(body, dict) else None
    else:
        source = request.form.get("source")
    if not isinstance(source, str):
        return jsonify(problems=["source: send the YAML text as 'source'"]), 400
    if len(source.encode("utf-8")) > MAX_SOURCE_BYTES:
        return jsonify(problems=[_TOO_LARGE]), 413
    return jsonify(problems=check(source))
