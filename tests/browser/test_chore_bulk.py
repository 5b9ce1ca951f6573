"""Bulk status of a filtered selection in the browser: filter the register, tick the page, select
all items matching the filter, set the status, confirm; one change for the whole selection, with
its full step log, in a handful of clicks. The form posts the filter, never the keys."""

from __future__ import annotations

from urllib.parse import parse_qs

from tests.browser.conftest import screenshot
from tests.browser.test_sign_in import sign_in
from tests.register.test_bulk_services import fill, status_of
from usm.services import changes


def test_bulk_status_of_a_filtered_selection(page, live_app) -> None:  # type: ignore[no-untyped-def]  # noqa: E501
    db = live_app.extensions["usm_db"]
    fill(db, 60, status="in_stock", location="Store room")
    fill(db, 4, status="in_stock", location="Office")  # outside the filter
    sign_in(page, "carol")
    page.goto("/items")
    clicks = 0

    page.locator("#f-status").select_option("in_stock")
    page.locator("#f-location").fill("Store room")
    page.get_by_role("button", name="Apply filters").click()
    clicks += 1
    page.get_by_text("60 items match;").wait_for()
    assert page.locator("#bulk-actions").is_hidden()  # nothing selected yet: no action bar
    assert page.locator("#bulk-all-label").is_hidden()

    page.get_by_label("Select all on this page").check()
    clicks += 1
    assert page.get_by_text("50 selected on this page").is_visible()
    page.get_by_label("Select all 60 items matching this filter").check()
    clicks += 1
    page.get_by_label("Action", exact=True).select_option("status")
    page.get_by_label("New status").select_option("in_use")
    assert page.locator("#bulk-to-owner").is_hidden()  # only the input the action needs
    screenshot(page, "bulk-action-bar")
    with page.expect_request(lambda r: r.url.endswith("/items/bulk")) as sent:
        page.get_by_role("button", name="Continue").click()
        clicks += 1
    posted = parse_qs(sent.value.post_data or "")
    assert "keys" not in posted and posted["all"] == ["1"]  # the filter, never 60 keys
    assert parse_qs(posted["filter"][0]) == {"status": ["in_stock"], "location": ["Store room"]}

    summary = page.locator("#bulk-summary")
    assert summary.inner_text() == "Set the status of 60 items to in use: one standard change."
    screenshot(page, "bulk-confirm")
    page.get_by_role("button", name="Register the change").click()
    clicks += 1
    flash = page.locator(".flash.success")
    flash.wait_for()
    assert "registered for 60 items and carried through to Closed." in flash.inner_text()
    assert clicks == 5

    key = flash.get_by_role("link").inner_text()
    detail = changes.change_detail(db, key)
    assert len(detail.operations) == 60 and {op["op"] for op in detail.operations} == \
        {"set_status"}
    assert [row.to_step for row in detail.log] == [
        "registration", "assessment", "authorisation", "planning", "realisation",
        "implementation", "evaluation", "closed"]
    assert set(status_of(db, location="Store room").values()) == {"in_use"}
    assert set(status_of(db, location="Office").values()) == {"in_stock"}

    flash.get_by_role("link").click()  # the change, with its step log
    page.get_by_role("heading", level=1).filter(has_text=key).wait_for()
    screenshot(page, "bulk-change")
