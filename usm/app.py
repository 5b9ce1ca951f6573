"""The web application factory: the composition root that binds the web tier to the services.

This module and ``usm.cli.platform`` (``usm serve``) are the only code that imports ``web``. The
factory neither creates tables nor runs migrations: Alembic owns the schema and is run by command,
not by each worker.
"""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

import web
from usm.accounts import User
from usm.config import Settings
from usm.services.errors import UsmError
from usm.services.platform import Database
from web import (
    accounts,
    api,
    attachments,
    audit,
    audit_log,
    change_models,
    changes,
    checkouts,
    home,
    incidents,
    item_classes,
    labels,
    reference,
    register,
    reports,
    search,
)
from web.accounts import login_guard
from web.accounts.login_guard import SESSION_LIFETIME
from web.support import auditing, converters, errors, formatting, i18n, security, stored_text
from web.support.context import DATABASE_EXTENSION
from web.support.navigation import navigation

login_manager = LoginManager()
login_manager.login_view = "accounts.login"
login_manager.login_message = lazy_gettext("Please sign in to see this page.")
# Flashed in the language of the request that was sent to sign in.
login_manager.localize_callback = str
login_manager.login_message_category = "info"
csrf = CSRFProtect()


def create_app(settings: Settings | None = None, db: Database | None = None) -> Flask:
    """Build the app on ``settings`` (default: from the environment) and ``db`` (default: connect
    to ``settings.database_url``). The caller that passes ``db`` keeps ownership of it."""
    settings = settings or Settings.from_env()
    app = Flask(__name__, template_folder=str(web.TEMPLATES), static_folder=str(web.STATIC),
                static_url_path="/static")
    app.config.update(
        SECRET_KEY=settings.secret_key,
        TESTING=settings.testing,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        REMEMBER_COOKIE_SECURE=settings.secure_cookies,
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,  # also the most a signed cookie lives
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        WTF_CSRF_ENABLED=True,
        # Uploads (imports, attachments with their form) larger are refused.
        MAX_CONTENT_LENGTH=max(audit.MAX_UPLOAD_BYTES, settings.attachment_max_bytes + (1 << 20)),
        ATTACHMENT_STORAGE=settings.attachment_storage,
        ATTACHMENT_MAX_BYTES=settings.attachment_max_bytes,
        **{auditing.ACT_AS_SETTING: settings.allow_act_as},
    )
    if settings.trusted_proxies:
        # The client's address (the sign-in throttle's key, the audit log's "from") and scheme
        # as the proxies in front report them; without proxies these headers are not trusted.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies,  # type: ignore[method-assign]
                                x_proto=settings.trusted_proxies)
    app.extensions[DATABASE_EXTENSION] = db or Database.connect(settings.database_url)

    accounts.sso.init_app(app, settings.single_sign_on)
    login_manager.init_app(app)
    csrf.init_app(app)
    i18n.init_app(app)
    app.before_request(stored_text.refuse_unstorable_input)  # after the CSRF check

    app.jinja_env.filters.update(formatting.FILTERS)
    converters.install(app)
    for package in (accounts, home, register, labels, changes, change_models, item_classes, reports, audit,
                    audit_log, search, checkouts, attachments, reference, incidents):
        app.register_blueprint(package.bp)
    # The API authenticates with bearer tokens, never cookies, so CSRF does not apply to it.
    app.register_blueprint(api.bp)
    csrf.exempt(api.bp)
    app.context_processor(navigation)
    for code in errors.HANDLED:
        app.register_error_handler(code, errors.render_error)
    app.register_error_handler(UsmError, errors.render_refusal)
    app.after_request(security.add_security_headers)
    app.after_request(auditing.record_download)
    return app


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    """The signed-in user for this request, while the server keeps their session live: signing
    out, signing out everywhere, deactivation and a password reset end it on every worker."""
    return login_guard.signed_in_user(user_id)  # type: ignore[return-value]
