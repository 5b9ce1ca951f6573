"""Signing in and out: failed attempts are throttled per user and address, a session is new at
sign-in and ended at sign-out; the server keeps both (see ``web.accounts.login_guard``)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import UserMixin, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from usm.services.accounts import (
    AccountDeactivated,
    DirectoryUnavailable,
    NoMappedRole,
    WrongCredentials,
    sign_in_with_password,
)
from web.accounts import login_guard
from web.accounts.blueprint import bp
from web.support import i18n
from web.support.context import database, single_sign_on


class LoginForm(FlaskForm):
    username = StringField(_l("User name"), validators=[DataRequired(), Length(max=64)],
                           render_kw={"autocomplete": "username", "autofocus": True})
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)],
                             render_kw={"autocomplete": "current-password"})


def local_target(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def begin_session(user: UserMixin) -> None:
    """Sign ``user`` in on a fresh session: every way of signing in (password, single sign-on)
    ends here. Nothing from before the sign-in carries over but the language picked on the
    sign-in page."""
    language = session.get(i18n.SESSION_KEY)
    session.clear()
    if language:
        session[i18n.SESSION_KEY] = language
    login_guard.start_session(user)
    login_user(user)


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    target = local_target(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(target or url_for("home.index"))
    form = LoginForm()
    if form.validate_on_submit():
        username, address = form.username.data.strip(), login_guard.client_address()
        wait = login_guard.throttle().claim(username, address)
        if wait:
            minutes = -(-wait // 60)
            flash(ngettext("Too many failed sign-ins for %(username)s from your address: try "
                           "again in %(num)d minute.",
                           "Too many failed sign-ins for %(username)s from your address: try "
                           "again in %(num)d minutes.", minutes, username=username), "error")
            return render_template("accounts/login.html", form=form, next=target), 429
        try:
            # A local account's password, or (when LDAP is set up) the directory's bind.
            user = sign_in_with_password(database(), single_sign_on(), username,
                                         form.password.data, address=address)
        except WrongCredentials:
            login_guard.throttle().failed(username, address)
            flash(_("Unknown user name or wrong password."), "error")
        except (NoMappedRole, AccountDeactivated, DirectoryUnavailable) as refusal:
            message, status = _directory_refusal(refusal)
            flash(message, "error")
            return render_template("accounts/login.html", form=form, next=target), status
        else:
            login_guard.throttle().succeeded(username, address)
            begin_session(user)
            return redirect(target or url_for("home.index"))
    elif form.is_submitted():
        flash(_("Enter your user name and password."), "error")
    return render_template("accounts/login.html", form=form, next=target)


def _directory_refusal(refusal: Exception) -> tuple[str, int]:
    """What a password sign-in the directory did not refuse, but this application does, says."""
    if isinstance(refusal, NoMappedRole):
        return _("Your directory account is valid, but none of your groups gives a role in this "
                 "application: ask your administrator to add you to one."), 403
    if isinstance(refusal, AccountDeactivated):
        return _("Your account is deactivated in this application: ask an administrator."), 403
    return _("The directory cannot be reached now: try again later. Local accounts can still "
             "sign in."), 503


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    language = str(get_locale() or i18n.DEFAULT_LANGUAGE)  # the sign-in page keeps speaking it
    logout_user()
    login_guard.end_session()
    session[i18n.SESSION_KEY] = language
    flash(_("You are signed out."), "info")
    return redirect(url_for("accounts.login"))
