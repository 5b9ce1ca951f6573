"""The ``api`` blueprint at /api/v1: token authentication first, every error as JSON.

Unknown paths and methods under /api/ are answered here too (as JSON 404/405 with ``Allow``):
Flask routes them before any blueprint is known, so a blueprint-wide ``before_app_request`` turns
the routing error into the API's error shape instead of the web's HTML page.
"""

from __future__ import annotations

from flask import Blueprint, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from web.api import errors
from web.api.auth import authenticate

PREFIX = "/api/v1"

bp = Blueprint("api", __name__, url_prefix=PREFIX, template_folder="templates",
               static_folder="static", static_url_path="/docs/local")


@bp.before_app_request
def _routing_errors_as_json() -> ResponseReturnValue | None:
    failure = request.routing_exception
    if (failure is not None and isinstance(failure, HTTPException)
            and (failure.code or 0) >= 400
            and (request.path == "/api" or request.path.startswith("/api/"))):
        return errors.render(failure)
    return None


bp.before_request(authenticate)
bp.register_error_handler(Exception, errors.render)


@bp.after_request
def _no_store(response):  # type: ignore[no-untyped-def]
    # Register data is not for shared caches; the OpenAPI document may be cached briefly.
    response.headers.setdefault("Cache-Control", "no-store")
    return response
