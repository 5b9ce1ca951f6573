"""English and Dutch: every page renders in both with every string translated, the catalogue covers
every marked string, the language follows the account's choice, the sign-in page's choice or the
browser, and the API stays English."""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from babel.support import Translations
from flask import Flask
from flask.testing import FlaskClient

from tests.support.web import login, post_form
from tests.system.test_web_access_matrix import ACCESS, _get_rules, demo_app_with_import
from usm.services import accounts
from usm.services.accounts import ValidationFailed, set_language, user_by_username
from usm.services.platform import Database
from web.support import formatting, i18n

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "web" / "translations" / "nl" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None,
            "lazy_ngettext": (1, 2)}
DUTCH = {"Accept-Language": "nl"}
NBSP = "\xa0"


def _extracted_msgids() -> set[str]:
    """Every msgid ``pybabel extract -F babel.cfg`` finds, walking only the folders babel.cfg
    names (the whole checkout holds virtualenvs and test artifacts)."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg, "babel.cfg")
    found = set()
    for top in sorted({pattern.split("/")[0] for pattern, _method in method_map}):
        local = [(pattern.removeprefix(top + "/"), method) for pattern, method in method_map
                 if pattern.startswith(top + "/")]
        options = {pattern.removeprefix(top + "/"): value for pattern, value in options_map.items()
                   if pattern.startswith(top + "/")}
        found |= {message if isinstance(message, str) else message[0]
                  for _file, _line, message, _comments, _context in extract_from_dir(
                      str(ROOT / top), local, options, keywords=KEYWORDS)}
    return found


def test_every_marked_string_has_a_dutch_translation() -> None:
    """Fails when a developer marks a new string and forgets its translation (or leaves it fuzzy):
    run ``pybabel extract`` / ``update`` as the README says and translate what it lists."""
    with CATALOGUE.open("rb") as stream:
        catalogue = read_po(stream, locale="nl")
    untranslated = []
    for msgid in sorted(_extracted_msgids()):
        entry = catalogue.get(msgid)
        strings = ([] if entry is None else
                   list(entry.string) if isinstance(entry.string, tuple) else [entry.string])
        if entry is None or entry.fuzzy or not all(strings):
            untranslated.append(msgid)
    assert untranslated == [], f"{len(untranslated)} strings without a Dutch translation"


def test_the_catalogue_holds_no_stale_entries() -> None:
    """Strings no longer in the code are dropped from the catalogue (``pybabel update`` does)."""
    with CATALOGUE.open("rb") as stream:
        catalogue = read_po(stream, locale="nl")
    extracted = _extracted_msgids()
    stale = sorted(msgid for msgid in (m.id if isinstance(m.id, str) else m.id[0]
                                       for m in catalogue if m.id)
                   if msgid not in extracted)
    assert stale == []


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory: pytest.TempPathFactory, templates) -> Iterator[Flask]:  # type: ignore[no-untyped-def]  # noqa: E501
    yield from demo_app_with_import(tmp_path_factory, templates, "i18n")


@pytest.fixture
def missed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every string a page asked the interface catalogue for and did not find."""
    misses: list[str] = []
    original_gettext, original_ngettext = Translations.ugettext, Translations.ungettext

    def gettext(self: Translations, message: str) -> str:
        if self.domain == "messages" and message not in self._catalog:
            misses.append(message)
        return original_gettext(self, message)

    def ngettext(self: Translations, singular: str, plural: str, n: int) -> str:
        if self.domain == "messages" and (singular, 0) not in self._catalog:
            misses.append(singular)
        return original_ngettext(self, singular, plural, n)

    monkeypatch.setattr(Translations, "ugettext", gettext)
    monkeypatch.setattr(Translations, "ungettext", ngettext)
    return misses


# Routes that hand the browser over (to the identity provider, or back to the sign-in page with
# a message), never a page of their own; their messages are checked where they are shown.
HANDOFFS = {"accounts.oidc_login", "accounts.oidc_callback"}


def _pages_by_user(app: Flask) -> dict[str | None, list[tuple[str, str]]]:
    """Each GET route with one user allowed to open it (None for public pages)."""
    order = ["sam", "carol", "pat", "ada"]
    pages: dict[str | None, list[tuple[str, str]]] = {}
    for endpoint, path in _get_rules(app):
        if endpoint == "static" or endpoint.startswith("test_only") or endpoint in HANDOFFS:
            continue
        allowed = ACCESS[endpoint]
        user = None if allowed is None else next(u for u in order if u in allowed)
        pages.setdefault(user, []).append((endpoint, path))
    return pages


def test_every_page_renders_in_both_languages_with_every_string_translated(
        demo_app: Flask, missed: list[str]) -> None:
    problems = []
    for user, pages in _pages_by_user(demo_app).items():
        for language in ("en", "nl"):
            client = demo_app.test_client()
            if user:
                assert login(client, user).status_code == 302
            for endpoint, path in pages:
                del missed[:]
                response = client.get(path, headers={"Accept-Language": language})
                kind = response.mimetype
                html = response.get_data(as_text=True) if kind == "text/html" else ""
                response.close()
                if response.status_code != 200:
                    problems.append(f"{language} {user} GET {path} -> {response.status_code}")
                elif kind == "text/html" and f'<html lang="{language}"' not in html:
                    problems.append(f"{language} {path}: not marked lang={language}")
                if language == "nl" and missed:
                    problems.append(f"nl {path} ({endpoint}): untranslated {sorted(set(missed))}")
    assert problems == []


def test_dutch_pages_use_the_usm_vocabulary(demo_app: Flask) -> None:
    client = demo_app.test_client()
    login(client, "carol")
    queue = client.get("/changes", headers=DUTCH).get_data(as_text=True)
    assert "Wijzigingen" in queue and "Registratie" in queue and "Autorisatie" in queue
    assert "beheerde infrastructuur register" in queue  # the BIR, spelled out on every page
    detail = client.get("/changes/CHG-000001", headers=DUTCH).get_data(as_text=True)
    assert "Beoordeling" in detail and "Evaluatie" in detail and "Realisatie" in detail


def test_money_numbers_and_dates_follow_the_language(demo_app: Flask) -> None:
    with demo_app.test_request_context("/", headers=DUTCH):
        assert formatting.money(Decimal("1234.56"), "EUR") == f"€{NBSP}1.234,56"
        assert formatting.number(12345) == "12.345"
        assert formatting.when(date(2026, 1, 31)) == "31-01-2026"
        assert formatting.money(Decimal("5"), None) == "5,00 (geen valuta)"
    with demo_app.test_request_context("/"):
        assert formatting.money(Decimal("1234.56"), "EUR") == "€1,234.56"
        assert formatting.number(12345) == "12,345"
        assert formatting.when(date(2026, 1, 31)) == "2026-01-31"
    client = demo_app.test_client()
    login(client, "sam")
    register = client.get("/items?class=hardware.laptop", headers=DUTCH).get_data(as_text=True)
    assert re.search(r"€\xa0\d{1,3}(\.\d{3})*,\d\d", register), "no Dutch money on the register page"


def test_the_accounts_language_choice_persists_and_wins(web_client: FlaskClient,
                                                         web_db: Database) -> None:
    login(web_client, "sam")
    page = web_client.get("/account/tokens").get_data(as_text=True)
    assert "Follow my browser" in page and "Nederlands" in page
    assert re.search(r'<input checked[^>]*value="">', page)  # following the browser until chosen
    saved = post_form(web_client, "/account/tokens", "/account/language", {"language": "nl"})
    assert saved.status_code == 302
    assert user_by_username_language(web_db, "sam") == "nl"
    home = web_client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="nl"' in home and "Uw taal is opgeslagen." in home
    assert "Afmelden" in home  # the account wins over the browser

    back = post_form(web_client, "/account/tokens", "/account/language", {"language": ""})
    assert back.status_code == 302 and user_by_username_language(web_db, "sam") is None
    assert '<html lang="en"' in web_client.get("/").get_data(as_text=True)
    assert '<html lang="nl"' in web_client.get("/", headers=DUTCH).get_data(as_text=True)


def user_by_username_language(db: Database, username: str) -> str | None:
    with db.reading() as session:
        from sqlalchemy import select

        from usm.accounts import User
        return session.scalar(select(User.language).where(User.username == username))


def test_an_unknown_language_is_refused_by_name(web_client: FlaskClient, web_db: Database) -> None:
    login(web_client, "sam")
    refused = post_form(web_client, "/account/tokens", "/account/language", {"language": "fr"})
    assert refused.status_code == 400
    assert "unknown language &#39;fr&#39; (known: en, nl)" in refused.get_data(as_text=True)
    assert user_by_username_language(web_db, "sam") is None
    with pytest.raises(ValidationFailed) as refusal:
        set_language(web_db, "sam", "xx")
    assert [(e.field, e.message) for e in refusal.value.errors] == [
        ("language", "unknown language 'xx' (known: en, nl)")]
    set_language(web_db, "sam", "nl")
    assert user_by_username(web_db, "sam").username == "sam"
    assert user_by_username_language(web_db, "sam") == "nl"


def test_the_browsers_language_is_followed_when_nobody_chose(web_client: FlaskClient) -> None:
    assert "Aanmelden" in web_client.get("/login", headers=DUTCH).get_data(as_text=True)
    preferred = web_client.get("/login", headers={"Accept-Language": "de-DE, nl;q=0.8, en;q=0.5"})
    assert '<html lang="nl"' in preferred.get_data(as_text=True)
    flemish = web_client.get("/login", headers={"Accept-Language": "nl-BE"})
    assert '<html lang="nl"' in flemish.get_data(as_text=True)  # a regional variant counts
    other = web_client.get("/login", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert '<html lang="en"' in other and "Sign in" in other
    assert '<html lang="en"' in web_client.get("/login").get_data(as_text=True)


def test_the_sign_in_pages_switch_needs_no_account_and_carries_into_the_session(
        web_client: FlaskClient) -> None:
    english = web_client.get("/login").get_data(as_text=True)
    assert 'href="/login?lang=nl"' in english and ">Nederlands<" in english
    dutch = web_client.get("/login?lang=nl").get_data(as_text=True)
    assert '<html lang="nl"' in dutch and "Gebruikersnaam" in dutch
    assert '<html lang="nl"' in web_client.get("/login").get_data(as_text=True)  # remembered
    assert login(web_client, "carol").status_code == 302
    assert "Wijzigingen" in web_client.get("/").get_data(as_text=True)  # kept at sign-in
    web_client.get("/login?lang=en")
    assert "Change queue" in web_client.get("/").get_data(as_text=True)


def test_the_api_answers_in_english_whatever_the_browser_says(web_client: FlaskClient,
                                                               web_db: Database) -> None:
    token = accounts.create_token(web_db, "sam", "i18n test").secret
    headers = {"Authorization": f"Bearer {token}", "Accept-Language": "nl"}
    missing = web_client.get("/api/v1/items/LAP-999999", headers=headers)
    english = web_client.get("/api/v1/items/LAP-999999", headers={**headers, "Accept-Language": "en"})
    assert missing.status_code == 404 and missing.get_json() == english.get_json()
    assert missing.get_json()["error"]["code"] == "not_found"
    bad = web_client.get("/api/v1/items?limit=zero", headers=headers)
    assert bad.status_code == 422 and "limit" in bad.get_data(as_text=True)
    assert bad.get_json() == web_client.get("/api/v1/items?limit=zero", headers={
        **headers, "Accept-Language": "en"}).get_json()


def test_sign_in_messages_are_translated(web_client: FlaskClient) -> None:
    redirected = web_client.get("/changes", headers=DUTCH)
    assert redirected.status_code == 302
    page = web_client.get(redirected.headers["Location"], headers=DUTCH).get_data(as_text=True)
    assert "Meld u aan om deze pagina te zien." in page


def test_the_catalogue_is_compiled_when_missing_or_older_than_its_source(tmp_path: Path) -> None:
    source = tmp_path / "translations"
    shutil.copytree(CATALOGUE.parent.parent.parent, source,
                    ignore=shutil.ignore_patterns("*.mo"))
    po = source / "nl" / "LC_MESSAGES" / "messages.po"
    mo = po.with_suffix(".mo")
    assert i18n.compile_catalogues(source) == source and mo.exists()
    with mo.open("rb") as stream:
        assert Translations(stream).gettext("Sign in") == "Aanmelden"
    po.write_text(po.read_text(encoding="utf-8").replace('msgstr "Aanmelden"', 'msgstr "Inloggen"'),
                  encoding="utf-8")
    later = time.time() + 5
    os.utime(po, (later, later))
    i18n.compile_catalogues(source)
    with mo.open("rb") as stream:
        assert Translations(stream).gettext("Sign in") == "Inloggen"
