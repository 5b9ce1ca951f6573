"""Signing in and out: failed attempts are throttled per user and address, a session is new at
sign-in and revoked at sign-out (see ``web.accounts.login_guard``)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from usm.accounts import User
from usm.services.accounts import authenticate
from web.accounts import login_guard
from web.accounts.blueprint import bp
from web.support import i18n
from web.support.context import database

bp.before_app_request(login_guard.drop_revoked_session)


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


def begin_session(user: User) -> None:
    """Sign ``user`` in on a fresh session: every way of signing in (password, single sign-on)
    ends here. Nothing from before the sign-in carries over but the language picked on the
    sign-in page."""
    language = session.get(i18n.SESSION_KEY)
    session.clear()
    if language:
        session[i18n.SESSION_KEY] = language
    login_guard.start_session()
    login_user(user)


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    target = local_target(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(target or url_for("home.index"))
    form = LoginForm()
    if form.validate_on_submit():
        username, address = form.username.data.strip(), request.remote_addr or "unknown"
        wait = login_guard.throttle().wait_seconds(username, address)
        if wait:
            minutes = -(-wait // 60)
            flash(ngettext("Too many failed sign-ins for %(username)s from your address: try "
                           "again in %(num)d minute.",
                           "Too many failed sign-ins for %(username)s from your address: try "
                           "again in %(num)d minutes.", minutes, username=username), "error")
            return render_template("accounts/login.html", form=form, next=target), 429
        user = authenticate(database(), username, form.password.data)
        if user is not None:
            login_guard.throttle().succeeded(username, address)
            begin_session(user)
            return redirect(target or url_for("home.index"))
        login_guard.throttle().failed(username, address)
        flash(_("Unknown user name or wrong password."), "error")
    elif form.is_submitted():
        flash(_("Enter your user name and password."), "error")
    return render_template("accounts/login.html", form=form, next=target)


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    language = str(get_locale() or i18n.DEFAULT_LANGUAGE)  # the sign-in page keeps speaking it
    logout_user()
    login_guard.end_session()
    session[i18n.SESSION_KEY] = language
    flash(_("You are signed out."), "info")
    return redirect(url_for("accounts.login"))
