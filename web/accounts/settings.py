"""A user's own settings: the interface language, their sign-in sessions ("sign out
everywhere"), and personal API tokens for /api/v1.

Every signed-in user may hold tokens; a token acts with its user's roles, so it needs no role of
its own. The plain token is shown once, in the answer to the form that made it, and is never put
in a session, a flash message or a log.
"""

from __future__ import annotations

from datetime import UTC, datetime, time

from flask import abort, flash, redirect, render_template, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale, refresh
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, logout_user
from flask_wtf import FlaskForm
from wtforms import DateField, RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from usm.services import accounts
from usm.services.accounts import TokenNotFound, ValidationFailed
from web.accounts import login_guard
from web.accounts.blueprint import bp
from web.support import i18n
from web.support.auditing import origin
from web.support.context import database


class NewTokenForm(FlaskForm):
    name = StringField(_l("Name"), description=_l("What the token is for, e.g. 'discovery agent "
                                                  "on scan-01'; you see it in the list, not the "
                                                  "token."))
    expires_on = DateField(_l("Expires on"), validators=[Optional()],
                           description=_l("The token stops working at the start of this day "
                                          "(UTC). Leave empty for a token that works until "
                                          "revoked."))


FOLLOW_BROWSER = ""  # the form's value for "no choice": the browser's Accept-Language decides


class LanguageForm(FlaskForm):
    # Each language is named in itself; the service refuses any other code by name.
    language = RadioField(_l("Interface language"), choices=[
        SelectChoice(FOLLOW_BROWSER, _l("Follow my browser")),
        *(SelectChoice(code, name) for code, name in accounts.LANGUAGES.items()),
    ], validate_choice=False)


class RevokeForm(FlaskForm):
    """Only the CSRF token (checked app-wide by CSRFProtect before the view runs)."""


def _page(form: NewTokenForm, status: int = 200, secret: str | None = None,
          language_form: LanguageForm | None = None) -> ResponseReturnValue:
    tokens = accounts.list_tokens(database(), current_user.username)
    sessions = accounts.live_sessions(database(), current_user.username,
                                      current_secret=login_guard.current_secret())
    if language_form is None:
        language_form = LanguageForm(formdata=None,
                                     language=current_user.language or FOLLOW_BROWSER)
    return render_template("accounts/tokens.html", form=form, revoke=RevokeForm(), tokens=tokens,
                           secret=secret, language_form=language_form,
                           sessions=sessions), status


@bp.get("/account/tokens")
@login_required
def tokens() -> ResponseReturnValue:
    return _page(NewTokenForm(formdata=None))


@bp.post("/account/language")
@login_required
def set_language() -> ResponseReturnValue:
    form = LanguageForm()
    if not form.validate_on_submit():
        return _page(NewTokenForm(formdata=None), 400, language_form=form)
    try:
        accounts.set_language(database(), current_user.username, form.language.data,
                              origin=origin())
    except ValidationFailed as exc:
        form.language.errors = [error.message for error in exc.errors]
        return _page(NewTokenForm(formdata=None), 400, language_form=form)
    # The account's choice now decides; one made on the sign-in page no longer does.
    session.pop(i18n.SESSION_KEY, None)
    current_user.language = form.language.data or None
    refresh()  # the message below is in the language just chosen
    flash(_("Your language is saved."), "success")
    return redirect(url_for(".tokens"))


@bp.post("/account/tokens")
@login_required
def create_token() -> ResponseReturnValue:
    form = NewTokenForm()
    if not form.validate_on_submit():
        return _page(form, 400)
    expires = (datetime.combine(form.expires_on.data, time(0), tzinfo=UTC)
               if form.expires_on.data else None)
    try:
        made = accounts.create_token(database(), current_user.username, form.name.data or "",
                                     expires_at=expires, origin=origin())
    except ValidationFailed as exc:
        for error in exc.errors:
            field = form.expires_on if error.field == "expires_at" else form.name
            field.errors = [*field.errors, error.message]
        return _page(form, 400)
    return _page(NewTokenForm(formdata=None), 201, secret=made.secret)


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int) -> ResponseReturnValue:
    try:
        # Only the user's own tokens are found: someone else's is "not found", never revoked.
        revoked = accounts.revoke_token(database(), token_id, owner=current_user.username,
                                        origin=origin())
    except TokenNotFound:
        abort(404, description=_("You have no token %(id)s.", id=token_id))
    flash(_("Token “%(name)s” is revoked: it stops working at once.", name=revoked.name),
          "success")
    return redirect(url_for(".tokens"))


@bp.post("/account/sessions/end")
@login_required
def end_my_sessions() -> ResponseReturnValue:
    """Sign out everywhere: every session of the user ends, this one too, on every worker."""
    language = str(get_locale() or i18n.DEFAULT_LANGUAGE)  # the sign-in page keeps speaking it
    accounts.end_all_sessions(database(), current_user.username, origin())
    logout_user()
    session.clear()
    session[i18n.SESSION_KEY] = language
    flash(_("You are signed out everywhere: every session of yours has ended, in every browser. "
            "Your API tokens keep working; revoke any that may be at risk."), "info")
    return redirect(url_for(".login"))
