"""Data-quality corrections as one click: the change that gives the items whose amounts have no
currency the register's default one. It is registered like any change and goes through CHM."""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from usm.services import audit
from usm.services.errors import Invalid
from usm.services.platform import default_currency
from web.audit.blueprint import bp
from web.support import access
from web.support.context import database
from web.support.security import roles_required


@bp.post("/audit/currency-correction")
@roles_required(*access.CHANGE_EDITORS)
def currency_correction() -> ResponseReturnValue:
    try:
        registered = audit.register_currency_correction(database(), current_user.username,
                                                        default_currency())
    except Invalid as exc:
        flash(str(exc), "error")
        return redirect(url_for("reports.lifecycle", _anchor="quality-heading"))
    flash(_("Registered %(key)s “%(title)s”: it goes through the change process like any "
            "change.", key=registered.key, title=registered.title), "success")
    return redirect(url_for("changes.detail", key=registered.key))
