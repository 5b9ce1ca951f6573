"""The OpenAPI document and request validation, from one set of pydantic models.

Library: **spectree** (with pydantic v2). The register already states its rules as pydantic models
(``ItemFields``, change details, definitions), so the API's schemas are pydantic models too, some
built straight on the register's own (a ``create_item`` operation *is* ``ItemFields`` plus its
``op``, ``ref`` and ``class``). spectree validates each request against the models named in
``@api_spec.validate(...)`` and generates the OpenAPI 3.1 document from the very same models, so the
document cannot drift from what the API accepts. It was chosen over flask-openapi3, which needs its
own ``OpenAPI`` application class (its validation reads the error callback from ``current_app``)
and so does not fit an existing ``Flask`` app with blueprints; over flask-smorest/apispec, which
would mean marshmallow schemas beside the pydantic ones (two sources of truth); and over a
hand-written generator. spectree runs in ``strict`` mode (only the API's own, decorated views are
documented) and is not registered on the app: the document and the docs page are served by
``web.api.docs`` from local files, never a CDN.

What spectree does not express is added in :func:`openapi_document`: the roles each operation needs,
response headers (``ETag``, ``Location``), optional request bodies, and OpenAPI links between
operations (so stateful tests and readers can follow a created change to its detail, its log and
its transitions).
"""

from __future__ import annotations

import copy
import json
import logging
import math
from typing import Any

from flask import Request, current_app
from pydantic import ValidationError
from spectree import Response, SecurityScheme, SpecTree
from spectree.models import SecuritySchemeData

from usm.services.user_input import nesting_depth, unstorable_text
from web.api.errors import ApiError, ErrorBody, invalid_request

log = logging.getLogger(__name__)
JSON_TYPES = ("application/json",)
BODY_METHODS = ("POST", "PUT", "PATCH")
# The largest body an operation asks for is a change model's source (500,000 characters); JSON's
# escapes may make that a few times larger in bytes. Bodies nest a few levels (a change set 4, a
# definition 7): deeper is refused before anything walks it, as YAML is (bir.yaml_input).
MAX_BODY_BYTES = 4 * 1024 * 1024
MAX_BODY_DEPTH = 32
# Error answers every authenticated operation may give.
COMMON_ERRORS = ("HTTP_401", "HTTP_403", "HTTP_422", "HTTP_503")

DESCRIPTION = """\
The USM register's API: read the register (BIR) now or as of any moment, and change it the only way
it changes, through changes (RFCs) moved through the CHM steps.

**Authentication**: a personal API token, `Authorization: Bearer usm_...`. Make one with
`usm token create USERNAME --name NAME` or `POST /api/v1/tokens`; it is shown once. A token acts
with its user's roles, as the web screens do.

**Errors** always have the shape `{"error": {"code", "message", "fields": [{"field", "message"}]}}`.

**Concurrency**: `GET /changes/{key}` returns an `ETag` (the change's version). Send it back as
`If-Match` (or as `version` in the body) when moving or editing the change; a stale version gets
`409 conflict`.

**Pagination**: lists are keyset-paginated; follow `next` (or pass its opaque `cursor`) until it is
`null`. `limit` is 1..200.
"""


class _NotJson(ValueError):
    pass


def _reject_constant(name: str) -> Any:
    raise _NotJson(f"{name} is not a JSON number")


def check_request_body(request: Request) -> None:
    """Refuse, before schema validation, a body that is not a JSON object: 413 for one over
    ``MAX_BODY_BYTES``, 415 for another media type, 400 for text that is not JSON (or has
    non-finite numbers), 422 for JSON that is not an object, nests deeper than ``MAX_BODY_DEPTH``
    or holds text no database column can keep. An empty body passes (as ``{}``)."""
    if request.method not in BODY_METHODS:
        return
    if (request.content_length or 0) > MAX_BODY_BYTES:
        raise _too_large()
    data = request.get_data(cache=True)
    if len(data) > MAX_BODY_BYTES:  # sent without a length
        raise _too_large()
    if not data:
        if request.mimetype and request.mimetype not in JSON_TYPES:
            raise ApiError(415, "unsupported_media_type", "send the body as application/json")
        return
    if request.mimetype not in JSON_TYPES:
        raise ApiError(415, "unsupported_media_type", "send the body as application/json")
    try:
        parsed = json.loads(data, parse_constant=_reject_constant)
    except RecursionError as exc:
        raise _too_deep() from exc
    except ValueError as exc:
        raise ApiError(400, "malformed_json", f"the body is not valid JSON: {exc}") from exc
    if nesting_depth(parsed) > MAX_BODY_DEPTH:  # the checks below, and pydantic's, recurse
        raise _too_deep()
    if not isinstance(parsed, dict):
        raise ApiError(422, "invalid_request", "the body must be a JSON object",
                       [("body", "must be a JSON object")])
    if unstorable_text(parsed):
        raise ApiError(422, "invalid_request", "text must not contain NUL characters or lone "
                       "surrogates", [("body", "contains text that cannot be stored")])
    if any(isinstance(v, float) and not math.isfinite(v) for v in _numbers(parsed)):
        raise ApiError(400, "malformed_json", "numbers must be finite")


def _too_large() -> ApiError:
    return ApiError(413, "payload_too_large", f"the body is larger than {MAX_BODY_BYTES} bytes")


def _too_deep() -> ApiError:
    return ApiError(422, "invalid_request", f"the body nests deeper than {MAX_BODY_DEPTH} levels",
                    [("body", f"nested deeper than {MAX_BODY_DEPTH} levels")])


def _numbers(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [n for v in value.values() for n in _numbers(v)]
    if isinstance(value, list):
        return [n for v in value for n in _numbers(v)]
    return [value] if isinstance(value, float) else []


def _before(request: Request, response: Any, error: ValidationError | None, instance: Any,
            *_: Any) -> None:
    """Runs after spectree validated the request (the body was checked before, by
    ``roles_required``): answer in the API's own error shape."""
    if unstorable_text(list(request.args.items(multi=True))) or unstorable_text(request.path):
        raise ApiError(422, "invalid_request", "text must not contain NUL characters or lone "
                       "surrogates", [("query", "contains text that cannot be stored")])
    if error is not None:
        raise invalid_request(error)


def _after(request: Request, response: Any, error: ValidationError | None, instance: Any,
           *_: Any) -> None:
    if error is not None:
        # A response that breaks its own schema is a bug in the API, never the caller's fault.
        log.error("response of %s %s breaks its schema: %s", request.method, request.path, error)
        raise ApiError(500, "internal_error",
                       "the server failed unexpectedly; the failure is logged")


_MODEL_NAMES: dict[str, type] = {}


def _component_name(model: type) -> str:
    """A schema's name in the document: the model's class name, which must be unique."""
    name = model.__name__
    if _MODEL_NAMES.setdefault(name, model) is not model:
        raise ValueError(f"two API models are called {name}; rename one")
    return name


api_spec = SpecTree(
    "flask",
    mode="strict",
    title="USM register API",
    version="1.0.0",
    description=DESCRIPTION,
    before=_before,
    after=_after,
    validation_error_status=422,
    validation_error_model=ErrorBody,
    naming_strategy=_component_name,
    nested_naming_strategy=lambda _parent, child: child,
    security_schemes=[SecurityScheme(name="bearerAuth", data=SecuritySchemeData(
        type="http", scheme="bearer",
        description="A personal API token (usm_...), made by `usm token create` or "
                    "POST /api/v1/tokens"))],
    security={"bearerAuth": []},
)


def responses(*errors: str, **models: Any) -> Response:
    """The documented answers of an operation: its success models, the common errors, and the
    operation's own extra error codes (e.g. ``"HTTP_404"``)."""
    codes = {code: ErrorBody for code in (*COMMON_ERRORS, *errors)}
    return Response(**{**codes, **models})


# -- what spectree leaves out, added to the generated document ------------------------------------

# operationId -> response code -> link name -> (target operationId, parameters)
LINKS: dict[str, dict[str, dict[str, tuple[str, dict[str, str]]]]] = {
    "createChange": {"201": {
        "GetChange": ("getChange", {"key": "$response.body#/key"}),
        "GetChangeLog": ("getChangeLog", {"key": "$response.body#/key"}),
        "MoveChange": ("moveChange", {"key": "$response.body#/key",
                                      "trigger": "$response.body#/transitions/0/trigger"}),
        "EditChange": ("editChange", {"key": "$response.body#/key"}),
    }},
    "moveChange": {"200": {
        "GetChange": ("getChange", {"key": "$response.body#/key"}),
        "GetChangeLog": ("getChangeLog", {"key": "$response.body#/key"}),
    }},
    "listChanges": {"200": {
        "GetChange": ("getChange", {"key": "$response.body#/changes/0/key"}),
    }},
    "listItems": {"200": {
        "GetItem": ("getItem", {"key": "$response.body#/items/0/key"}),
        "GetItemHistory": ("getItemHistory", {"key": "$response.body#/items/0/key"}),
        "GetItemRelations": ("getItemRelations", {"key": "$response.body#/items/0/key"}),
    }},
    "listServices": {"200": {
        "GetService": ("getService", {"key": "$response.body#/services/0/key"}),
    }},
    "listItemClasses": {"200": {
        "GetItemClass": ("getItemClass", {"code": "$response.body#/classes/0/code"}),
    }},
    "listDefinitions": {"200": {
        "GetDefinition": ("getDefinition", {"code": "$response.body#/definitions/0/code"}),
    }},
    "createItemClassDraft": {"201": {
        "GetItemClassVersion": ("getItemClassVersion", {
            "code": "$response.body#/code", "version": "$response.body#/version"}),
        "UpdateItemClassDraft": ("updateItemClassDraft", {
            "code": "$response.body#/code", "version": "$response.body#/version"}),
        "PublishItemClass": ("publishItemClass", {
            "code": "$response.body#/code", "version": "$response.body#/version"}),
    }},
    "createToken": {"201": {
        "RevokeToken": ("revokeToken", {"token_id": "$response.body#/id"}),
    }},
    "createImport": {"200": {
        "AcceptImport": ("acceptImport", {"import_id": "$response.body#/id"}),
    }},
    "acceptImport": {"201": {
        "GetChange": ("getChange", {"key": "$response.body#/key"}),
    }},
}
# operationId -> response code -> header -> description
RESPONSE_HEADERS: dict[str, dict[str, dict[str, str]]] = {
    "getChange": {"200": {"ETag": "the change's version, to send back as If-Match"}},
    "moveChange": {"200": {"ETag": "the change's new version"}},
    "editChange": {"200": {"ETag": "the change's new version"}},
    "approveChange": {"200": {"ETag": "the change's new version"}},
    "createChange": {"201": {"ETag": "the change's version",
                             "Location": "the new change's URL"}},
    "createToken": {"201": {"Location": "the token list of its user"}},
    "acceptImport": {"201": {"Location": "the registered change's URL"}},
    **{op: {"200": {"Content-Disposition": "attachment; filename=\"NAME.csv\" (or .xlsx)"}}
       for op in ("exportItems", "exportItemHistory", "exportChanges", "exportAuditLog")},
}
_FILE = {"type": "string", "format": "binary"}
# operationId -> response code -> the file media types it answers with (spectree knows only JSON).
FILE_RESPONSES: dict[str, dict[str, tuple[str, ...]]] = {
    op: {"200": ("text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")}
    for op in ("exportItems", "exportItemHistory", "exportChanges", "exportAuditLog")}
# Operations that also take the file itself as the raw body (beside their multipart form).
RAW_FILE_BODIES = {"createImport"}
# Operations whose JSON body may be left out entirely.
OPTIONAL_BODIES = {"moveChange"}
# Operations that also take a stream (media type -> what it holds), read by the view itself.
STREAM_BODIES = {"createChange": {"application/x-ndjson": (
    "the change's details (ChangeHeader) as JSON on the first line, then one operation (as in "
    "CreateChange.operations) per line")}}


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of the API as the running app serves it."""
    document = copy.deepcopy(api_spec.spec)
    roles = _roles_by_operation()
    for methods in document["paths"].values():
        for operation in methods.values():
            op_id = operation.get("operationId")
            needed = roles.get(op_id)
            if needed is not None:
                operation["x-roles"] = list(needed)
                who = ", ".join(needed) if needed else "any signed-in user"
                text = (operation.get("description") or "").strip()
                operation["description"] = f"{text}\n\nRoles: {who}." if text else f"Roles: {who}."
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "header":
                    _text_only(parameter["schema"])
            if op_id in OPTIONAL_BODIES and "requestBody" in operation:
                operation["requestBody"]["required"] = False
            for media_type, text in STREAM_BODIES.get(op_id, {}).items():
                operation["requestBody"]["content"][media_type] = {
                    "schema": {"type": "string", "description": text}}
            if op_id in RAW_FILE_BODIES:
                operation["requestBody"]["content"]["application/octet-stream"] = {
                    "schema": _FILE}
            for code, media_types in FILE_RESPONSES.get(op_id, {}).items():
                operation["responses"][code]["content"] = {
                    media_type: {"schema": _FILE} for media_type in media_types}
            for code, links in LINKS.get(op_id, {}).items():
                operation["responses"][code]["links"] = {
                    name: {"operationId": target, "parameters": params}
                    for name, (target, params) in links.items()}
            for code, headers in RESPONSE_HEADERS.get(op_id, {}).items():
                operation["responses"][code]["headers"] = {
                    name: {"description": text, "schema": {"type": "string"}}
                    for name, text in headers.items()}
    return document


def _text_only(schema: dict[str, Any]) -> None:
    """An optional header is text or left out, never null: pydantic documents ``str | None`` as
    ``anyOf [string, null]`` with a null default, which tells a client to send the text
    ``null`` (refused with 422). Keep only what the server takes."""
    options = [o for o in schema.get("anyOf", []) if o.get("type") != "null"]
    if "anyOf" in schema and len(options) == 1:
        del schema["anyOf"]
        schema.update(options[0])
    if schema.get("default", "") is None:
        del schema["default"]


def _roles_by_operation() -> dict[str, tuple[str, ...]]:
    found: dict[str, tuple[str, ...]] = {}
    for view in current_app.view_functions.values():
        roles = getattr(view, "api_roles", None)
        metadata = api_spec.get_function_metadata(view)
        if roles is not None and metadata is not None and metadata.operation_id:
            found[metadata.operation_id] = roles
    return found
