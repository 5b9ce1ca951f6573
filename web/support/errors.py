"""Error pages: a short, plain explanation and a way back, never a stack trace."""

from __future__ import annotations

from flask import render_template
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException, InternalServerError, default_exceptions

from usm.services.errors import Busy, Conflict, Denied, Invalid, NotFound, Refused, UsmError

HANDLED = (400, 403, 404, 405, 500)
# The status of each base of the services' refusals, the most specific first (a change conflict
# is also a refusal of the engine; a busy database also a change error).
# On a page, input a rule refuses is a bad request (400); the API answers it with 422.
STATUS_OF = ((Busy, 503), (Invalid, 400), (NotFound, 404), (Denied, 403), (Conflict, 409),
             (Refused, 409))
# Werkzeug's own names and explanations, in the page's language; a view's own explanation
# (``abort(404, description=...)``) is written translated where it is raised.
TITLES = {
    400: _l("Bad Request"), 403: _l("Forbidden"), 404: _l("Not Found"),
    405: _l("Method Not Allowed"), 409: _l("Conflict"), 413: _l("Request Entity Too Large"),
    429: _l("Too Many Requests"),
    500: _l("Internal Server Error"), 503: _l("Service Unavailable"),
}
DESCRIPTIONS = {
    400: _l("The browser (or proxy) sent a request that this server could not understand."),
    403: _l("You don't have the permission to access the requested resource. It is either "
            "read-protected or not readable by the server."),
    404: _l("The requested URL was not found on the server. If you entered the URL manually "
            "please check your spelling and try again."),
    405: _l("The method is not allowed for the requested URL."),
    500: _l("The server encountered an internal error and was unable to complete your request. "
            "Either the server is overloaded or there is an error in the application."),
}


def render_error(error: Exception) -> ResponseReturnValue:
    if not isinstance(error, HTTPException):
        error = InternalServerError()
    code = error.code or 500
    # An unexpected failure's own text may reveal internals; show only the generic message.
    description = (InternalServerError.description if code == 500 else error.description)
    default = default_exceptions.get(code)
    if code in DESCRIPTIONS and default is not None and description == default.description:
        description = DESCRIPTIONS[code]
    return render_template("error.html", code=code, title=TITLES.get(code, error.name),
                           description=description), code


def status_of(refusal: UsmError, table: tuple[tuple[type[UsmError], int], ...] = STATUS_OF) -> int:
    return next(status for base, status in table if isinstance(refusal, base))


def render_refusal(refusal: UsmError) -> ResponseReturnValue:
    """A refusal no view handled itself: its message (the services speak English) on the error
    page, with the status of its base."""
    code = status_of(refusal)
    text = str(refusal)
    description = text[:1].upper() + text[1:] + ("" if text.endswith((".", "!", "?")) else ".")
    return render_template("error.html", code=code, title=TITLES[code],
                           description=description), code
