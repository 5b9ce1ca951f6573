"""The reports index: one card per topic."""

from __future__ import annotations

from flask import render_template
from flask.typing import ResponseReturnValue

from web.reports.blueprint import TOPICS, bp
from web.support import access
from web.support.security import roles_required


@bp.get("/")
@roles_required(*access.REPORT_READERS)
def index() -> ResponseReturnValue:
    return render_template("reports/index.html", topics=TOPICS)
