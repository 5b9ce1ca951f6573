"""The search in the header, in the browser: from any page to an item in at most two clicks, an
exact key in one keystroke ("/"), the key and Enter, and the same without JavaScript."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.browser.test_sign_in import sign_in
from tests.search.test_services import HP, JOOST, build_search_register

# Every click of the mouse the page receives, counted in the page itself on each document it
# loads. Enter in a form also fires a click (on its submit button), with no mouse press: detail 0.
COUNT_CLICKS = """
document.addEventListener("click", (event) => { if (event.detail > 0) window.usmCountClick(); },
                          true);
"""


def count_clicks(page) -> list[int]:  # type: ignore[no-untyped-def]
    clicks = [0]

    def counted() -> None:
        clicks[0] += 1

    page.expose_function("usmCountClick", counted)
    page.add_init_script(COUNT_CLICKS)
    return clicks


def search_box(page):  # type: ignore[no-untyped-def]
    return page.get_by_role("searchbox", name="Search items, changes and people")


def test_from_the_header_to_an_item_in_two_clicks(page, live_app) -> None:  # type: ignore[no-untyped-def]
    build_search_register(live_app.extensions["usm_db"])
    clicks = count_clicks(page)
    sign_in(page, "sam")
    page.goto("/services")  # any page: the box is in the header of all of them
    clicks[0] = 0

    search_box(page).click()
    page.keyboard.type("Latitude")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Items")).to_be_visible()
    screenshot(page, "search-results")
    page.get_by_role("link", name=JOOST).click()

    expect(page).to_have_url(re.compile(rf"/items/{JOOST}$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(JOOST)
    expect(page.get_by_text("Latitude 7440").first).to_be_visible()
    assert clicks[0] <= 2, f"{clicks[0]} clicks from the header to the item"


def test_an_exact_key_from_the_keyboard_alone(page, live_app) -> None:  # type: ignore[no-untyped-def]
    build_search_register(live_app.extensions["usm_db"])
    clicks = count_clicks(page)
    sign_in(page, "sam")
    expect(page).to_have_url(re.compile(r"/$"))
    page.wait_for_load_state("load")  # the shortcut's script has run
    clicks[0] = 0

    page.keyboard.press("/")  # the shortcut puts the cursor in the search box
    expect(search_box(page)).to_be_focused()
    page.keyboard.type(HP.lower())
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(rf"/items/{HP}$"))
    assert clicks[0] == 0


def test_the_search_works_without_javascript(browser, live_app) -> None:  # type: ignore[no-untyped-def]
    build_search_register(live_app.extensions["usm_db"])
    context = browser.new_context(base_url=live_app.config["LIVE_URL"], java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, "carol")
        search_box(page).fill("dell")
        search_box(page).press("Enter")
        expect(page.get_by_role("heading", name="Changes")).to_be_visible()
        expect(page.get_by_role("link", name=JOOST)).to_be_visible()
        expect(page.get_by_role("link", name="CHG-000001")).to_be_visible()
    finally:
        context.close()
