"""Check-out and check-in in the browser, clicks counted: from the item page a coordinator checks a
laptop out to a person in two clicks (the button, then the form's submit) and back in with two,
and each chore leaves a change whose step log runs through every CHM step to Closed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.browser.conftest import screenshot
from tests.browser.test_sign_in import sign_in
from tests.support.helpers import at, implement_normal_change, laptop
from usm.services import changes, register

PERSON = "Iris van Dijk"  # a person of the demo data (usm/services/platform/demo.py)
STEPS = ["Registration", "Assessment", "Authorisation", "Planning", "Realisation",
         "Implementation", "Evaluation", "Closed"]


class Clicks:
    """Every click the test makes, through a page or a locator."""

    def __init__(self) -> None:
        self.count = 0


@pytest.fixture
def clicks(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clicks]:
    from playwright.sync_api import Locator, Page

    counter = Clicks()
    for cls in (Locator, Page):
        original = cls.click

        def counted(self, *args, __original=original, **kwargs):  # type: ignore[no-untyped-def]
            counter.count += 1
            return __original(self, *args, **kwargs)

        monkeypatch.setattr(cls, "click", counted)
    yield counter


def step_log(page) -> list[str]:  # type: ignore[no-untyped-def]
    """The step each row of the change page's step log moved to, in order."""
    rows = page.locator("section[aria-labelledby='log-heading'] tbody tr")
    return [re.search(r"\(([^)]+)\)$", rows.nth(n).locator("td").nth(4).inner_text().strip())
            .group(1) for n in range(rows.count())]


def test_check_out_and_in_from_the_item_page_in_few_clicks(page, live_app, clicks  # type: ignore[no-untyped-def]  # noqa: E501
                                                           ) -> None:
    db = live_app.extensions["usm_db"]
    implement_normal_change(db, [laptop("a", "SN-B-1", status="in_stock",
                                        location="IT store room, floor 0")], at("2026-01-10"))
    sign_in(page, "carol")
    page.goto("/items/LAP-000001")
    clicks.count = 0

    # Check-out: the item page's button, the person, the form's one submit.
    page.get_by_role("button", name="Check out").click()
    page.get_by_label("Person").fill(PERSON)
    due = (datetime.now(UTC).date() + timedelta(days=7)).isoformat()
    page.get_by_label("Expected return (optional)").fill(due)
    screenshot(page, "checkout-form")
    page.get_by_role("button", name="Check out").click()
    page.wait_for_url("**/items/LAP-000001")
    assert clicks.count <= 3, f"check-out took {clicks.count} clicks"
    flash = page.locator(".flash.success")
    assert f"Checked out LAP-000001 to {PERSON}." in flash.inner_text()
    assert "ran through every step and is closed" in flash.inner_text()
    assert PERSON in page.locator("#checkout-state").inner_text()
    screenshot(page, "checkout-done")
    view = register.item_view(db, "LAP-000001").core
    assert (view["owner"], view["status"]) == (PERSON, "in_use")

    # The change behind it: its step log runs through every step to Closed.
    key = re.search(r"CHG-\d+", flash.inner_text()).group(0)
    flash.get_by_role("link", name=key).click()
    page.wait_for_url(f"**/changes/{key}")
    assert step_log(page) == STEPS
    assert [row.to_step for row in changes.change_detail(db, key).log][-1] == "closed"

    # Check-in: the item page's button and the confirmation's one submit.
    page.goto("/items/LAP-000001")
    clicks.count = 0
    page.get_by_role("button", name="Check in").click()
    page.get_by_label("Put back at (optional)").fill("Service desk")
    page.get_by_role("button", name="Check in").click()
    page.wait_for_url("**/items/LAP-000001")
    assert clicks.count <= 3, f"check-in took {clicks.count} clicks"
    flash = page.locator(".flash.success")
    assert "Checked in LAP-000001." in flash.inner_text()
    assert page.locator("#checkout-state").inner_text() == "Not checked out."
    screenshot(page, "checkin-done")
    back = re.search(r"CHG-\d+", flash.inner_text()).group(0)
    assert back != key
    view = register.item_view(db, "LAP-000001").core
    assert (view["owner"], view["status"], view["location"]) == (None, "in_stock",
                                                                  "Service desk")
    flash.get_by_role("link", name=back).click()
    page.wait_for_url(f"**/changes/{back}")
    assert step_log(page) == STEPS
