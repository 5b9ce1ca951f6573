"""Signing in and out in a real browser."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.conftest import PASSWORD


def sign_in(page, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/login")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    # Signed in once the browser has left the sign-in page (the next page is loaded).
    page.wait_for_url(lambda url: "/login" not in url)


def test_wrong_password_then_sign_in_and_out(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/")
    assert "/login" in page.url
    page.get_by_label("User name").fill("carol")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Unknown user name or wrong password.")).to_be_visible()
    screenshot(page, "login-error")

    sign_in(page, "carol")
    expect(page.get_by_role("heading", name="Managed infrastructure register")).to_be_visible()
    expect(page.get_by_role("link", name="Change queue", exact=True)).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()


def test_pages_fit_a_phone_screen(page) -> None:  # type: ignore[no-untyped-def]
    """Nothing sticks out sideways on a narrow screen: the navigation wraps, tables scroll."""
    page.set_viewport_size({"width": 375, "height": 812})
    sign_in(page, "carol")
    for path in ("/", "/changes", "/changes/new/hardware-receipt", "/items", "/changes/calendar"):
        page.goto(path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} is {overflow}px wider than the screen"
    page.goto("/")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    screenshot(page, "home-phone")
