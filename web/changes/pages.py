"""Change coordinators' screens: the change queue, registering a change, a change's detail (steps,
change set against the register, approvals, comments, the moves this user may make) and the
calendar of planned windows.

Every form posts the change version it was rendered from; a change moved meanwhile is reported as
a conflict the user can act on. Invalid forms come back with the user's input and each error next
to its field, and nothing is written.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from usm.services import attachments, changes
from usm.services.changes import (
    ROW_INPUT,
    ChangeConflict,
    ChangeError,
    ChangeFormSpec,
    ChangeSetRows,
    FieldError,
    ValidationFailed,
)
from usm.services.errors import Invalid
from usm.services.item_classes import DEPRECIATION_METHODS
from usm.services.platform import default_currency
from usm.services.register import MONEY_FIELDS
from usm.services.user_input import DETAIL_FIELDS, change_details
from web.changes import moves
from web.changes.blueprint import bp
from web.support import access
from web.support.context import database
from web.support.formatting import label, moment_input, status_label
from web.support.locale_input import neutralise
from web.support.security import roles_required
from web.support.vocabulary import ui_reason

PAGE_SIZE = 50
SECTIONS = ("create", "update", "status", "relation")
DEFAULT_ROWS = {"create": 3, "update": 2, "status": 2, "relation": 2}
MORE_ROWS = 3
MAX_ROWS = 60
MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass
class FormState:
    """A change form as the user filled it in, with the errors to show next to its fields."""

    values: dict[str, str] = field(default_factory=dict)
    rows: ChangeSetRows = field(default_factory=ChangeSetRows)
    services: list[str] = field(default_factory=list)
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        return {s: len(self.rows.section(s)) for s in SECTIONS}

    def add_rows(self, section: str, count: int, offered: dict[str, str] | None = None) -> None:
        """Blank rows; a new item's offers what the form spec offers (the register's currency,
        the model's status) as real values."""
        rows = self.rows.section(section)
        blank = (offered if offered is not None else {"currency": default_currency()}) \
            if section == "create" else {}
        rows.extend(dict(blank) for _row in range(max(0, min(MAX_ROWS, len(rows) + count)
                                                      - len(rows))))

    def amount_inputs(self, money_fields: list[str]) -> list[str]:
        """The inputs of this form that hold an amount."""
        names = [f"create-{i}-purchase_cost" for i in range(len(self.rows.create))]
        names += [f"update-{i}-value" for i, row in enumerate(self.rows.update)
                  if row.get("field") in MONEY_FIELDS]
        return names + ["cost_estimate", *(f"fields.{name}" for name in money_fields)]

    def read_amounts(self, money_fields: list[str]) -> bool:
        """Amounts typed in the page's language, made neutral for the services; False (and the
        problems next to their inputs) when one is not an amount."""
        flat = {**self.values, **{f"{section}-{i}-{name}": value
                                  for section in SECTIONS
                                  for i, row in enumerate(self.rows.section(section))
                                  for name, value in row.items()}}
        self.errors.update(neutralise(flat, self.amount_inputs(money_fields)))
        for name, value in flat.items():
            match = ROW_INPUT.match(name)
            if match:
                self.rows.section(match.group(1))[int(match.group(2))][match.group(3)] = value
            elif name in self.values:
                self.values[name] = value
        return not self.errors

    def row(self, section: str, index: int) -> dict[str, str]:
        rows = self.rows.section(section)
        return rows[index] if index < len(rows) else {}

    def row_values(self, section: str, index: int) -> dict[str, str]:
        """A row's inputs under their form names (``create-0-serial_number``)."""
        return {f"{section}-{index}-{k}": v for k, v in self.row(section, index).items()}

    def has_errors(self, section: str, index: int) -> bool:
        prefix = f"{section}-{index}"
        return any(k == prefix or k.startswith(prefix + "-") for k in self.errors)


def _form_options(spec: ChangeFormSpec) -> dict[str, Any]:
    return {"class_options": [(c.code, f"{c.name} ({c.code})") for c in spec.classes],
            "status_options": [(s, status_label(s)) for s in spec.statuses],
            "depreciation_options": [(m, status_label(m)) for m in DEPRECIATION_METHODS]}


@bp.context_processor
def _helpers() -> dict[str, Any]:
    editor = current_user.is_authenticated and bool(set(current_user.roles)
                                                     & set(access.CHANGE_EDITORS))
    return {"is_editor": editor}


def _version() -> int:
    try:
        return int(request.form.get("version", ""))
    except ValueError:
        abort(400, description=_("The form lacks the version of the change it was made from; "
                                 "reload the page and try again."))


def _detail_url(key: str, anchor: str | None = None) -> str:
    return url_for(".detail", key=key.upper(), _anchor=anchor)


def _conflict(key: str, what: str) -> ResponseReturnValue:
    flash(_conflict_text(key, what), "error")
    return redirect(_detail_url(key))


def _conflict_text(key: str, what: str) -> str:
    key = key.upper()
    try:
        now = changes.change_summary(database(), key)
        return _("%(key)s was changed by someone else meanwhile (it is now %(state)s, in step "
                 "%(step)s). Your %(what)s was not saved: check the change as it is now and try "
                 "again.", key=key, state=now.state_label, step=label(now.step).lower(),
                 what=what)
    except changes.ChangeNotFound:
        return _("%(key)s was changed by someone else meanwhile. Your %(what)s was not saved: "
                 "check the change as it is now and try again.", key=key, what=what)


# -- the queue -----------------------------------------------------------------------------------

def queue_filter(args: Mapping[str, str]) -> changes.ChangeFilter:
    """The queue's filter from its URL parameters (also what the queue's download exports)."""
    return changes.ChangeFilter(
        open_only=not args.get("all"), step=args.get("step") or None,
        model=args.get("model") or None, change_class=args.get("class") or None,
        coordinator=args.get("coordinator") or None,
        involving=current_user.username if args.get("mine") else None,
        overdue_only=bool(args.get("overdue")),
        awaiting=current_user.username if args.get("awaiting") else None,
        next_move=current_user.username if args.get("next") else None,
        incident=(args.get("incident") or "").strip()[:64] or None,
    )


@bp.get("/changes")
@roles_required(*access.CHANGE_PARTICIPANTS)
def queue() -> ResponseReturnValue:
    args = request.args
    flt = queue_filter(args)
    page = changes.change_queue(database(), flt, after=args.get("after") or None, limit=PAGE_SIZE)
    kept = {k: v for k, v in args.items() if v and k != "after"}
    return render_template("changes/queue.html", page=page, flt=flt, args=kept,
                           without_step={k: v for k, v in kept.items() if k != "step"},
                           filtered=any(k != "all" for k in kept))


# -- a change ------------------------------------------------------------------------------------

@bp.get("/changes/<key>")
@roles_required(*access.CHANGE_PARTICIPANTS)
def detail(key: str) -> ResponseReturnValue:
    if request.args.get("edit") == "change-set":
        return _change_set_page(key)
    return _detail_page(key)


def _operations_from() -> int:
    """Where the page of the change set starts (``?operations_from=``, 0-based); a page of a
    large change set is read against the register, never all of it at once."""
    raw = request.args.get("operations_from", "0")
    return int(raw) if raw.isdigit() and len(raw) < 10 else 0


def _detail_page(key: str, status: int = 200, **forms: Any) -> ResponseReturnValue:
    view = changes.change_detail(database(), key, current_user.username,
                                 operations_from=_operations_from())
    editor = bool(set(current_user.roles) & set(access.CHANGE_EDITORS))
    coordinators = list(view.coordinators)
    if view.summary.coordinator and view.summary.coordinator not in coordinators:
        coordinators.append(view.summary.coordinator)
    details_form = editor and view.summary.step not in ("closed", "rejected", "withdrawn")
    return render_template(
        "changes/detail.html", change=view, summary=view.summary, editor=editor,
        page_size=changes.DIFF_PAGE,
        coordinator_options=coordinators, log=moves.log_lines(view),
        # An approver rejects in "Your decision": the same move is not offered twice.
        moves=moves.next_moves(view, details_form=details_form,
                               exclude=("rejected",) if view.may_approve else ()),
        open_details=request.args.get("details") == "open",
        details=forms.get("details") or _details_values(view),
        details_errors=forms.get("details_errors") or {},
        comment=forms.get("comment", ""), comment_errors=forms.get("comment_errors") or {},
        approval_errors=forms.get("approval_errors") or {},
        approval_comment=forms.get("approval_comment", ""),
        change_files=attachments.change_files(database(), view.summary.key),
    ), status


def _details_values(view: changes.ChangeDetail) -> dict[str, str]:
    """The details form as the change holds it; without an estimate it offers what the change
    set is worth, and without a currency the register's default."""
    estimate, currency = view.cost_estimate, view.currency
    if estimate is None and len(view.change_set_value) == 1:
        currency, estimate = next(iter(view.change_set_value.items()))
    values = {
        "title": view.summary.title, "description": view.description or "",
        "reason": view.reason or "", "coordinator": view.summary.coordinator or "",
        "risk": view.risk or "", "impact": view.impact or "",
        "cost_estimate": "" if estimate is None else str(estimate),
        "currency": currency or default_currency(), "planned_start": moment_input(view.planned_start),
        "planned_end": moment_input(view.planned_end), "outcome": view.outcome or "",
    }
    values.update({f"fields.{k}": "" if v is None else str(v) for k, v in view.fields.items()})
    return values


def _errors(failed: Invalid) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = defaultdict(list)
    for e in failed.errors:
        errors[e.field or "form"].append(e.message)
    return dict(errors)


@bp.post("/changes/<key>/details")
@roles_required(*access.CHANGE_EDITORS)
def update_details(key: str) -> ResponseReturnValue:
    version, form = _version(), request.form.to_dict()
    money = [f"fields.{f.name}" for f in changes.change_form_spec(database(), key).fields
             if f.type == "money"]
    problems = neutralise(form, ["cost_estimate", *money])
    if problems:
        return _detail_page(key, 422, details=form, details_errors=problems)
    try:
        changes.update_change(database(), key, current_user.username, change_details(form),
                              expected_version=version)
    except ChangeConflict:
        return _conflict(key, _("edit of the details"))
    except Invalid as exc:
        return _detail_page(key, 422, details=form, details_errors=_errors(exc))
    except ChangeError as exc:
        flash(str(exc), "error")
        return redirect(_detail_url(key))
    flash(f"{key.upper()}: details saved.", "success")
    return redirect(_detail_url(key, "details"))


@bp.post("/changes/<key>/move")
@roles_required(*access.CHANGE_PARTICIPANTS)
def transition(key: str) -> ResponseReturnValue:
    version, trigger = _version(), request.form.get("trigger", "")
    comment = request.form.get("comment", "").strip() or None
    try:
        moved = changes.move_change(database(), key, trigger, current_user.username,
                                    comment=comment, expected_version=version)
    except changes.ChangeSetStale as exc:
        flash(_("%(problem)s Nothing was registered; the change stays where it was.", problem=exc),
              "error")
    except ChangeConflict:
        return _conflict(key, f"“{trigger}”")
    except changes.TransitionRefused as exc:
        flash(_("%(key)s: “%(trigger)s” is not possible now: %(reasons)s.", key=key.upper(),
                trigger=trigger, reasons="; ".join(ui_reason(r) for r in exc.reasons)), "error")
    except ValidationFailed as exc:
        flash(_("%(key)s was not implemented: its change set no longer fits the register "
                "(%(problem)s). Nothing was registered; send it back for rework or withdraw it.",
                key=key.upper(), problem=exc), "error")
    except ChangeError as exc:
        flash(str(exc), "error")
    else:
        flash(_("%(key)s is now %(state)s (%(step)s).", key=moved.key, state=moved.state_label,
                step=label(moved.step).lower()), "success")
    return redirect(_detail_url(key))


@bp.post("/changes/<key>/approval")
@roles_required(*access.CHANGE_PARTICIPANTS)
def approval(key: str) -> ResponseReturnValue:
    version = _version()
    approve = request.form.get("decision") == "approve"
    comment = request.form.get("comment", "").strip() or None
    if not approve and not comment:
        return _detail_page(key, 422, approval_comment="",
                            approval_errors={"comment": ["say why you reject the change"]})
    try:
        now = changes.approve_change(database(), key, current_user.username, approve=approve,
                                     comment=comment, expected_version=version)
    except ChangeConflict:
        return _conflict(key, _("decision"))
    except ChangeError as exc:
        flash(str(exc), "error")
        return redirect(_detail_url(key))
    recorded = (_("%(key)s: your approval is recorded.", key=now.key) if approve else
                _("%(key)s: your rejection is recorded.", key=now.key))
    if now.step != "authorisation":  # the model moved it on (authorised, or rejected)
        recorded += " " + _("It is now %(state)s (%(step)s).", state=now.state_label,
                            step=label(now.step).lower())
    flash(recorded, "success")
    return redirect(_detail_url(key, "approvals"))


@bp.post("/changes/<key>/comments")
@roles_required(*access.CHANGE_PARTICIPANTS)
def comment(key: str) -> ResponseReturnValue:
    version, body = _version(), request.form.get("body", "")
    try:
        changes.add_comment(database(), key, current_user.username, body,
                            expected_version=version)
    except ChangeConflict:
        # The text is kept: the writer reads what changed and posts it again, or not.
        return _detail_page(key, 409, comment=body, comment_errors={"body": [
            _conflict_text(key, _("comment")) + " " + _("Your text is still below.")]})
    except ValidationFailed as exc:
        return _detail_page(key, 422, comment=body, comment_errors=_errors(exc))
    flash(_("%(key)s: comment posted.", key=key.upper()), "success")
    return redirect(_detail_url(key, "comments"))


# -- change-set forms (a new change, or editing a change's change set) ----------------------------

def _read_form(form: MultiDict[str, str]) -> FormState:
    rows = changes.rows_from_form(form, DEFAULT_ROWS, MAX_ROWS)
    values = {k: v for k, v in form.items() if not ROW_INPUT.match(k) and k != "csrf_token"}
    return FormState(values, rows, services=form.getlist("services"))


def _more_rows(state: FormState, action: str, spec: ChangeFormSpec | None = None) -> bool:
    """Handle the form's own buttons ("more rows", "show attributes", "copy") and pasted serial
    numbers; True when the form goes back to the user instead of being saved."""
    for problem in state.rows.problems:
        state.errors.setdefault(problem.field, []).append(problem.message)
    if state.rows.copied or state.rows.problems:
        return True
    if action.startswith("more-") and action[5:] in SECTIONS:
        state.add_rows(action[5:], MORE_ROWS, spec.new_item if spec else None)
        return True
    return action == "refresh"


def _row_errors(state: FormState, spec: ChangeFormSpec, failed: list[FieldError],
                origins: list[changes.Origin]) -> None:
    """Put each error next to the input it came from."""
    fields = {*DETAIL_FIELDS, "source", "incident_reference", "services",
              *(f"fields.{f.name}" for f in spec.fields)}
    state.errors = changes.input_errors(failed, origins, state.rows, spec, fields)


@bp.get("/changes/new")
@roles_required(*access.CHANGE_EDITORS)
def new() -> ResponseReturnValue:
    return render_template("changes/choose_model.html",
                           models=changes.list_models(database()))


@bp.route("/changes/new/<model>", methods=["GET", "POST"])
@roles_required(*access.CHANGE_EDITORS)
def new_for_model(model: str) -> ResponseReturnValue:
    spec = changes.form_spec(database(), model)
    if request.method == "GET":
        state = FormState(values={"source": "customer", "coordinator": current_user.username})
        for section, count in DEFAULT_ROWS.items():
            state.add_rows(section, count, spec.new_item)
        # Items handed on from the register's bulk actions: one update row each.
        items = [k.strip().upper() for k in request.args.getlist("item") if k.strip()]
        if items:
            state.rows.update = [{"item": k} for k in items[:MAX_ROWS]]
        return _new_form(spec, state)
    state = _read_form(request.form)
    if _more_rows(state, request.form.get("action", ""), spec):
        return _new_form(spec, state, 422 if state.errors else 200)
    if not state.read_amounts([f.name for f in spec.fields if f.type == "money"]):
        return _new_form(spec, state, 422)
    operations, origins, problems = state.rows.operations()
    if problems:
        _row_errors(state, spec, problems, origins)
        return _new_form(spec, state, 422)
    values = state.values
    others = [s.strip().upper() for s in re.split(r"[,\s]+", values.get("other_services", ""))]
    try:
        details = {name: value for name, value in change_details(
            values, [n for n in DETAIL_FIELDS if n not in ("title", "outcome")],
            model_fields=[f.name for f in spec.fields]).items() if value is not None}
        registered = changes.register_change(
            database(), current_user.username, model=spec.model.code,
            title=values.get("title", "").strip(), operations=operations,
            source=values.get("source") or "customer",
            services=[*state.services, *(s for s in others if s)], **details,
            **({"incident_reference": values["incident_reference"].strip()}
               if (values.get("incident_reference") or "").strip() else {}))
    except changes.NotAChange as exc:
        state.errors["operations"] = [str(exc)]
        return _new_form(spec, state, 422)
    except Invalid as exc:
        _row_errors(state, spec, exc.errors, origins)
        return _new_form(spec, state, 422)
    except ChangeError as exc:
        flash(str(exc), "error")
        return _new_form(spec, state, 503)
    if registered.step == "rejected":
        flash(_("%(key)s is recorded, but rejected at once: it names a service that is not "
                "agreed. Agree the service in CTM first, then register the change again.",
                key=registered.key), "error")
    else:
        flash(_("Registered %(key)s “%(title)s”. It is now %(state)s (%(step)s).",
                key=registered.key, title=registered.title, state=registered.state_label,
                step=label(registered.step).lower()), "success")
    return redirect(_detail_url(registered.key))


def _offer(spec: ChangeFormSpec, state: FormState) -> None:
    """A new item's row gets what its class offers (how it depreciates) once its class is chosen."""
    for row in state.rows.create:
        klass = spec.klass(row.get("class"))
        if klass is not None:
            klass.offer(row)


def _new_form(spec: ChangeFormSpec, state: FormState, status: int = 200) -> ResponseReturnValue:
    _offer(spec, state)
    return render_template("changes/new.html", spec=spec, state=state, **_form_options(spec),
                           action=url_for(".new_for_model", model=spec.model.code)), status


def _change_set_page(key: str, state: FormState | None = None, status: int = 200,
                     notice: str | None = None) -> ResponseReturnValue:
    if not set(current_user.roles) & set(access.CHANGE_EDITORS):
        abort(403, description=_("Editing a change set is for change coordinators."))
    view = changes.change_detail(database(), key)
    spec = changes.change_form_spec(database(), key)
    if not view.change_set_editable:
        flash(_("%(key)s is in %(step)s: its change set can be edited only in registration or "
                "assessment.", key=view.summary.key, step=label(view.summary.step).lower()),
              "error")
        return redirect(_detail_url(view.summary.key))
    if state is None:
        state = FormState(rows=ChangeSetRows.from_operations(view.operations))
        for section in spec.sections():
            state.add_rows(section, 1, spec.new_item)  # a blank row to add to what is there
    # Re-rendering (more rows, errors) keeps the version the form was first made from; only
    # after a conflict the user has seen does the form take the current one.
    _offer(spec, state)
    form_version = str(view.summary.version) if notice else (
        state.values.get("version") or str(view.summary.version))
    return render_template("changes/edit_change_set.html", change=view, summary=view.summary,
                           form_version=form_version,
                           spec=spec, state=state, notice=notice, **_form_options(spec),
                           action=url_for(".change_set", key=view.summary.key)), status


@bp.post("/changes/<key>/change-set")
@roles_required(*access.CHANGE_EDITORS)
def change_set(key: str) -> ResponseReturnValue:
    version = _version()
    state = _read_form(request.form)
    spec = changes.change_form_spec(database(), key)
    if _more_rows(state, request.form.get("action", ""), spec):
        return _change_set_page(key, state, 422 if state.errors else 200)
    if not state.read_amounts([]):
        return _change_set_page(key, state, 422)
    operations, origins, problems = state.rows.operations()
    if problems:
        _row_errors(state, spec, problems, origins)
        return _change_set_page(key, state, 422)
    try:
        changes.replace_change_set(database(), key, current_user.username, operations,
                                   expected_version=version)
    except ChangeConflict:
        # Shown with the user's rows; saving again is an informed overwrite of the newer version.
        return _change_set_page(key, state, 409, notice=_conflict_text(key, _("change set")) + (
            " " + _("Your rows are kept below; saving them again replaces the change set as it is "
                    "now.")))
    except changes.NotAChange as exc:
        state.errors["operations"] = [str(exc)]
        return _change_set_page(key, state, 422)
    except ValidationFailed as exc:
        _row_errors(state, spec, exc.errors, origins)
        return _change_set_page(key, state, 422)
    except ChangeError as exc:
        flash(str(exc), "error")
        return redirect(_detail_url(key))
    flash(_("%(key)s: change set saved (%(count)s operation(s)).", key=key.upper(),
            count=len(operations)), "success")
    return redirect(_detail_url(key, "change-set"))


# -- the calendar --------------------------------------------------------------------------------

@bp.get("/changes/calendar")
@roles_required(*access.CHANGE_PARTICIPANTS)
def calendar() -> ResponseReturnValue:
    today = datetime.now(UTC).date()
    text = request.args.get("month", "").strip()
    match = MONTH.match(text) if text else None
    if text and (not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1900):
        abort(400, description=_("'%(text)s' is not a month: give it as YYYY-MM, e.g. "
                                 "%(example)s.", text=text, example=f"{today:%Y-%m}"))
    first = date(int(match.group(1)), int(match.group(2)), 1) if match else today.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    grid_start = first - timedelta(days=first.weekday())
    grid_end = following + timedelta(days=(7 - following.weekday()) % 7)
    entries = changes.planned_windows(
        database(), datetime.combine(grid_start, datetime.min.time(), UTC),
        datetime.combine(grid_end, datetime.min.time(), UTC))
    days = [grid_start + timedelta(days=n) for n in range((grid_end - grid_start).days)]
    by_day = {d: [e for e in entries if e.start.date() <= d <= _last_day(e)] for d in days}
    in_month = [e for e in entries if e.start.date() < following and _last_day(e) >= first]
    return render_template(
        "changes/calendar.html", first=first, today=today, by_day=by_day,
        weeks=[days[i:i + 7] for i in range(0, len(days), 7)], entries=in_month,
        previous=(first - timedelta(days=1)).strftime("%Y-%m"), following=following.strftime("%Y-%m"))


def _last_day(entry: changes.CalendarEntry) -> date:
    """The last day a window covers (a window ending at midnight does not cover that day)."""
    end = entry.end
    if end > entry.start and end.time() == datetime.min.time():
        end -= timedelta(microseconds=1)
    return end.date()
