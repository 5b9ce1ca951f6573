"""The Dutch interface in a real browser: chosen on the sign-in page or on the account page, it
shows Dutch navigation, CHM step names and money as the Dutch write it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.browser.test_sign_in import sign_in
from tests.conftest import PASSWORD
from tests.support.helpers import implement_normal_change, laptop


@pytest.fixture
def priced_laptop(live_app) -> None:  # type: ignore[no-untyped-def]
    implement_normal_change(live_app.extensions["usm_db"], [
        laptop("a", "SN-NL-1", name="Laptop voor de servicedesk", status="in_use",
               purchase_cost="1249.50", currency="EUR"),
    ], datetime.now(UTC) - timedelta(hours=1))


def test_switch_to_dutch_on_the_account_page(page, priced_laptop) -> None:  # type: ignore[no-untyped-def]  # noqa: E501
    sign_in(page, "sam")
    page.get_by_role("link", name="Sam").click()  # the account page, under the user's name
    page.get_by_label("Nederlands").check()
    page.get_by_role("button", name="Save language").click()

    expect(page.get_by_text("Uw taal is opgeslagen.")).to_be_visible()
    assert page.locator("html").get_attribute("lang") == "nl"
    navigation = page.get_by_role("navigation", name="Main")
    expect(navigation.get_by_role("link", name="Register", exact=True)).to_be_visible()
    expect(navigation.get_by_role("link", name="Rapporten")).to_be_visible()
    expect(page.get_by_role("button", name="Afmelden", exact=True)).to_be_visible()

    page.get_by_role("link", name="Register", exact=True).click()
    expect(page.get_by_role("heading", name="Register de beheerde infrastructuur doorzoeken")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="Laptop voor de servicedesk")
    # Babel's Dutch pattern puts a no-break space between the sign and the amount.
    expect(row.get_by_role("cell", name="€\u00a01.249,50")).to_be_visible()
    expect(row.get_by_text("In gebruik")).to_be_visible()
    screenshot(page, "register-dutch")

    page.reload()  # the choice is stored with the account, not only in this page
    expect(page.get_by_role("button", name="Afmelden", exact=True)).to_be_visible()


def test_the_sign_in_page_offers_dutch_before_signing_in(page) -> None:  # type: ignore[no-untyped-def]  # noqa: E501
    page.goto("/login")
    page.get_by_role("link", name="Nederlands").click()
    expect(page.get_by_role("heading", name="Aanmelden")).to_be_visible()
    page.get_by_label("Gebruikersnaam").fill("carol")
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Aanmelden").click()
    navigation = page.get_by_role("navigation", name="Main")
    expect(navigation.get_by_role("link", name="Wijzigingen", exact=True)).to_be_visible()
    page.get_by_role("link", name="Wijzigingen", exact=True).click()
    expect(page.get_by_role("link", name="Registratie")).to_be_visible()  # a CHM step, in Dutch
    expect(page.get_by_role("link", name="Autorisatie")).to_be_visible()
    screenshot(page, "change-queue-dutch")
