"""The one family of refusals (see ``bir.errors``), as the web app, the API and the CLI see it:
each maps these bases, never a service's own classes."""

from bir.errors import (
    Busy,
    Conflict,
    Denied,
    FieldError,
    Invalid,
    NotFound,
    Refused,
    UsmError,
    ValidationFailed,
)

__all__ = ["Busy", "Conflict", "Denied", "FieldError", "Invalid", "NotFound", "Refused", "UsmError",
           "ValidationFailed"]
