"""Process designers' screens: the change models (workflow definitions), their versions, each
version as a diagram, as tables and as the YAML it was written in.

Editing comes with its own screens; these only read.
"""

from __future__ import annotations

from flask import Response, render_template
from flask.typing import ResponseReturnValue
from markupsafe import Markup

from usm.services import change_models
from usm.services.change_models import ChangeModelDetail
from web.change_models.blueprint import bp
from web.support import access
from web.support.context import database
from web.support.diagram import render_svg, render_svg_document
from web.support.security import roles_required


@bp.get("/definitions")
@roles_required(*access.DESIGNERS)
def definitions() -> ResponseReturnValue:
    return render_template("change_models/definitions.html",
                           models=change_models.list_change_models(database()))


@bp.get("/definitions/<code>/<int:version>")
@roles_required(*access.DESIGNERS)
def definition(code: str, version: int) -> ResponseReturnValue:
    detail = _detail(code, version)
    # The SVG is built with ElementTree, which escapes every piece of designer-written text.
    diagram = Markup(render_svg(detail))
    return render_template("change_models/definition.html", d=detail, diagram=diagram)


@bp.get("/definitions/<code>/<int:version>.svg")
@roles_required(*access.DESIGNERS)
def definition_svg(code: str, version: int) -> ResponseReturnValue:
    detail = _detail(code, version)
    return Response(render_svg_document(detail), mimetype="image/svg+xml", headers={
        "Content-Disposition": f'inline; filename="{detail.code}-v{detail.version}.svg"'})


def _detail(code: str, version: int) -> ChangeModelDetail:
    return change_models.change_model_detail(database(), code, version)
