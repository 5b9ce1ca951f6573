"""Administrators' screens: users and their roles, their sessions and tokens.

Users are never deleted (changes and approvals keep naming them): an administrator deactivates
them instead. The service refuses what would lock the product out (no active administrator left)
and names the field, so each error shows next to its input and nothing is written. Deactivating a
user or resetting their password ends their sessions and revokes their API tokens; "sign out
everywhere" ends their sessions only. An administrator makes a token for another user only where
the deployment allows it (``USM_ALLOW_ACT_AS``).
"""

from __future__ import annotations

from datetime import UTC, datetime, time

from flask import abort, flash, redirect, render_template, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, logout_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, Field, PasswordField, SelectMultipleField, StringField
from wtforms.validators import EqualTo, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from usm.services import accounts
from usm.services.accounts import (
    ROLES,
    ActingAsRefused,
    FieldError,
    UserNotFound,
    UserRow,
    ValidationFailed,
)
from web.accounts.blueprint import bp
from web.support import access, i18n
from web.support.auditing import allow_act_as, origin
from web.support.context import database
from web.support.formatting import role_label
from web.support.security import roles_required
from web.support.vocabulary import ROLE_LABELS

# Shown with an invalid form: the browser gets the page back with every error by its field.
INVALID = 400


class RoleChoices(SelectMultipleField):
    """Roles as a list of checkboxes; a value outside ``ROLES`` is refused by the field."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _role_choices() -> list[object]:
    try:  # WTForms 3.3+ wants SelectChoice objects; older versions take (value, label) pairs.
        from wtforms.fields.choices import SelectChoice
    except ImportError:
        return [(code, ROLE_LABELS.get(code, label)) for code, label in ROLES.items()]
    return [SelectChoice(code, ROLE_LABELS.get(code, label)) for code, label in ROLES.items()]


def _role_field() -> RoleChoices:
    return RoleChoices(_l("Roles"), choices=_role_choices(),
                       description=_l("A user sees the screens of every role they hold."))


# The forms check only what is about the form itself (CSRF, the repeated password); the rules
# about users are the service's, so the web, the CLI and the API refuse the same things.


class PasswordFields(FlaskForm):
    password = PasswordField(
        _l("Password"), description=_l("At least %(count)s characters.",
                                       count=accounts.MIN_PASSWORD),
        render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[EqualTo("password", message=_l("does not match the password above"))],
        render_kw={"autocomplete": "new-password"})


class NewUserForm(PasswordFields):
    username = StringField(
        _l("User name"),
        description=_l("2 to 64 lower-case letters, digits, '.', '_' or '-', starting with a "
                       "letter. It cannot be changed later."),
        render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"})
    display_name = StringField(_l("Display name"),
                               description=_l("How the user is shown; the user name if left "
                                              "empty."))
    roles = _role_field()


class EditUserForm(FlaskForm):
    display_name = StringField(_l("Display name"))
    roles = _role_field()
    active = BooleanField(_l("Active: may sign in"),
                          description=_l("A deactivated user cannot sign in, is signed out "
                                         "everywhere at once and loses every API token for "
                                         "good (reactivating brings none back). Their changes "
                                         "and approvals keep their name."))


class ResetPasswordForm(PasswordFields):
    pass


class EndSessionsForm(FlaskForm):
    """Only the CSRF token (checked app-wide by CSRFProtect before the view runs)."""


class ActAsTokenForm(FlaskForm):
    name = StringField(_l("Name"), description=_l("What the token is for; the user sees it in "
                                                  "their list, with your name as its maker."))
    expires_on = DateField(_l("Expires on"), validators=[Optional()],
                           description=_l("The token stops working at the start of this day "
                                          "(UTC). Leave empty for a token that works until "
                                          "revoked."))


@bp.get("/admin/users")
@roles_required(*access.ADMINISTRATORS)
def users() -> ResponseReturnValue:
    rows = accounts.list_users(database())
    return render_template("accounts/users.html", users=rows, roles=ROLES,
                           active_admins=sum(1 for u in rows
                                             if u.active and accounts.ADMINISTRATOR in u.roles))


@bp.route("/admin/users/new", methods=["GET", "POST"])
@roles_required(*access.ADMINISTRATORS)
def new_user() -> ResponseReturnValue:
    form = NewUserForm()
    if not form.is_submitted():
        return render_template("accounts/user_new.html", form=form)
    values = ((form.username.data or "").strip(), form.password.data or "",
              list(form.roles.data or []), form.display_name.data)
    if form.validate():
        try:
            accounts.add_user(database(), *values, origin=origin())
        except ValidationFailed as exc:
            _attach(form, exc.errors)
        else:
            flash(_("User %(user)s created.", user=values[0]), "success")
            return redirect(url_for(".users"))
    elif not _csrf_failed(form):
        # Show the service's objections too, so every problem is listed in one go.
        _attach(form, accounts.new_user_errors(database(), *values))
    return render_template("accounts/user_new.html", form=form), INVALID


@bp.route("/admin/users/<username>", methods=["GET", "POST"])
@roles_required(*access.ADMINISTRATORS)
def user(username: str) -> ResponseReturnValue:
    row = _user_or_404(username)
    form = EditUserForm(data={"display_name": row.display_name, "roles": row.roles,
                              "active": row.active})
    if form.validate_on_submit():
        try:
            updated = accounts.update_user(
                database(), username, display_name=form.display_name.data or "",
                roles=list(form.roles.data or []), active=bool(form.active.data),
                acting_user=current_user.username, origin=origin())
        except ValidationFailed as exc:
            _attach(form, exc.errors)
        else:
            flash(_("Saved %(user)s: %(summary)s.", user=updated.username,
                    summary=_summary(updated)), "success")
            return redirect(url_for(".user", username=username))
    status = INVALID if form.is_submitted() else 200
    return _user_page(row, form, ResetPasswordForm(formdata=None), status)


@bp.post("/admin/users/<username>/password")
@roles_required(*access.ADMINISTRATORS)
def reset_password(username: str) -> ResponseReturnValue:
    row = _user_or_404(username)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            accounts.reset_password(database(), username, form.password.data or "",
                                    origin=origin())
        except ValidationFailed as exc:
            _attach(form, exc.errors)
        else:
            flash(_("New password set for %(user)s: their sessions have ended and their API "
                    "tokens are revoked. Give them the password in person or by another safe "
                    "channel.", user=username), "success")
            return redirect(url_for(".user", username=username))
    elif not _csrf_failed(form):
        _attach(form, accounts.password_errors(form.password.data))
    return _user_page(row, _profile(row), form, INVALID)


@bp.post("/admin/users/<username>/sessions/end")
@roles_required(*access.ADMINISTRATORS)
def end_sessions(username: str) -> ResponseReturnValue:
    """Sign the user out everywhere: every session of theirs ends on every worker at once."""
    _user_or_404(username)
    ended = accounts.end_all_sessions(database(), username, origin())
    if username == current_user.username:  # their own sessions: this one has ended too
        language = str(get_locale() or i18n.DEFAULT_LANGUAGE)
        logout_user()
        session.clear()
        session[i18n.SESSION_KEY] = language
        flash(_("You are signed out everywhere."), "info")
        return redirect(url_for(".login"))
    flash(ngettext("%(user)s is signed out everywhere: %(num)d session ended.",
                   "%(user)s is signed out everywhere: %(num)d sessions ended.", ended,
                   user=username), "success")
    return redirect(url_for(".user", username=username))


@bp.post("/admin/users/<username>/tokens")
@roles_required(*access.ADMINISTRATORS)
def make_token_for(username: str) -> ResponseReturnValue:
    """An administrator's token for another user: only where the deployment allows acting as
    another user; everything done with it records both."""
    row = _user_or_404(username)
    form = ActAsTokenForm()
    if not form.validate_on_submit():
        return _user_page(row, _profile(row), ResetPasswordForm(formdata=None), INVALID,
                          token_form=form)
    expires = (datetime.combine(form.expires_on.data, time(0), tzinfo=UTC)
               if form.expires_on.data else None)
    try:
        made = accounts.create_token(database(), username, form.name.data or "",
                                     expires_at=expires, created_by=current_user.username,
                                     allow_act_as=allow_act_as(), origin=origin())
    except ActingAsRefused:
        abort(403, description=_("You may not make a token for %(user)s: a token is made by "
                                 "its own user. This installation does not let administrators "
                                 "act as other users (USM_ALLOW_ACT_AS).", user=username))
    except ValidationFailed as exc:
        _attach(form, exc.errors)
        return _user_page(row, _profile(row), ResetPasswordForm(formdata=None), INVALID,
                          token_form=form)
    return _user_page(row, _profile(row), ResetPasswordForm(formdata=None), 201,
                      secret=made.secret)


def _profile(row: UserRow) -> EditUserForm:
    return EditUserForm(formdata=None, data={"display_name": row.display_name,
                                             "roles": row.roles, "active": row.active})


def _user_page(row: UserRow, form: EditUserForm, password_form: ResetPasswordForm,
               status: int, token_form: ActAsTokenForm | None = None,
               secret: str | None = None) -> ResponseReturnValue:
    return render_template(
        "accounts/user_edit.html", user=row, form=form, password_form=password_form,
        is_self=row.username == current_user.username, end_form=EndSessionsForm(),
        sessions=accounts.live_sessions(database(), row.username),
        tokens=accounts.list_tokens(database(), row.username), act_as=allow_act_as(),
        token_form=token_form or ActAsTokenForm(formdata=None), secret=secret), status


def _user_or_404(username: str) -> UserRow:
    try:
        return accounts.user_by_username(database(), username)
    except UserNotFound:
        abort(404, description=_("There is no user %(user)s.", user=username))


def _csrf_failed(form: FlaskForm) -> bool:
    token = getattr(form, "csrf_token", None)
    return bool(token is not None and token.errors)


def _attach(form: FlaskForm, errors: list[FieldError]) -> None:
    """Put each of the service's errors on the field it names (others on the form as a whole)."""
    for error in errors:
        target: Field | None = getattr(form, error.field, None) if error.field else None
        if isinstance(target, Field):
            target.errors = [*target.errors, error.message]
        else:
            form.form_errors.append(str(error))


def _summary(row: UserRow) -> str:
    roles = ", ".join(role_label(r).lower() for r in row.roles)
    return f"{roles}; {_('active') if row.active else _('deactivated')}"
