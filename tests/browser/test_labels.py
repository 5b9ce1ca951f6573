"""Asset labels in the browser: from an item's page to a PDF of labels in two clicks, whose QR
code a scanner reads as the item's page and whose text carries the key."""

from __future__ import annotations

from pathlib import Path

from tests.browser.conftest import screenshot
from tests.browser.test_sign_in import sign_in
from tests.support.helpers import at, implement_normal_change, laptop
from tests.support.pdf import page_count, page_texts, qr_codes


def test_print_an_items_label_on_a_partly_used_sheet(page, live_app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]  # noqa: E501
    db = live_app.extensions["usm_db"]
    implement_normal_change(db, [laptop("a", "5CD4410AAA", name="Service desk laptop 1",
                                        location="Store room")], at("2026-01-10"))
    sign_in(page, "sam")
    page.goto("/items/LAP-000001")
    clicks = 0

    page.get_by_role("button", name="Labels").click()
    clicks += 1
    page.get_by_text("1 label:").wait_for()
    page.get_by_label("Label sheet").select_option("avery-l7160")
    page.get_by_label("Start at label position").fill("8")  # the first free one on the sheet
    screenshot(page, "labels-form")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the labels (PDF)").click()
        clicks += 1
    assert clicks == 2
    assert download.value.suggested_filename == "labels-LAP-000001.pdf"
    pdf = Path(download.value.path()).read_bytes()

    assert page_count(pdf) == 1
    assert qr_codes(pdf) == [f"{live_app.config['LIVE_URL']}/items/LAP-000001"]
    text = page_texts(pdf)[0]
    assert "LAP-000001" in text and "Service desk laptop 1" in text and "S/N 5CD4410AAA" in text
    # The code opens the item's page (signed in, as anyone who scans it would be).
    page.goto(qr_codes(pdf)[0])
    assert page.get_by_role("heading", level=1).inner_text().startswith("LAP-000001")
