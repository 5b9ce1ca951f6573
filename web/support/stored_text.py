"""Before every page request: refuse text no database column can keep, wherever it comes in.

A NUL character in a filter, a form field, an address or an upload's file name would reach a query
or a row, and PostgreSQL refuses it outright (SQLite would store it): one check here answers 400
naming the field, so no view has to remember it. The API refuses the same text in its own error
shape (``web.api.spec``); an upload's contents are checked cell by cell by the import itself.
"""

from __future__ import annotations

from flask import abort, request
from flask_babel import gettext as _

from usm.services.user_input import unstorable_text


def refuse_unstorable_input() -> None:
    if request.path == "/api" or request.path.startswith("/api/"):
        return
    where = _where_unstorable()
    if where is not None:
        abort(400, description=_("%(field)s: holds a NUL character, which cannot be stored; "
                                 "remove it and try again", field=where))


def _where_unstorable() -> str | None:
    """The field (or part of the request) that holds unstorable text, or ``None``."""
    if unstorable_text(request.path):
        return _("the address")
    for values, container in ((request.args, _("the query")), (request.form, _("the form"))):
        for name, value in values.items(multi=True):
            if unstorable_text(name):
                return container
            if unstorable_text(value):
                return name
    for name, upload in request.files.items(multi=True):
        if unstorable_text(name) or unstorable_text(upload.filename or ""):
            return _("the form") if unstorable_text(name) else name
    return None
