"""The issue's scenario in the browser: a process designer makes a draft of the normal-change model,
makes its authorisation need two approvals in the form, sees the diagram change, dry-runs the draft
(the guard blocks with one approval), publishes it, and a change registered afterwards uses it."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.browser.test_sign_in import sign_in
from tests.support.helpers import laptop
from usm.services import changes


def test_designer_adds_an_approval_guard_dry_runs_and_publishes_it(  # type: ignore[no-untyped-def]
        page, browser, live_app) -> None:
    sign_in(page, "pat")
    page.get_by_role("link", name="Change models").first.click()
    page.get_by_role("link", name="Normal change").first.click()
    page.get_by_role("button", name="New draft from this version").click()
    page.get_by_text("Draft version 2 made from version 1").wait_for()
    diagram = page.locator("#diagram")
    assert "1 approval" in diagram.inner_text() and "2 approvals" not in diagram.inner_text()

    authorise = page.locator("details#t-authorise")
    authorise.locator("summary").click()
    authorise.get_by_label("Approvals needed").fill("2")
    authorise.get_by_role("button", name="Save transition").click()
    page.get_by_text("Saved draft version 2").wait_for()
    assert "2 approvals" in page.locator("#diagram").inner_text()
    assert "approvals: {count: 2}" in page.locator("#f-source").input_value()
    screenshot(page, "designer-editor")

    page.get_by_role("button", name="Compare with published").click()
    assert "transition 'authorise' changed" in page.locator("ul.diff-changes").inner_text()
    page.go_back()

    page.get_by_role("button", name="Dry run").click()
    page.get_by_label("Risk").select_option("low")
    page.get_by_label("impact").check()
    page.get_by_label("Approvals given").fill("1")
    page.get_by_role("button", name="Start assessment").click()
    page.locator("#dry-state").filter(has_text="In assessment").wait_for()
    page.get_by_role("button", name="Submit for approval").click()
    page.locator("#dry-state").filter(has_text="Awaiting approval").wait_for()
    # Authorisation is automatic: it waits for the approvals and says which are missing.
    waiting = page.locator("#waiting-authorise")
    expect(waiting).to_contain_text("2 approvals: blocks")
    expect(waiting).to_contain_text("needs 2 approval(s), has 1")
    screenshot(page, "designer-dry-run")
    page.get_by_label("Approvals given").fill("2")
    page.get_by_role("button", name="Apply to this walk").click()
    page.locator("#dry-state").filter(has_text="Planning").wait_for()

    page.goto("/designer/definitions/normal-change/2/edit")
    # Publishing cannot be undone, so it asks first: a "no" publishes nothing.
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.locator(".badge.status-draft").first).to_be_visible()
    questions: list[str] = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    page.get_by_role("button", name="Publish", exact=True).click()
    page.get_by_text("Version 2 is published").wait_for()
    assert questions == ["Publish version 2 of Normal change? New changes start on it from now "
                         "on, and it never changes again."]
    expect(page.get_by_role("button", name="New draft from this version")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()

    db = live_app.extensions["usm_db"]
    key = changes.register_change(db, "carol", model="normal-change", title="Two approvals",
                                  operations=[laptop("a", "SN-TWO-1")]).key
    changes.move_change(db, key, "assess", "carol")
    changes.update_change(db, key, "carol", {"risk": "low", "impact": "one user"})
    changes.move_change(db, key, "submit_for_approval", "carol")
    changes.approve_change(db, key, "sam")

    sign_in(page, "carol")
    page.goto(f"/changes/{key}")
    assert "normal-change v2" in page.locator("p.meta").first.inner_text()
    expect(page.locator("p.waiting")).to_contain_text("Waiting for 1 more approval from "
                                                      "Service owner")
    screenshot(page, "change-on-new-model-version")


def test_designer_adds_a_state_with_the_form(page, live_app) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, "pat")
    page.goto("/designer/definitions/normal-change/1")
    page.get_by_role("button", name="New draft from this version").click()
    page.get_by_text("Draft version 2 made from version 1").wait_for()
    new_state = page.locator("fieldset.new-state")
    new_state.get_by_label("Label").fill("Quality check")
    new_state.get_by_label("Step").select_option("realisation")
    # A first try without where it is reached from is refused, and keeps what was typed.
    page.get_by_role("button", name="Save states").click()
    expect(page.locator("#problems")).to_contain_text("choose the states it is reached from")
    expect(new_state.get_by_label("Label")).to_have_value("Quality check")
    new_state.get_by_label("Reached from").select_option("building")
    new_state.get_by_label("Then to").select_option("implemented")
    new_state.get_by_label("Change coordinator").check()
    page.get_by_role("button", name="Save states").click()
    page.get_by_text("Saved draft version 2").wait_for()
    expect(page.locator("#diagram")).to_contain_text("Quality check")
    source = page.locator("#f-source").input_value()
    assert "{name: quality_check, step: realisation, label: Quality check}" in source
    assert source.startswith("# Normal change")
    screenshot(page, "designer-new-state")
