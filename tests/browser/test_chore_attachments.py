"""Attachment upload and download in the browser: a coordinator attaches an invoice PDF on an
item's page (choose the file, one click), the page names the change that did it, a download
gives the same bytes, the history lists the file under that change, and the change's step log
holds every CHM step."""

from __future__ import annotations

from pathlib import Path

from tests.attachments import files
from tests.browser.conftest import screenshot
from tests.browser.test_sign_in import sign_in
from tests.support.helpers import at, implement_normal_change, laptop

STEPS = ["Registration", "Assessment", "Authorisation", "Planning", "Realisation",
         "Implementation", "Evaluation", "Closed"]


def test_attachment_upload_and_download(page, live_app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]  # noqa: E501
    db = live_app.extensions["usm_db"]
    implement_normal_change(db, [laptop("a", "5CD4410ATT", name="Service desk laptop 1")],
                            at("2026-01-10"))
    invoice = tmp_path / "invoice-2026-114.pdf"
    invoice.write_bytes(files.pdf("Invoice 2026-114"))
    sign_in(page, "carol")
    page.goto("/items/LAP-000001")
    panel = page.locator("#attachments")
    assert "No files are attached to this item." in panel.inner_text()
    clicks = 0

    page.get_by_label("File", exact=True).set_input_files(str(invoice))
    clicks += 1  # the file chooser
    page.get_by_label("Title (optional)").fill("Invoice 2026-114")
    page.get_by_role("button", name="Attach", exact=True).click()
    clicks += 1
    status = page.locator(".flash.success")
    status.wait_for()
    assert "invoice-2026-114.pdf is attached: change CHG-000002 was carried through all its " \
           "steps." in status.inner_text()
    assert clicks == 2
    screenshot(page, "attachments-item")

    row = panel.get_by_role("row").filter(has_text="invoice-2026-114.pdf")
    assert "Invoice 2026-114" in row.inner_text() and "PDF" in row.inner_text()
    with page.expect_download() as download:
        row.get_by_role("link", name="invoice-2026-114.pdf").click()
    assert download.value.suggested_filename == "invoice-2026-114.pdf"
    assert Path(download.value.path()).read_bytes() == invoice.read_bytes()

    timeline = page.locator(".timeline li").first
    assert "CHG-000002" in timeline.inner_text()
    assert "invoice-2026-114.pdf" in timeline.inner_text()

    row.get_by_role("link", name="CHG-000002").click()
    page.get_by_role("heading", name="Step log").wait_for()
    rows = page.locator("table.step-log tbody tr")
    steps = [rows.nth(i).locator("td").nth(4).locator("small").inner_text()
             for i in range(rows.count())]
    assert steps == [f"({step})" for step in STEPS]  # every CHM step, in order
    assert "1 attachment(s) added" in page.locator("table.step-log").inner_text()
    screenshot(page, "attachments-change-log")
