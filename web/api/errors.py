"""One JSON shape for every API error, and the status each refusal of the services gets.

Every error, from a bad token to an unexpected failure, is answered as::

    {"error": {"code": "validation_failed", "message": "...",
               "fields": [{"field": "operations[0].serial_number", "message": "..."}]}}

with these statuses:

- 400 ``malformed_json``: the body is not JSON. 401 ``unauthenticated`` / ``invalid_token`` (with
  ``WWW-Authenticate: Bearer``). 403 ``forbidden``: the token's user lacks the role.
- 404 ``not_found``, 405 ``method_not_allowed`` (with ``Allow``), 415 ``unsupported_media_type``.
- 409 ``conflict``: the change moved since the version the caller sent (``If-Match`` or
  ``version``); 409 ``transition_refused``: the change's current state, the model's guards or
  the transition's own roles do not allow this move now (the message lists every reason; it is a
  conflict with the change's state, not a malformed request, hence 409 rather than 422);
  409 ``refused``: any other refusal by the change process (an approval outside authorisation, a
  second decision by the same approver, editing a closed change).
- 422 ``invalid_request``: the request breaks the OpenAPI schema; 422 ``validation_failed``: the
  register's or the change process's rules refuse the content (fields name each problem);
  422 ``not_a_change``: the change set is empty (an OPS service request, not a change).
- 503 ``busy`` (with ``Retry-After``): SQLite's single writer is taken; try again.
- 500 ``internal_error``: a bug. Logged with its traceback; the answer reveals nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

from flask import Response, jsonify
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import HTTPException

from usm.services.errors import Busy, Conflict, Denied, Invalid, NotFound, Refused, UsmError
from web.support.errors import status_of

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 2


class FieldProblem(BaseModel):
    field: str
    message: str


class ErrorDetail(BaseModel):
    code: str
    message: str
    fields: list[FieldProblem] = []


class ErrorBody(BaseModel):
    """The body of every error response."""

    error: ErrorDetail


class ApiError(Exception):
    """An answer other than success, raised anywhere in a request and rendered as JSON."""

    def __init__(self, status: int, code: str, message: str,
                 fields: Iterable[tuple[str, str]] = (),
                 headers: Mapping[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = list(fields)
        self.headers = dict(headers or {})

    def response(self) -> Response:
        body = ErrorBody(error=ErrorDetail(
            code=self.code, message=self.message,
            fields=[FieldProblem(field=f, message=m) for f, m in self.fields]))
        response = jsonify(body.model_dump(mode="json"))
        response.status_code = self.status
        for name, value in self.headers.items():
            response.headers[name] = value
        return response


def field_path(loc: Iterable[object]) -> str:
    """A pydantic error location as a dotted path: ``operations[0].serial_number``."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def invalid_request(exc: ValidationError) -> ApiError:
    return ApiError(422, "invalid_request", "the request does not match the API's schema", [
        (field_path(err["loc"]) or "body", err["msg"].removeprefix("Value error, "))
        for err in exc.errors(include_url=False)
    ])


def as_api_error(exc: BaseException) -> ApiError:
    """The answer for anything a view or a service raised."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, HTTPException):
        return _http_error(exc)
    if isinstance(exc, ValidationError):
        return invalid_request(exc)
    if isinstance(exc, UsmError):
        return _refusal(exc)
    log.exception("unexpected error in an API request", exc_info=exc)
    return ApiError(500, "internal_error",
                    "the server failed unexpectedly; the failure is logged")


# The API answers input its rules refuse with 422 (the request was understood), unlike a page.
API_STATUS_OF = ((Busy, 503), (Invalid, 422), (NotFound, 404), (Denied, 403), (Conflict, 409),
                 (Refused, 409))


def _refusal(exc: UsmError) -> ApiError:
    status = status_of(exc, API_STATUS_OF)
    message = exc.summary if isinstance(exc, Invalid) and exc.code == "validation_failed" \
        else str(exc)
    default = exc.field if isinstance(exc, Invalid) else "body"
    fields = [(e.field or default, e.message) for e in getattr(exc, "errors", [])]
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if status == 503 else None
    return ApiError(status, exc.code, message, fields, headers)


def _http_error(exc: HTTPException) -> ApiError:
    status = exc.code or 500
    code = {400: "bad_request", 404: "not_found", 405: "method_not_allowed",
            413: "payload_too_large", 415: "unsupported_media_type"}.get(status)
    if code is None:
        code = (exc.name or "error").lower().replace(" ", "_").replace("'", "")
    message = exc.description or exc.name
    if status == 404:
        message = "no such resource in this API (see /api/v1/openapi.json)"
    headers: dict[str, str] = {}
    if status == 405:
        valid = getattr(exc, "valid_methods", None) or []
        headers["Allow"] = ", ".join(sorted(valid))
        message = f"this resource allows {', '.join(sorted(valid))}"
    return ApiError(status, code, message, headers=headers)


def render(exc: BaseException) -> Response:
    return as_api_error(exc).response()
