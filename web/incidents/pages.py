"""Recording a failure of an item from its page: the same record an incident tool makes over the
API. Incident data, not a register edit: the repair or replacement that follows is a change."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from usm.services import incidents
from usm.services.errors import Invalid, UsmError
from usm.services.user_input import parse_moment
from web.incidents.blueprint import bp
from web.support import access
from web.support.context import database
from web.support.formatting import when
from web.support.security import roles_required

FIELD_LABELS = {"at": _l("Failed at (UTC)"), "incident_reference": _l("Incident"),
                "outcome": _l("Outcome"), "note": _l("Note")}


def refusal_text(exc: UsmError) -> str:
    """A refusal in the reader's language where the screen knows it, else as the service
    worded it, with the field it names."""
    if isinstance(exc, incidents.DuplicateFailure):
        first = exc.first
        return _("%(key)s already has a failure recorded under %(incident)s with the outcome "
                 "%(outcome)s (by %(who)s on %(day)s): it is not recorded twice.",
                 key=first.item_key, incident=first.incident_reference,
                 outcome=_("replaced") if first.outcome == "replaced" else _("repaired"),
                 who=first.recorded_by, day=when(first.recorded_at))
    if isinstance(exc, Invalid) and exc.errors:
        problems = "; ".join(f"{FIELD_LABELS.get(e.field, e.field)}: {e.message}"
                             for e in exc.errors)
        return _("The failure was not recorded: %(problems)s.", problems=problems)
    text = str(exc)
    return text[:1].upper() + text[1:]


def _to_item(key: str) -> ResponseReturnValue:
    return redirect(url_for("register.item", key=key) + "#failures-heading")


@bp.post("/items/<key>/failures")
@roles_required(*access.CHANGE_EDITORS)
def record_failure(key: str) -> ResponseReturnValue:
    """Record a failure of the item; back to the item with what happened."""
    key = key.strip().upper()[:32]
    form = request.form
    try:
        recorded = incidents.record_failure(
            database(), current_user.username, key, at=parse_moment(form.get("at"), "at"),
            incident_reference=form.get("incident_reference"), outcome=form.get("outcome"),
            note=form.get("note"))
    except UsmError as exc:
        flash(refusal_text(exc), "error")
        return _to_item(key)
    flash(_("The failure of %(key)s under %(incident)s is recorded.", key=recorded.item_key,
            incident=recorded.incident_reference), "success")
    return _to_item(recorded.item_key)
