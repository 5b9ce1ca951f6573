"""Receipt of 3 laptops with copied rows (issue 23, point 8): in Chromium a coordinator registers
three identical laptops by filling in one row, copying it and pasting the other serial numbers,
then runs the receipt through every CHM step to closed. The test counts what is typed (each
value typed or chosen) and the clicks: today's form took about 55 values for this.

Along the way: the forward move is the main button, a blocked move's reason leads to the field
that fixes it, the step log reads in labels, and the change page, its step log and a chart page
fit both a 1366 px and a 375 px screen without sideways scrolling (screenshots in
``test-artifacts/screenshots``)."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.browser.test_sign_in import sign_in
from usm.services import changes
from usm.services.platform import load_demo
from usm.services.register import ItemFilter, list_items

MAX_TYPED = 25
SERIALS = ["5CD5120AAA", "5CD5120AAB", "5CD5120AAC"]
# Chart text as shown: its font size scaled by how wide the drawing is shown.
CHART_TEXT_PX = """() => [...document.querySelectorAll('svg.chart-svg')]
  .filter(svg => svg.getBoundingClientRect().width > 0)
  .map(svg => Number(svg.getAttribute('font-size')) * svg.getBoundingClientRect().width
              / svg.viewBox.baseVal.width)"""


class Hands:
    """What a person does on the page, counted: values typed or chosen, and clicks."""

    def __init__(self, page) -> None:  # type: ignore[no-untyped-def]
        self.page, self.typed, self.clicks = page, 0, 0

    def fill(self, locator, value: str, values: int = 1) -> None:  # type: ignore[no-untyped-def]
        locator.fill(value)
        self.typed += values

    def choose(self, locator, value: str) -> None:  # type: ignore[no-untyped-def]
        locator.select_option(value)
        self.typed += 1

    def click(self, locator) -> None:  # type: ignore[no-untyped-def]
        locator.click()
        self.clicks += 1


def _fits(page) -> None:  # type: ignore[no-untyped-def]
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"{page.url} is {width[0]} px wide on a {width[1]} px screen"


def _move(hands: Hands, label: str, step: str | None) -> None:
    button = hands.page.locator(".move-buttons").get_by_role("button", name=label, exact=True)
    assert "forward" in (button.get_attribute("class") or "")  # the main action
    hands.click(button)
    if step:
        hands.page.locator("ol.steps li.current").filter(has_text=step).wait_for()


def test_receipt_of_3_laptops_with_copied_rows(page, live_app) -> None:  # type: ignore[no-untyped-def]  # noqa: E501
    db = live_app.extensions["usm_db"]
    load_demo(db)  # its people, locations, cost centres, and figures for the charts
    page.on("dialog", lambda dialog: dialog.accept())  # "Implement ...? It is registered now."
    sign_in(page, "carol")
    hands = Hands(page)
    page.goto("/changes/new")
    hands.click(page.get_by_role("link", name="Hardware receipt").first)

    form = page.locator("form.change-form")
    hands.fill(form.get_by_label("Title"), "Three laptops for the service desk")
    hands.fill(form.get_by_label("Purchase order"), "PO-2026-1201")
    hands.fill(form.get_by_label("Delivery note"), "CP-DN-26-1244")
    hands.choose(form.get_by_label("Risk"), "low")
    # The model offers status in stock and the register's currency before anything is typed.
    assert page.locator("[name='create-0-status']").input_value() == "in_stock"
    assert page.locator("[name='create-0-currency']").input_value() == "EUR"
    # Choosing the class re-renders the row with the laptop's attributes and depreciation.
    hands.choose(page.locator("select[name='create-0-class']"), "hardware.laptop")
    page.locator("[name='create-0-attributes.cpu']").wait_for()
    assert page.locator("[name='create-0-depreciation_months']").input_value() == "36"
    row = page.locator("#row-create-0")
    for name, value in (("name", "Service desk laptop"), ("manufacturer", "HP"),
                        ("model", "EliteBook 840 G11"), ("purchase_cost", "1249.50"),
                        ("supplier", "Centralpoint B.V."), ("location", "IT store room, floor 0"),
                        ("cost_centre", "CC-300"), ("serial_number", SERIALS[0])):
        hands.fill(row.locator(f"[name='create-0-{name}']"), value)

    # Copy the row: everything but the serial number comes along.
    hands.click(row.get_by_role("button", name="Copy this row"))
    second = page.locator("#row-create-1")
    assert second.locator("[name='create-1-manufacturer']").input_value() == "HP"
    assert second.locator("[name='create-1-serial_number']").input_value() == ""
    # ... and on the copy, paste the other two serials: the copy takes the first, a row the next.
    hands.click(second.get_by_text("Add N like this"))
    hands.fill(second.get_by_label("Serial numbers"), "\n".join(SERIALS[1:]), values=2)
    hands.click(second.get_by_role("button", name="Add a row per serial"))

    serials = [page.locator(f"[name='create-{i}-serial_number']").input_value() for i in range(3)]
    assert serials == SERIALS
    assert [page.locator(f"[name='create-{i}-location']").input_value() for i in range(3)] == [
        "IT store room, floor 0"] * 3
    # The rows are numbered in the order they stand, as the server reads them.
    names = page.locator("#rows-create > fieldset.row-card select[name$='-class']")
    assert names.evaluate_all("els => els.map(e => e.name)")[:3] == [
        f"create-{i}-class" for i in range(3)]
    assert page.locator("input[name='create_rows']").input_value() == str(names.count())
    screenshot(page, "chore-receipt-form")
    hands.click(page.get_by_role("button", name="Register change"))

    heading = page.get_by_role("heading", level=1)
    heading.filter(has_text="Three laptops for the service desk").wait_for()
    key = re.search(r"CHG-\d+", heading.inner_text()).group(0)
    for serial in SERIALS:
        expect(page.locator("#change-set").get_by_text(serial)).to_be_visible()

    _move(hands, "Check delivery", "Assessment")
    _move(hands, "Accept delivery", "Planning")  # authorisation passes by itself
    _move(hands, "Start labelling", "Realisation")
    _move(hands, "Register in stock", "Implementation")
    _move(hands, "Verify stock", "Evaluation")
    # Closing waits for the outcome: the reason leads to the field, in the details form.
    blocked = page.locator("ul.blocked li").filter(has_text="Close")
    expect(blocked).to_contain_text("record the outcome of the evaluation first")
    screenshot(page, "chore-receipt-next-steps")
    hands.click(blocked.get_by_role("link", name="Outcome"))
    outcome = page.locator("details.edit-panel [name='outcome']")
    expect(outcome).to_be_focused()
    hands.choose(outcome, "successful")
    hands.click(page.get_by_role("button", name="Save details"))
    page.get_by_text("details saved").wait_for()
    _move(hands, "Close", None)
    expect(page.locator("p.outcome-closed")).to_be_visible()

    assert hands.typed <= MAX_TYPED, f"{hands.typed} values typed"
    assert hands.typed == 16 and hands.clicks == 13, (hands.typed, hands.clicks)

    # The full step log, in the model's labels.
    log = page.locator("section[aria-labelledby='log-heading'] tbody tr")
    assert log.locator("td.action").all_inner_texts() == [
        "Registered", "Check delivery", "Accept delivery", "Pre-authorised by the model",
        "Start labelling", "Register in stock", "Verify stock", "Close"]
    detail = changes.change_detail(db, key)
    assert [e.to_step for e in detail.log] == [
        "registration", "assessment", "authorisation", "planning", "realisation",
        "implementation", "evaluation", "closed"]
    for serial in SERIALS:  # three items in the register, in stock where they were put
        items, total = list_items(db, ItemFilter(text=serial))
        assert total == 1 and (items[0].status, items[0].location, items[0].cost_centre) == (
            "in_stock", "IT store room, floor 0", "CC-300"), serial

    for width in (1366, 375):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"/changes/{key}")
        _fits(page)
        screenshot(page, f"chore-receipt-change-{width}")
        section = page.locator("section[aria-labelledby='log-heading']")
        section.scroll_into_view_if_needed()
        section.screenshot(path=str(_artifact(f"chore-receipt-step-log-{width}")))
        if width == 1366:  # the log fits its box without a scroll bar
            assert section.locator(".table-scroll").evaluate(
                "e => e.scrollWidth <= e.clientWidth")
        for path in ("/", "/reports/lifecycle"):
            page.goto(path)
            _fits(page)
            sizes = page.evaluate(CHART_TEXT_PX)
            assert sizes and min(sizes) >= 10.5, (path, width, sizes)
            screenshot(page, f"chore-receipt-charts-{path.strip('/').replace('/', '-') or 'home'}"
                             f"-{width}")


def _artifact(name: str):  # type: ignore[no-untyped-def]
    from tests.browser.conftest import ARTIFACTS

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / f"{name}.png"
