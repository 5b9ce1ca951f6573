"""The pickers' type-ahead: ``/reference/lookup?kind=location&q=utr`` answers with at most 20
active values whose code, name (or a location's building key) contain the text, as JSON.
Any signed-in user may ask: every form with an owner, location or cost centre uses it."""

from __future__ import annotations

from flask import jsonify, request
from flask.typing import ResponseReturnValue
from flask_login import login_required

from usm.services import reference
from usm.services.errors import Invalid
from web.reference.blueprint import bp
from web.support.context import database


@bp.get("/reference/lookup")
@login_required
def lookup() -> ResponseReturnValue:
    """``{"kind", "q", "results": [{"kind", "code", "name", "label", "item_key"}]}``; without a
    kind, every kind is looked up (20 results in all). An unknown kind or a query too long is a
    400 with the problem."""
    text = request.args.get("q", "")
    kind = request.args.get("kind", "").strip()
    try:
        kinds = [reference.reference_kind(kind).value] if kind else list(reference.KINDS)
        found = [(k, match) for k in kinds for match in reference.lookup(database(), k, text)]
    except Invalid as exc:
        return jsonify({"error": str(exc)}), 400
    except reference.ReferenceNotFound as exc:
        return jsonify({"error": str(exc)}), 400
    results = [{"kind": k, "code": m.code, "name": m.name, "label": m.label,
                "item_key": m.item_key} for k, m in found[:reference.LOOKUP_LIMIT]]
    response = jsonify({"kind": kind or None, "q": text, "results": results})
    response.headers["Cache-Control"] = "private, no-store"
    return response
