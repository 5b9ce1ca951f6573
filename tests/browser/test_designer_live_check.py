"""The editors' live check in the browser: a process designer types a broken transition into a
draft's YAML and sees the problem named next to the editor without saving, then fixes it and sees
that no problem is left; the item-class editor checks the same way."""

from __future__ import annotations

from tests.browser.conftest import screenshot
from tests.browser.test_sign_in import sign_in
from usm.services import change_models, item_classes

AUTHORISE = "    source: awaiting_approval\n    dest: planning"
BROKEN = "    source: awaiting_approval\n    dest: plannnig"


def test_a_broken_transition_is_named_while_typing_and_nothing_is_saved(  # type: ignore[no-untyped-def]
        page, live_app) -> None:
    db = live_app.extensions["usm_db"]
    sign_in(page, "pat")
    page.goto("/designer/definitions/normal-change/1")
    page.get_by_role("button", name="New draft from this version").click()
    page.get_by_text("Draft version 2 made from version 1").wait_for()
    editor = page.locator("#f-source")
    saved = change_models.version_source(db, "normal-change", 2)
    typed = editor.input_value()
    assert AUTHORISE in typed

    # The designer types the end of the destination letter by letter (with a typo).
    shortened = typed.replace(AUTHORISE, "    source: awaiting_approval\n    dest: plan", 1)
    editor.fill(shortened)
    caret = shortened.index("    source: awaiting_approval\n    dest: plan") + len(
        "    source: awaiting_approval\n    dest: plan")
    editor.evaluate("(area, at) => area.setSelectionRange(at, at)", caret)
    editor.press_sequentially("nnig", delay=40)
    check = page.locator("#live-check")
    check.get_by_text("transition 'authorise': unknown destination state 'plannnig'").wait_for()
    assert check.get_attribute("aria-live") == "polite"
    screenshot(page, "designer-live-check")
    assert page.url.endswith("/designer/definitions/normal-change/2/edit")
    assert change_models.version_source(db, "normal-change", 2) == saved  # nothing was saved
    assert BROKEN in editor.input_value()

    editor.fill(typed)
    check.get_by_text("No problems found").wait_for()
    assert "plannnig" not in check.inner_text()


def test_the_class_editor_names_a_bad_attribute_while_typing(  # type: ignore[no-untyped-def]
        page, live_app) -> None:
    db = live_app.extensions["usm_db"]
    sign_in(page, "pat")
    page.goto("/designer/classes/hardware.laptop/1")
    page.get_by_role("button", name="New draft from this version").click()
    page.get_by_text("Draft version 2 made from version 1").wait_for()
    editor = page.locator("#f-source")
    typed = editor.input_value()
    before = item_classes.class_version(db, "hardware.laptop", 2).spec

    editor.fill(typed.rstrip("\n") + "\n- {name: weight, type: float}\n")
    check = page.locator("#live-check")
    check.get_by_text("attribute 'weight': unknown type 'float'", exact=False).wait_for()
    assert item_classes.class_version(db, "hardware.laptop", 2).spec == before

    editor.fill(typed)
    check.get_by_text("No problems found").wait_for()
