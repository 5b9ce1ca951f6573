"""A physical audit in the browser: a coordinator starts a scan at a location, scans three labels
(a USB scanner types each and presses Enter; ``scan.js`` adds them without reloading the page),
sees found, unexpected and missing live, finishes and accepts: one audit-correction change, in
four clicks."""

from __future__ import annotations

import re

from tests.browser.conftest import screenshot
from tests.browser.test_sign_in import sign_in
from tests.support.helpers import at, implement_normal_change, laptop
from usm.services import changes

ROOM = "IT store room, floor 0"


def test_scan_three_labels_finish_and_accept_one_change(page, live_app, tmp_path,  # type: ignore[no-untyped-def]  # noqa: E501
                                                        monkeypatch) -> None:
    monkeypatch.setenv("USM_INSTANCE_PATH", str(tmp_path / "instance"))
    db = live_app.extensions["usm_db"]
    implement_normal_change(db, [
        laptop("a", "SN-R-1", location=ROOM, status="in_stock"),
        laptop("b", "SN-R-2", location=ROOM, status="in_stock"),
        laptop("c", "SN-R-3", location=ROOM, status="in_stock"),
        laptop("d", "SN-R-4", location="Amsterdam sales office", status="in_use")],
        at("2026-01-10"))
    base = live_app.config["LIVE_URL"]
    sign_in(page, "carol")
    clicks = 0

    page.get_by_role("link", name="Import").click()  # the scan audit starts beside the import
    page.get_by_role("link", name="Scan audit").click()
    clicks += 2
    page.get_by_label("Location").fill(ROOM)
    page.get_by_role("button", name="Start scanning").click()
    clicks += 1
    scan_url = page.url
    field = page.get_by_label("Key or serial number")
    counts = page.locator("#scan-counts")
    outcome = page.locator("#scan-outcome")
    # What a scanner types: a label's QR code (the item page's address), a serial number, and
    # the label of an item registered elsewhere; each followed by Enter.
    for value, expected, found in (
            (f"{base}/items/LAP-000001", "LAP-000001 Laptop SN-R-1: found", "1"),
            ("SN-R-2", "LAP-000002 Laptop SN-R-2: found", "2"),
            (f"{base}/items/LAP-000004", "LAP-000004 Laptop SN-R-4: unexpected, registered at "
                                         "Amsterdam sales office", "2")):
        field.fill(value)
        field.press("Enter")
        outcome.filter(has_text=expected).wait_for()
        counts.locator('td[data-kind="found"]').filter(has_text=found).wait_for()
    assert page.url == scan_url  # no page was loaded: the lists changed in place
    assert counts.locator('td[data-kind="unexpected"]').inner_text() == "1"
    assert counts.locator('td[data-kind="missing"]').inner_text() == "1"
    assert "LAP-000003" in page.locator("#s-missing").inner_text()
    screenshot(page, "scan-audit")

    page.get_by_role("button", name="Finish: reconcile with the register").click()
    clicks += 1
    assert page.get_by_role("heading", level=1).inner_text().startswith("Reconciliation")
    assert page.locator('#counts td[data-kind="drift"]').inner_text() == "1"
    assert page.locator('#counts td[data-kind="not_seen"]').inner_text() == "1"
    page.get_by_label("Registered, not seen (1)").select_option("all")  # retire LAP-000003
    page.get_by_role("button", name="Register the accepted differences as one change").first.click()
    clicks += 1

    heading = page.get_by_role("heading", level=1)
    heading.filter(has_text=f"Audit correction from scan at {ROOM}").wait_for()
    assert clicks == 5
    key = re.search(r"CHG-\d+", heading.inner_text()).group(0)
    log = page.locator("section[aria-labelledby='log-heading']")
    assert "carol" in log.inner_text() and "register" in log.inner_text()
    screenshot(page, "scan-audit-change")
    detail = changes.change_detail(db, key)
    assert [(o["op"], o["item"]) for o in detail.operations] == [
        ("update_item", "LAP-000004"), ("set_status", "LAP-000003")]
    assert detail.operations[0]["fields"] == {"location": ROOM}
