"""Each role's main screens on the demo register, in the browser: they render with their data, the
navigation fits the role, and a screenshot of each is kept under test-artifacts/screenshots/."""

from __future__ import annotations

import pytest

from tests.browser.conftest import screenshot
from tests.browser.test_sign_in import sign_in
from usm.services.platform import load_demo

# user -> (path, screenshot name, text the page must show)
SCREENS = {
    "carol": [
        ("/", "coordinator-dashboard", "Open changes per step"),
        ("/changes", "coordinator-queue", "Upgrade core switch firmware to 17.12"),
        ("/changes/calendar", "coordinator-calendar", "Change calendar"),
        ("/changes/CHG-000019", "coordinator-change-detail", "Awaiting approval"),
    ],
    "sam": [
        ("/", "owner-dashboard", "Book value by class (EUR)"),
        ("/reports/finance", "owner-report-finance", "Book value at"),
        ("/reports/licences", "owner-report-licences", "Windows Server Datacenter"),
        ("/reports/lifecycle", "owner-report-lifecycle", "Warranty"),
        ("/reports/spares", "owner-report-spares", "Poisson"),
        ("/items", "owner-register-search", "items in the register"),
        ("/items/LAP-000003", "owner-item-detail", "History"),
        ("/services", "owner-services", "SVC-000001"),
        ("/services/SVC-000001", "owner-service-view", "SVC-000001"),
    ],
    "pat": [
        ("/designer/definitions", "designer-definitions", "hardware-receipt"),
        ("/designer/definitions/hardware-receipt/1", "designer-definition", "Register in stock"),
        ("/designer/classes", "designer-classes", "hardware.laptop"),
        ("/designer/classes/hardware.laptop/1/edit", "designer-class-edit", "Keyboard layout"),
    ],
    "ada": [
        ("/admin/users", "admin-users", "carol"),
    ],
}
NAVIGATION = {
    "carol": {"Change queue", "New change", "Calendar", "Register", "Services", "Check-outs",
              "Reports", "Import"},
    "sam": {"Change queue", "Calendar", "Register", "Services", "Check-outs", "Reports"},
    "pat": {"Register", "Services", "Change models", "Item classes"},
    "ada": {"Users", "Reference data", "Audit log"},
}


@pytest.fixture
def demo_app(live_app):  # type: ignore[no-untyped-def]
    load_demo(live_app.extensions["usm_db"])
    return live_app


@pytest.mark.parametrize("username", sorted(SCREENS))
def test_main_screens(page, demo_app, username: str) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, username)
    links = page.locator("header.site nav ul:not(.user) a:not(.brand)").all_inner_texts()
    assert set(links) == NAVIGATION[username]
    for path, name, expected in SCREENS[username]:
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        shown = page.get_by_text(expected).filter(visible=True)
        assert shown.count() > 0, f"{path} does not show {expected!r}"
        screenshot(page, name)
