"""Error pages: a short, plain explanation and a way back, never a stack trace."""

from __future__ import annotations

from flask import render_template
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException, InternalServerError

HANDLED = (400, 403, 404, 405, 500)


def render_error(error: Exception) -> ResponseReturnValue:
    if not isinstance(error, HTTPException):
        error = InternalServerError()
    code = error.code or 500
    # An unexpected failure's own text may reveal internals; show only the generic message.
    description = (InternalServerError.description if code == 500 else error.description)
    return render_template("error.html", code=code, title=error.name,
                           description=description), code
