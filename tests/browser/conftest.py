"""Browser tests: the real app on a local port, driven by Playwright in Debian's Chromium.

Playwright cannot download its own browser here, so it launches ``/usr/bin/chromium`` (or
``USM_CHROMIUM``). Without that browser the tests are skipped, unless ``USM_REQUIRE_BROWSER=1``
(CI sets it), where they fail. Screenshots go to ``test-artifacts/screenshots/`` (not committed).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.web import make_app, served

CHROMIUM = os.environ.get("USM_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox", "--headless", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def _browser_missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"no Chromium at {CHROMIUM}"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed"
    return None


@pytest.fixture(scope="session")
def browser():  # type: ignore[no-untyped-def]
    missing = _browser_missing()
    if missing:
        if os.environ.get("USM_REQUIRE_BROWSER") == "1":
            pytest.fail(f"browser tests required but {missing}")
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def live_app(sqlite_url: str):  # type: ignore[no-untyped-def]
    """The app served on a free local port, in a thread, over a fresh database."""
    app = make_app(sqlite_url)
    with served(app):
        yield app


@pytest.fixture
def page(browser, live_app) -> Iterator:  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=live_app.config["LIVE_URL"],
                                  viewport={"width": 1366, "height": 900})
    context.set_default_timeout(10_000)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    yield tab
    context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


def screenshot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
