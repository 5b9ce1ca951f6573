"""The licence report in the browser: after a discovery import, the free tools nobody holds an
entitlement of are listed apart, and one click registers the change that marks one as needing
no licence."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.browser.test_sign_in import sign_in
from tests.reports.test_licences_free_software import build_discovery


def test_a_coordinator_marks_git_as_open_source_from_the_licence_page(  # type: ignore[no-untyped-def]
        page, live_app) -> None:
    build_discovery(live_app.extensions["usm_db"])
    sign_in(page, "carol")
    page.goto("/reports/licences?as_of=2026-05-05")
    unlicensed = page.get_by_role("region", name="Installed without any entitlement")
    git = unlicensed.get_by_role("row").filter(has_text="Git")
    expect(git).to_contain_text("SWP-000001")
    expect(page.get_by_role("region", name="Needs no licence")).to_contain_text("Python")
    expect(git.get_by_label("Licensing of Git")).to_have_value("open_source")
    screenshot(page, "owner-report-licences-unlicensed")

    git.get_by_role("button", name="Mark as needing no licence").click()
    expect(page.get_by_text("Mark Git as needing no licence (open source)").first).to_be_visible()
    assert "/changes/CHG-" in page.url
