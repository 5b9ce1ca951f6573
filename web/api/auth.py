"""Bearer-token authentication and the role checks of the API (the same role groups as the web).

Every API request except the OpenAPI document, the docs page and CORS-style ``OPTIONS`` carries
``Authorization: Bearer <token>``. A missing or unusable token is a 401 with ``WWW-Authenticate:
Bearer``; a user without the role an operation needs gets 403, before the request is validated, so
a caller without the role learns nothing about the operation's input.

A token an administrator made for another user (only where ``USM_ALLOW_ACT_AS`` allows it) acts
as that user; every operation made with it runs inside ``audit_log.acting_as``, so whatever it
writes records the administrator and the user in the audit log, in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import g, request

from usm.services import audit_log
from usm.services.accounts import TokenHolder, authenticate_token
from web.api.errors import ApiError
from web.api.spec import check_request_body
from web.support.access import ADMINISTRATOR
from web.support.auditing import HOLDER, allow_act_as
from web.support.context import database

View = TypeVar("View", bound=Callable[..., Any])
REALM = 'Bearer realm="usm"'
# Endpoints anyone may read: the API's description of itself.
PUBLIC_ENDPOINTS = frozenset({"api.openapi_json", "api.docs", "api.docs_asset", "api.static"})


def authenticate() -> None:
    """Before every API request: find the token's holder, or refuse with 401."""
    if request.endpoint in PUBLIC_ENDPOINTS or request.method == "OPTIONS":
        return
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    credentials = credentials.strip()
    if scheme.lower() != "bearer" or not credentials:
        raise ApiError(401, "unauthenticated",
                       "send a personal API token: Authorization: Bearer <token>",
                       headers={"WWW-Authenticate": REALM})
    holder = authenticate_token(database(), credentials, allow_act_as=allow_act_as(),
                                address=request.remote_addr)
    if holder is None:
        raise ApiError(401, "invalid_token",
                       "the token is unknown, revoked or expired, or its user is deactivated",
                       headers={"WWW-Authenticate": f'{REALM}, error="invalid_token"'})
    setattr(g, HOLDER, holder)


def holder() -> TokenHolder:
    """Who the current request acts for."""
    found: TokenHolder = getattr(g, HOLDER)
    return found


def roles_required(*roles: str, file_body: bool = False) -> Callable[[View], View]:
    """Let an operation run only for a token whose user holds one of ``roles``; with no roles,
    any authenticated user. The roles are published in the OpenAPI document (``x-roles``). For
    a caller with the role, a request body must then be a JSON object (415/400/422 otherwise),
    unless the operation takes a file (``file_body``: an upload, read by the view itself)."""
    needed = frozenset(roles)

    def decorator(view: View) -> View:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if needed and not needed & holder().roles:
                raise ApiError(403, "forbidden",
                               "this operation is for the role(s): " + ", ".join(sorted(needed)))
            # Only then is the body read: a caller without the role learns nothing about it.
            if not file_body:
                check_request_body(request)
            acting = holder()
            if acting.acting_as is None:
                return view(*args, **kwargs)
            with audit_log.acting_as(acting.origin(request.remote_addr),
                                     f"{request.method} {request.path}"):
                return view(*args, **kwargs)

        guarded.api_roles = tuple(sorted(needed))  # type: ignore[attr-defined]
        return guarded  # type: ignore[return-value]

    return decorator


def is_administrator() -> bool:
    return ADMINISTRATOR in holder().roles
