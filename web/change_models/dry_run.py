"""The dry run screen: walk a hypothetical change through a version (a draft, usually), choosing
triggers as a role, and see which guards pass or block. A GET form: it reads, never writes."""

from __future__ import annotations

from decimal import Decimal

from flask import abort, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from usm.services import change_models
from usm.services.change_models import change_model_detail
from usm.services.user_input import InputError, parse_decimal
from web.change_models.blueprint import bp
from web.change_models.editor import SCREENS
from web.support import access
from web.support.context import database
from web.support.locale_input import amount_problem, neutral_amount
from web.support.security import roles_required
from web.support.vocabulary import ROLE_LABELS

MAX_PATH = 50


@bp.get("/definitions/<code>/<int:version>/dry-run")
@roles_required(*access.DESIGNERS)
def dry_run(code: str, version: int) -> ResponseReturnValue:
    SCREENS.known_version(code, version)
    args = request.args
    errors: dict[str, str] = {}
    fresh = "role" not in args  # first visit: sensible defaults for the checkboxes
    role = args.get("role", "change_coordinator")
    if role not in change_models.ROLES:
        errors["role"] = _("unknown role '%(role)s'", role=role)
        role = "change_coordinator"
    risk = args.get("risk") or None
    if risk is not None and risk not in change_models.RISK_LEVELS:
        errors["risk"] = _("choose one of %(levels)s", levels=", ".join(change_models.RISK_LEVELS))
        risk = None
    cost, worth = _amount("cost", errors), _amount("change_set_value", errors)
    approvals = _count(args.get("approvals", "0"), errors)
    path = [t for t in args.get("path", "").split(",") if t][:MAX_PATH]
    chosen = args.get("next")
    facts = change_models.Facts(
        role=role, risk=risk, cost_estimate=cost, change_set_value=worth,
        filled=frozenset(args.getlist("filled")),
        approvals=approvals, rejected=args.get("rejected") == "on",
        has_change_set=fresh or args.get("change_set") == "on",
        window_planned=args.get("window") == "on", outcome_recorded=args.get("outcome") == "on")
    detail = change_model_detail(database(), code, version)
    if detail.problems:
        abort(409, description=_("This version does not pass the checks; fix it first."))
    result = change_models.dry_run(database(), code, version, facts,
                              [*path, chosen] if chosen else path)
    return render_template("change_models/dry_run.html", d=detail, r=result, facts=facts,
                           errors=errors, roles=[(code, ROLE_LABELS.get(code, name))
                                                  for code, name in change_models.ROLES.items()],
                           risk_levels=change_models.RISK_LEVELS,
                           text_fields=[*change_models.TEXT_FIELDS, *(f.name for f in detail.fields)],
                           cost=args.get("cost", ""),
                           change_set_value=args.get("change_set_value", ""))


def _amount(field: str, errors: dict[str, str]) -> Decimal | None:
    typed = request.args.get(field, "")
    neutral = neutral_amount(typed)
    if neutral is None:
        errors[field] = amount_problem(typed)
        return None
    try:
        return parse_decimal(neutral, field, Decimal(0), Decimal(10**12), high_inclusive=False)
    except InputError:
        errors[field] = amount_problem(typed)
        return None


def _count(text: str, errors: dict[str, str]) -> int:
    try:
        value = int(text or "0")
    except ValueError:
        value = -1
    if not 0 <= value <= 20:
        errors["approvals"] = _("a whole number from 0 to 20")
        return 0
    return value
