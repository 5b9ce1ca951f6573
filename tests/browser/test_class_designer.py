"""A process designer edits an item class in the browser: a new draft, a row added and one removed
in the form, the comparison, publish; the register then shows the removed attribute's value as no
longer in the class."""

from __future__ import annotations

from tests.browser.conftest import screenshot
from tests.browser.test_sign_in import sign_in
from tests.support.helpers import at, implement_normal_change, laptop


def test_designer_adds_and_removes_an_attribute_and_publishes(  # type: ignore[no-untyped-def]
        page, browser, live_app) -> None:
    implement_normal_change(live_app.extensions["usm_db"], [
        laptop("a", "SN-B-1", attributes={"keyboard_layout": "nl"})], at("2026-03-02"))
    sign_in(page, "pat")
    page.get_by_role("link", name="Item classes").first.click()
    page.get_by_role("link", name="Laptop").first.click()
    page.get_by_role("button", name="New draft from this version").click()
    page.get_by_text("Draft version 2 made from version 1").wait_for()

    page.get_by_label("Remove attribute 4").check()
    page.get_by_label("Name of attribute 5").fill("dock")
    page.get_by_label("Type of attribute 5").select_option("boolean")
    page.get_by_role("button", name="Save draft").first.click()
    page.get_by_text("Saved draft version 2").wait_for()
    assert "name: dock" in page.locator("#f-source").input_value()
    screenshot(page, "designer-class-editor")

    page.get_by_role("button", name="Compare with published").click()
    changes = page.locator("ul.diff-changes").inner_text()
    assert "attribute 'dock' added" in changes
    assert "attribute 'keyboard_layout' removed (1 item(s) keep their value" in changes
    page.go_back()
    page.once("dialog", lambda dialog: dialog.accept())  # publishing asks first
    page.get_by_role("button", name="Publish", exact=True).click()
    page.get_by_text("Version 2 is published").wait_for()

    page.goto("/items/LAP-000001")
    page.get_by_text("Keyboard layout (no longer in the class)").first.wait_for()
