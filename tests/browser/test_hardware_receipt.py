"""The issue's scenario, as people do it in the browser: a coordinator registers the receipt of two
laptops, walks the change through every CHM step to implementation, and a service owner then
finds the laptops in the register, with what they cost, and sees the change in their history."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.browser.test_sign_in import sign_in

LAPTOPS = [
    {"ref": "lap1", "name": "Laptop service desk 1", "serial_number": "5CD4410AAA",
     "purchase_cost": "1249.50", "cpu": "Intel Core Ultra 7"},
    {"ref": "lap2", "name": "Laptop service desk 2", "serial_number": "5CD4410BBB",
     "purchase_cost": "1249.50", "cpu": "Intel Core Ultra 7"},
]


def _fill_laptop(page, row: int, laptop: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    prefix = f"create-{row}-"
    # Choosing the class re-renders the form with the laptop's own attributes.
    page.locator(f"select[name='{prefix}class']").select_option("hardware.laptop")
    page.locator(f"[name='{prefix}attributes.cpu']").wait_for()
    for field in ("ref", "name", "serial_number", "purchase_cost"):
        page.locator(f"[name='{prefix}{field}']").fill(laptop[field])
    page.locator(f"[name='{prefix}currency']").fill("EUR")
    page.locator(f"[name='{prefix}status']").select_option("in_stock")
    page.locator(f"[name='{prefix}attributes.cpu']").fill(laptop["cpu"])
    page.locator(f"[name='{prefix}attributes.keyboard_layout']").select_option("nl")


def _move(page, label: str, expected_step: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("button", name=label, exact=True).click()
    current = page.locator("ol.steps li.current")
    current.filter(has_text=expected_step).wait_for()


def _save_details(page, values: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    page.get_by_text("Edit the details").click()
    form = page.locator("details.edit-panel form")
    for name, value in values.items():
        field = form.locator(f"[name='{name}']")
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    form.get_by_role("button", name="Save details").click()
    page.get_by_text("saved", exact=False).first.wait_for()


def test_coordinator_receives_two_laptops_and_owner_finds_them(  # type: ignore[no-untyped-def]
        page, browser, live_app) -> None:
    page.on("dialog", lambda dialog: dialog.accept())  # "Implement ...? It is registered now."
    sign_in(page, "carol")
    page.get_by_role("link", name="Change queue", exact=True).click()
    screenshot(page, "change-queue-empty")
    page.goto("/changes/new")
    screenshot(page, "change-models")
    page.get_by_role("link", name="Hardware receipt").first.click()

    page.get_by_label("Title").fill("Two laptops for the service desk")
    page.get_by_label("Purchase order").fill("PO-2026-0815")
    _fill_laptop(page, 0, LAPTOPS[0])
    if page.locator("select[name='create-1-class']").count() == 0:
        page.get_by_role("button", name="More new-item rows").click()
    _fill_laptop(page, 1, LAPTOPS[1])
    # The form keeps what was typed in row one while row two was re-rendered.
    assert page.locator("[name='create-0-serial_number']").input_value() == "5CD4410AAA"
    screenshot(page, "change-new-hardware-receipt")
    page.get_by_role("button", name="Register change").click()

    heading = page.get_by_role("heading", level=1)
    heading.filter(has_text="Two laptops for the service desk").wait_for()
    key = re.search(r"CHG-\d+", heading.inner_text()).group(0)
    diff = page.locator("#change-set")
    expect(diff.get_by_text("5CD4410AAA")).to_be_visible()
    expect(diff.get_by_text("5CD4410BBB")).to_be_visible()

    _move(page, "Check delivery", "Assessment")
    _save_details(page, {"risk": "low", "fields.delivery_note": "DN-778812", "coordinator": "carol"})
    # The cost the model's limit weighs is what the change set registers (2 x 1,249.50 EUR);
    # the estimate is offered from it. Accepting the receipt runs authorisation by itself.
    expect(page.locator("dd", has_text="€2,499.00").first).to_be_visible()
    page.get_by_text("Edit the details").click()
    assert page.locator("details.edit-panel [name='cost_estimate']").input_value() == "2499.00"
    _move(page, "Accept delivery", "Planning")
    _move(page, "Start labelling", "Realisation")
    _move(page, "Register in stock", "Implementation")
    screenshot(page, "change-detail-implemented")
    progress = page.locator("ol.steps li")
    assert [c.split()[0] for c in progress.evaluate_all("els => els.map(e => e.className)")][:6] \
        == ["done"] * 5 + ["current"]
    log = page.locator("section", has=page.get_by_role("heading", name="Step log"))
    for action in ("Registered", "Check delivery", "Accept delivery", "Pre-authorised by the model",
                   "Start labelling", "Register in stock"):  # the model's labels, not its codes
        assert log.get_by_role("cell", name=action, exact=True).count() == 1, action
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, "sam")
    page.get_by_role("link", name="Register").first.click()
    page.get_by_role("searchbox", name="Search", exact=True).fill("service desk")
    page.get_by_role("button", name="Apply filters").click()
    results = page.locator("table.results tbody tr")
    results.first.wait_for()
    assert page.locator(".count").inner_text().startswith("2 items match")
    rows = [r.split("\t") for r in results.all_inner_texts()]
    assert sorted(r[1] for r in rows) == [LAPTOPS[0]["name"], LAPTOPS[1]["name"]]
    assert all(r[7] == "€1,249.50" for r in rows), [r[7] for r in rows]
    assert all(r[3] == "In stock" for r in rows), rows
    screenshot(page, "register-search")

    page.get_by_role("link", name=re.compile(r"^LAP-\d+$")).first.click()
    item = page.locator("main")
    serial = item.locator("dt", has_text="Serial number").locator("xpath=following-sibling::dd[1]")
    assert serial.inner_text() in {"5CD4410AAA", "5CD4410BBB"}
    purchase = item.locator("dt", has_text="Purchase cost").locator("xpath=following-sibling::dd[1]")
    assert "1,249.50" in purchase.inner_text()
    history = page.locator("ol.timeline li").first
    assert "Version 1" in history.inner_text()
    screenshot(page, "item-detail")
    history.get_by_role("link", name=key).click()
    page.get_by_role("heading", level=1).filter(has_text=key).wait_for()
    expect(page.get_by_text("Two laptops for the service desk").first).to_be_visible()
