"""The one family of refusals the product gives its users, and the register's own members of it.

Every refusal of the register, the change engine and the services is a subclass of one of five
bases, so the web app, the API and the CLI each map five bases, not thirty classes, and a new
service needs no edits at the edges:

- ``NotFound``: what was asked for does not exist (404);
- ``Invalid``: the input breaks a rule; ``errors`` names each field and problem (422);
- ``Conflict``: someone else changed the thing since the caller read it (409);
- ``Refused``: the process does not allow this now, whatever the input (409);
- ``Busy``: the database is taken; the same request may succeed in a moment (503);
- ``Denied``: the acting user may not act at all (403).

They live at the bottom layer because the register and the engine raise them too; the service
layer re-exports them as ``usm.services.errors``.
"""

from __future__ import annotations

import reprlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

SHOWN_CHARS = 80
_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxlist, _SHORT.maxtuple, _SHORT.maxdict, _SHORT.maxset = 2, 4, 4, 4, 4
_SHORT.maxstring = _SHORT.maxother = SHOWN_CHARS


@dataclass(frozen=True)
class FieldError:
    """One problem with one field; ``field`` is a dotted path such as ``operations[2].serial_number``."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


def shown(value: Any) -> str:
    """``repr(value)`` as a refusal quotes it: at most ``SHOWN_CHARS`` characters, built from the
    first few elements of a list or mapping only, so a huge or deeply nested value (a YAML
    alias bomb, a JSON tower) is never expanded to be named."""
    try:
        text = _SHORT.repr(value)
    except (ValueError, RecursionError):  # an int past Python's digit limit; a tower of objects
        text = f"<{type(value).__name__}>"
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS - 3] + "..."


class UsmError(Exception):
    """Base of every refusal: the message is meant for the user. ``code`` is the API's error
    code for it."""

    code = "refused"


class NotFound(UsmError):
    """An item, class, change, version, user or token that was asked for does not exist."""

    code = "not_found"


class Invalid(UsmError):
    """Input broke a rule; nothing was written. ``errors`` names every problem; ``field`` is where
    a problem without a field of its own belongs (the API reports it there)."""

    code = "validation_failed"
    summary = "the request was refused"
    field = "body"

    def __init__(self, errors: str | Iterable[FieldError | str], message: str | None = None):
        if isinstance(errors, str):
            errors = [errors]
        self.errors = [e if isinstance(e, FieldError) else FieldError("", e) for e in errors]
        super().__init__(message if message is not None else "; ".join(map(str, self.errors)))

    @property
    def problems(self) -> list[str]:
        return [str(e) for e in self.errors]


class Conflict(UsmError):
    """Someone else changed what the caller read; nothing was written."""

    code = "conflict"


class Refused(UsmError):
    """The process does not allow this now (a step, a status, a rule of the model)."""

    code = "refused"


class Busy(UsmError):
    """The database's writer is taken; try again in a moment."""

    code = "busy"


class Denied(UsmError):
    """The acting user may not act (unknown, deactivated, or without the role)."""

    code = "forbidden"


class ValidationFailed(Invalid):
    """Input broke the register's rules; nothing was written."""

    summary = "the register's rules refuse this request"

    def __init__(self, errors: list[FieldError]):
        super().__init__(errors)


class NotYetRegistered(NotFound):
    """The item exists, but not at the moment asked for; ``first_registered`` is when it was."""

    def __init__(self, message: str, *, key: str = "", first_registered: Any = None):
        super().__init__(message)
        self.key = key
        self.first_registered = first_registered


class StaleChangeSet(Conflict):
    """Items a change set touches changed since it was planned; applying it would overwrite
    another change's edits unseen, so nothing is written."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


