"""A user changing their own password: the current one, the new one twice.

The service checks everything (the rules of the administrators' form, the sign-in throttle for a
wrong current password, directory and identity-provider users who have no password here); this
page puts each refusal next to its field, in the page's language. On success every other
session of the user ends; this one stays.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import PasswordField

from usm.services import accounts
from usm.services.accounts import FieldError, PasswordElsewhere, TooManyAttempts, ValidationFailed
from web.accounts import login_guard
from web.accounts.blueprint import bp
from web.support.auditing import origin
from web.support.context import database

INVALID, THROTTLED, ELSEWHERE = 400, 429, 409


class OwnPasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"),
                                     render_kw={"autocomplete": "current-password"})
    new_password = PasswordField(
        _l("New password"), description=_l("At least %(count)s characters.",
                                           count=accounts.MIN_PASSWORD),
        render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("Repeat the new password"),
                            render_kw={"autocomplete": "new-password"})


def _elsewhere() -> str | None:
    """Why this user has no password to change here, or None for a local user."""
    source = getattr(current_user, "source", accounts.LOCAL)
    if source == accounts.LDAP:
        return _("You sign in with your directory (LDAP) account, so your password is the "
                 "directory's: change it there.")
    if source == accounts.OIDC:
        return _("You sign in through your organisation's identity provider, so you have no "
                 "password here: change it at the identity provider.")
    return None


def _message(error: FieldError) -> str:
    """The service's refusal in the page's language (its own English words when unknown)."""
    text = error.message
    if error.field == "current_password":
        return (_("Enter your current password.") if text.startswith("give")
                else _("This is not your current password."))
    if error.field == "confirm":
        return _("Does not match the new password.")
    if text.startswith("must differ"):
        return _("Choose a password other than your current one.")
    if text.startswith("must be at least"):
        return _("Use at least %(count)s characters.", count=accounts.MIN_PASSWORD)
    return text


def _page(form: OwnPasswordForm, status: int = 200) -> ResponseReturnValue:
    return render_template("accounts/password.html", form=form, elsewhere=_elsewhere()), status


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password() -> ResponseReturnValue:
    form = OwnPasswordForm()
    if not form.is_submitted():
        return _page(form)
    if _elsewhere():
        return _page(form, ELSEWHERE)
    if not form.validate():  # the CSRF token: the form says so itself
        return _page(form, INVALID)
    try:
        ended = accounts.change_own_password(
            database(), current_user.username, form.current_password.data or "",
            form.new_password.data or "", form.confirm.data or "",
            keep_session=login_guard.current_secret(), origin=origin())
    except ValidationFailed as exc:
        for error in exc.errors:
            field = getattr(form, error.field, None) or form.current_password
            field.errors = [*field.errors, _message(error)]
        return _page(form, INVALID)
    except TooManyAttempts as exc:
        minutes = -(-exc.wait_seconds // 60)
        flash(ngettext("Too many wrong passwords: try again in %(num)d minute.",
                       "Too many wrong passwords: try again in %(num)d minutes.", minutes),
              "error")
        return _page(form, THROTTLED)
    except PasswordElsewhere:
        return _page(form, ELSEWHERE)
    if ended:
        flash(ngettext("Your password is changed. %(num)d other session of yours has ended: "
                       "sign in there again with the new password.",
                       "Your password is changed. %(num)d other sessions of yours have ended: "
                       "sign in there again with the new password.", ended), "success")
    else:
        flash(_("Your password is changed."), "success")
    return redirect(url_for(".tokens"))
