"""The interface language: English or Dutch per request, and the Dutch catalogue compiled from
its source.

The language of a request is the signed-in user's choice (account page), else the one picked on
the sign-in page (``?lang=nl``, remembered in the session), else the browser's Accept-Language
best match, else English. The JSON API always answers in English: its messages are for programs
and their logs, and its codes never change with the language.

Only ``web/translations/<lang>/LC_MESSAGES/messages.po`` is kept in the repository; the ``.mo``
that gettext reads is compiled from it when the app starts (when missing or older than the
``.po``), so a fresh clone, an edited catalogue and an installed package all work unchanged.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, request, session
from flask_babel import Babel, get_locale
from flask_login import current_user

from usm.services.accounts import LANGUAGES
from web.support.formatting import weekday_names

SOURCE = Path(__file__).resolve().parents[1] / "translations"
DEFAULT_LANGUAGE = "en"
SESSION_KEY = "language"
QUERY_PARAMETER = "lang"
API_BLUEPRINT = "api"

babel = Babel()


def compile_catalogues(source: Path = SOURCE) -> Path:
    """The directory holding compiled catalogues for every ``.po`` under ``source``: ``source``
    itself when writable, else a per-user temporary copy (an installed, read-only package)."""
    try:
        return _compile_into(source, source)
    except OSError:
        return _compile_into(source, Path(tempfile.gettempdir()) / f"usm-translations-{os.getuid()}")


def _compile_into(source: Path, target: Path) -> Path:
    for po in sorted(source.glob("*/LC_MESSAGES/*.po")):
        mo = target / po.relative_to(source).with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        mo.parent.mkdir(parents=True, exist_ok=True)
        with po.open("rb") as stream:
            catalog = read_po(stream, locale=po.parent.parent.name)
        # Written aside and renamed: another worker starting at the same moment never reads half.
        handle, partial = tempfile.mkstemp(dir=mo.parent, suffix=".mo.part")
        try:
            with os.fdopen(handle, "wb") as out:
                write_mo(out, catalog)  # fuzzy entries are left out, as gettext would
            os.replace(partial, mo)
        finally:
            if os.path.exists(partial):
                os.unlink(partial)
    return target


def _is_api_request() -> bool:
    return bool(request.blueprints) and request.blueprints[-1] == API_BLUEPRINT


def select_language() -> str:
    """The language code of this request (see the module docstring for the order)."""
    if _is_api_request():
        return DEFAULT_LANGUAGE
    chosen = getattr(current_user, "language", None) if current_user else None
    if chosen in LANGUAGES:
        return chosen
    if session.get(SESSION_KEY) in LANGUAGES:
        return str(session[SESSION_KEY])
    return request.accept_languages.best_match(LANGUAGES, default=DEFAULT_LANGUAGE)


def remember_requested_language() -> None:
    """``?lang=nl`` on any page (the sign-in page offers it) is remembered for the session."""
    requested = request.args.get(QUERY_PARAMETER)
    if _is_api_request():
        return  # the API keeps no session
    if requested in LANGUAGES and session.get(SESSION_KEY) != requested:
        session[SESSION_KEY] = requested


def language_context() -> dict[str, object]:
    """Template context: the page's language code and the languages to offer."""
    return {"page_language": str(get_locale() or DEFAULT_LANGUAGE), "languages": LANGUAGES,
            "weekday_names": weekday_names()}


def init_app(app: Flask) -> None:
    directory = compile_catalogues()
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(directory)
    babel.init_app(app, default_locale=DEFAULT_LANGUAGE, default_timezone="UTC",
                   locale_selector=select_language)
    app.before_request(remember_requested_language)
    app.context_processor(language_context)
