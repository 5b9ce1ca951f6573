"""My work in Chromium: an approver signs in, the header's badge says one thing waits, the home
page lists the change awaiting their approval, a click opens it, and once they approve the badge
is gone. The header stays on one line at 1366 px with the badge in it."""

from __future__ import annotations

from datetime import timedelta

from bir.base import utcnow
from tests.browser.conftest import screenshot
from tests.browser.test_sign_in import sign_in
from tests.support.helpers import laptop
from usm.services import changes


def _header_on_one_line(page) -> None:  # type: ignore[no-untyped-def]
    nav = page.locator("header.site nav > ul").first.bounding_box()
    user = page.locator("header.site nav > ul.user").bounding_box()
    assert nav and user
    assert abs(user["y"] - nav["y"]) < nav["height"], "the header wrapped onto a second line"


def test_an_approver_sees_what_waits_and_clicks_through_to_it(page, live_app) -> None:  # type: ignore[no-untyped-def]  # noqa: E501
    db = live_app.extensions["usm_db"]
    key = changes.register_change(db, "carol", model="normal-change",
                                  title="Replace the core switch", coordinator="carol",
                                  operations=[laptop("a", "SN-BROWSER-1")]).key
    changes.move_change(db, key, "assess", "carol")
    changes.update_change(db, key, "carol", {"risk": "low", "impact": "none"})
    changes.move_change(db, key, "submit_for_approval", "carol")

    sign_in(page, "sam")
    page.goto("/items")  # any page: the badge is in the header
    badge = page.get_by_role("link", name="1 thing waits for you")
    assert badge.inner_text() == "1"
    _header_on_one_line(page)
    screenshot(page, "my-work-badge")

    badge.click()
    page.wait_for_url("**/#my-work")
    approvals = page.locator("#awaiting-approval")
    assert approvals.get_by_role("heading").inner_text().startswith("Awaiting your approval")
    screenshot(page, "my-work-owner")
    approvals.get_by_role("link", name=key).click()
    page.wait_for_url(f"**/changes/{key}")
    assert page.get_by_role("heading", name="Replace the core switch").count() > 0

    page.get_by_role("button", name="Approve").first.click()
    page.wait_for_load_state()
    page.goto("/")
    assert page.locator("a.waiting-badge").count() == 0
    assert page.get_by_text("Nothing waits for you.").is_visible()


def test_a_coordinators_header_fits_with_the_badge(page, live_app) -> None:  # type: ignore[no-untyped-def]  # noqa: E501
    db = live_app.extensions["usm_db"]
    for n in range(12):
        changes.register_change(db, "carol", model="normal-change", title=f"Late change {n}",
                                coordinator="carol", operations=[laptop("a", f"SN-LATE-{n}")],
                                now=utcnow() - timedelta(days=3))
    sign_in(page, "carol")
    page.goto("/")
    assert page.get_by_role("link", name="12 things wait for you").inner_text() == "12"
    _header_on_one_line(page)
    overdue = page.locator("#my-overdue")
    assert overdue.locator("tbody tr").count() == 10
    assert overdue.get_by_role("link", name="See all 12 in the change queue").is_visible()
    screenshot(page, "my-work-coordinator")
    overdue.get_by_role("link", name="See all 12 in the change queue").click()
    page.wait_for_url("**/changes?mine=1&overdue=1")
    assert page.get_by_text("12 changes match").is_visible()
