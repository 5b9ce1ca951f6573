"""Pickers in the browser: typing in an owner, location or cost-centre input fills its list with
the matching reference values (the lookup, debounced; no inline script under the strict CSP)."""

from __future__ import annotations

from tests.browser.conftest import screenshot
from tests.browser.test_sign_in import sign_in
from tests.support.helpers import reference_values

OPTIONS = "el => el.list ? [...el.list.options].map(o => [o.value, o.label]) : []"


def _options(page, selector: str, expected: list[list[str]]) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_function(
        "([selector, count]) => { const el = document.querySelector(selector);"
        " return el && el.list && el.list.options.length === count; }",
        arg=[selector, len(expected)])
    assert page.locator(selector).evaluate(OPTIONS) == expected


def test_the_search_filter_and_the_change_form_offer_reference_values_as_you_type(
        page, live_app) -> None:  # type: ignore[no-untyped-def]
    db = live_app.extensions["usm_db"]
    reference_values(db, "cost_centre", ("CC-100", "Finance"), ("CC-200", "Sales"))
    reference_values(db, "person", "Iris van Dijk", "Tom Bos")
    sign_in(page, "carol")

    page.goto("/items")
    page.locator("#f-cost-centre").fill("fin")
    _options(page, "#f-cost-centre", [["CC-100", "Finance (CC-100)"]])
    screenshot(page, "reference-picker-search")

    page.goto("/changes/new/normal-change")
    owner = "[name='create-0-owner']"
    page.locator(owner).fill("tom")
    _options(page, owner, [["Tom Bos", "Tom Bos"]])
    # A field-update row is a picker once its field is a reference field.
    page.locator("select[name='update-0-field']").select_option("cost_centre")
    page.locator("[name='update-0-value']").fill("sal")
    _options(page, "[name='update-0-value']", [["CC-200", "Sales (CC-200)"]])


def test_an_administrator_merges_a_typo_and_is_told_a_coordinator_takes_over(
        page, live_app) -> None:  # type: ignore[no-untyped-def]
    from tests.support.helpers import at, implement_normal_change, laptop

    db = live_app.extensions["usm_db"]
    reference_values(db, "cost_centre", ("CC-100", "Finance"), ("FIN-100", "FIN-100"))
    implement_normal_change(db, [laptop("a", "SN-B-1", cost_centre="FIN-100")], at("2026-03-02"))
    sign_in(page, "ada")
    page.get_by_role("link", name="Reference data").click()
    page.get_by_role("link", name="Cost centres").click()
    screenshot(page, "reference-cost-centres")
    page.get_by_role("link", name="FIN-100").first.click()
    page.get_by_label("Keep").fill("finance")
    _options(page, "#v-target", [["CC-100", "Finance (CC-100)"]])
    page.get_by_label("Keep").fill("CC-100")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Merge", exact=True).click()
    message = page.locator(".merge-result")
    message.get_by_text("a change coordinator takes it from here").wait_for()
    screenshot(page, "reference-merged")
    key = message.locator("strong").inner_text().split()[1].rstrip(";")
    assert key.startswith("CHG-")
    # The link is for the coordinators (an administrator alone does not see change pages).
    assert message.get_by_role("link", name=f"Open {key}").get_attribute("href") == \
        f"/changes/{key}"
