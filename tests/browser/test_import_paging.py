"""A reconciliation larger than one page, in the browser: counts, paging with the ticks kept, and
accepting a whole kind plus ticked rows as one audit-correction change."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.browser.conftest import screenshot
from tests.browser.test_sign_in import sign_in
from tests.support.helpers import at, implement_normal_change, laptop
from usm.services import changes


def test_page_through_a_reconciliation_and_accept_a_kind_and_ticked_rows(
        page, live_app, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]  # noqa: E501
    monkeypatch.setenv("USM_INSTANCE_PATH", str(tmp_path / "instance"))
    db = live_app.extensions["usm_db"]
    implement_normal_change(db, [laptop("a", "SN-B-1", owner="ann", status="in_use")],
                            at("2026-01-10"))
    found = tmp_path / "found.csv"
    found.write_text("class,name,serial_number,owner\nhardware.laptop,Laptop SN-B-1,SN-B-1,carl\n"
                     + "".join(f"hardware.laptop,Found {n},SN-F-{n:03},\n" for n in range(250)),
                     encoding="utf-8")
    sign_in(page, "carol")
    page.goto("/audit/import")
    page.get_by_label("File", exact=True).set_input_files(str(found))
    page.locator("#f-format").select_option("csv")
    page.get_by_label("Match on, in this order").fill("serial_number")
    page.get_by_role("button", name="Reconcile").click()

    counts = page.locator("#counts")
    assert counts.locator('td[data-kind="unregistered"]').inner_text() == "250"
    assert counts.locator('td[data-kind="drift"]').inner_text() == "1"
    section = page.locator("#s-unregistered")
    assert section.get_by_role("checkbox").count() == 100
    page.get_by_label("Found, not registered (250)").select_option("choose")
    section.get_by_role("checkbox", name=re.compile(r"^Accept: row 5: Found 2 ")).check()
    screenshot(page, "import-reconciliation-paged")
    section.get_by_role("button", name="Page 3").click()

    section = page.locator("#s-unregistered")
    section.get_by_text("Page 3 of 3; differences 201 to 250.").wait_for()
    assert page.get_by_label("Found, not registered (250)").input_value() == "choose"
    section.get_by_role("checkbox", name=re.compile(r"^Accept: row 252: Found 249 ")).check()
    section.get_by_role("button", name="« Previous").click()
    section = page.locator("#s-unregistered")
    section.get_by_text("Page 2 of 3; differences 101 to 200.").wait_for()
    page.get_by_role("button", name="Register the accepted differences as one change").first.click()

    heading = page.get_by_role("heading", level=1)
    heading.filter(has_text="Audit correction from found.csv").wait_for()
    key = re.search(r"CHG-\d+", heading.inner_text()).group(0)
    operations = changes.change_detail(db, key).operations
    assert [(o["op"], o.get("fields", {}).get("serial_number")) for o in operations] == [
        ("create_item", "SN-F-002"), ("create_item", "SN-F-249"), ("update_item", None)]
