"""The API describing itself: the OpenAPI document and an interactive docs page (Swagger UI).

Swagger UI's files come from the ``flask-swagger-ui`` package, which bundles its distribution, and
are served from here: the page loads nothing from outside the app. The page's own start-up script
is a file too, so no inline script is needed.
"""

from __future__ import annotations

from pathlib import Path

import flask_swagger_ui
from flask import Response, abort, jsonify, render_template, send_from_directory
from flask.typing import ResponseReturnValue

from web.api.blueprint import bp
from web.api.spec import openapi_document

SWAGGER_DIST = Path(flask_swagger_ui.__file__).resolve().parent / "dist"
SWAGGER_FILES = frozenset({"swagger-ui.css", "swagger-ui-bundle.js",
                           "swagger-ui-standalone-preset.js", "index.css", "favicon-32x32.png",
                           "favicon-16x16.png"})
# Swagger UI sets some styles inline from its scripts; everything else stays as strict as the app's.
DOCS_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)


@bp.get("/openapi.json")
def openapi_json() -> ResponseReturnValue:
    response = jsonify(openapi_document())
    response.headers["Cache-Control"] = "public, max-age=60"
    return response


@bp.get("/docs")
def docs() -> ResponseReturnValue:
    response = Response(render_template("api_docs.html"), mimetype="text/html")
    response.headers["Content-Security-Policy"] = DOCS_POLICY
    return response


@bp.get("/docs/swagger/<path:filename>")
def docs_asset(filename: str) -> ResponseReturnValue:
    if filename not in SWAGGER_FILES:
        abort(404)
    return send_from_directory(SWAGGER_DIST, filename, max_age=3600)
