"""Errors the register raises: each names the field (or operation) and the problem."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    """One problem with one field; ``field`` is a dotted path such as ``operations[2].serial_number``."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class RegisterError(Exception):
    """Base class for errors raised by ``bir``."""


class ValidationFailed(RegisterError):
    """Input broke the register's rules; nothing was written."""

    def __init__(self, errors: list[FieldError]):
        self.errors = list(errors)
        super().__init__("; ".join(str(e) for e in self.errors))


class NotFound(RegisterError):
    """An item, class or version that was asked for does not exist."""


class NotYetRegistered(NotFound):
    """The item exists, but not at the moment asked for."""


class StaleChangeSet(RegisterError):
    """Items a change set touches changed since it was planned; applying it would overwrite
    another change's edits unseen, so nothing is written."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))
