"""Asset labels at the service layer: the layout on each sheet (labels per page, the first
position of a partly used sheet, the limit), the PDF as a scanner and a reader see it, and which
items a key list or a register search labels."""

from __future__ import annotations

import pytest

from tests.support.helpers import at, implement_normal_change, laptop
from tests.support.pdf import page_count, page_texts, qr_codes
from usm.services import labels, register
from usm.services.errors import Invalid, NotFound
from usm.services.platform import Database

ADDRESS = "https://usm.example.org/items/{}".format


def _labels(count: int) -> list[labels.ItemLabel]:
    return [labels.ItemLabel(f"LAP-{n:06}", f"Laptop {n}", f"SN-{n}") for n in range(1, count + 1)]


def test_a_sheet_fills_page_by_page_from_the_first_free_position() -> None:
    sheet = labels.SHEETS["avery-l7160"]
    assert sheet.per_page == 21
    pages = labels.label_pages(sheet, 50, first=5)
    assert [len(p) for p in pages] == [17, 21, 12]
    assert pages[0] == list(range(5, 22))
    assert pages[1] == list(range(1, 22)) and pages[2] == list(range(1, 13))
    assert labels.label_pages(sheet, 21) == [list(range(1, 22))]
    roll = labels.SHEETS["brother-dk-11209"]
    assert labels.label_pages(roll, 3) == [[1], [1], [1]]


@pytest.mark.parametrize("code", sorted(labels.SHEETS))
def test_every_sheet_keeps_its_labels_on_the_page_and_apart(code: str) -> None:
    sheet = labels.SHEETS[code]
    corners = [sheet.corner(p) for p in range(1, sheet.per_page + 1)]
    for left, top in corners:
        assert 0 <= left and left + sheet.label_width <= sheet.page_width + 0.01
        assert 0 <= top and top + sheet.label_height <= sheet.page_height + 0.01
    assert sheet.pitch_x >= sheet.label_width and sheet.pitch_y >= sheet.label_height
    assert corners[0] == (sheet.left, sheet.top)
    assert corners[-1][0] == pytest.approx(sheet.left + (sheet.columns - 1) * sheet.pitch_x)


def test_positions_counts_and_sheets_outside_the_rules_are_refused() -> None:
    sheet = labels.SHEETS["avery-5160"]
    with pytest.raises(Invalid, match="from 1 to 30"):
        labels.label_pages(sheet, 3, first=31)
    with pytest.raises(Invalid, match="from 1 to 30"):
        labels.label_pages(sheet, 3, first=0)
    with pytest.raises(Invalid, match="no items"):
        labels.label_pages(sheet, 0)
    with pytest.raises(labels.TooManyLabels, match=r"1,001 labels asked for; at most 1,000"):
        labels.label_pages(sheet, labels.MAX_LABELS + 1)
    assert len(labels.label_pages(sheet, labels.MAX_LABELS)) == 34
    with pytest.raises(Invalid, match="no label sheet 'a4-99'"):
        labels.label_sheet("a4-99")
    assert labels.label_sheet(None).code == labels.DEFAULT_SHEET


def test_the_pdf_holds_a_readable_qr_code_of_each_item_page_and_the_key_in_text() -> None:
    items = _labels(23)
    pdf = labels.labels_pdf(items, labels.SHEETS["avery-l7160"], ADDRESS, first=20)
    assert pdf.startswith(b"%PDF-")
    assert page_count(pdf) == 2  # positions 20 and 21, then 21 on the next sheet
    assert qr_codes(pdf, 0) == [ADDRESS("LAP-000001"), ADDRESS("LAP-000002")]
    assert qr_codes(pdf, 1) == [ADDRESS(i.key) for i in items[2:]]
    first, second = page_texts(pdf)
    assert "LAP-000001" in first and "Laptop 1" in first and "S/N SN-1" in first
    assert "LAP-000023" in second and "LAP-000001" not in second


@pytest.mark.parametrize("code", sorted(labels.SHEETS))
def test_each_sheet_prints_codes_a_scanner_reads(code: str) -> None:
    name = ("Zürich sales office laptop with a name that goes on and on, far beyond what three "
            "lines of a label hold, on any label sheet sold today")
    item = labels.ItemLabel("LAP-000042", name, "5CD4410AAA")
    pdf = labels.labels_pdf([item], labels.SHEETS[code], ADDRESS)
    assert qr_codes(pdf, dpi=150) == [ADDRESS("LAP-000042")]
    text = page_texts(pdf)[0]
    assert "LAP-000042" in text and "S/N 5CD4410AAA" in text
    # The name as far as three lines hold it: whole, or cut with an ellipsis.
    shown = " ".join(text.split("\r\n")[1:-1])
    assert shown == item.name or (shown.endswith("…") and item.name.startswith(shown[:-1]))
    assert shown.startswith("Zürich sales office")


def test_the_configured_base_url_makes_the_addresses(monkeypatch: pytest.MonkeyPatch) -> None:
    assert labels.address_root("http://127.0.0.1:5000/") == "http://127.0.0.1:5000"
    monkeypatch.setenv("USM_BASE_URL", "https://usm.example.org/it/")
    assert labels.address_root("http://127.0.0.1:5000/") == "https://usm.example.org/it"
    monkeypatch.setenv("USM_BASE_URL", "usm.example.org")
    with pytest.raises(ValueError, match="USM_BASE_URL must be an http"):
        labels.address_root("http://127.0.0.1:5000/")


@pytest.fixture
def three_laptops(db: Database) -> None:
    implement_normal_change(db, [
        laptop("a", "SN-L-1", location="Store room"), laptop("b", "SN-L-2", location="Office"),
        laptop("c", "SN-L-3", location="Store room")], at("2026-01-10"))


def test_labels_for_keys_keep_the_order_given_and_name_an_unknown_key(
        db: Database, three_laptops: None) -> None:
    found = labels.labels_for_keys(db, ["lap-000003, LAP-000001", "LAP-000003"])
    assert found == [labels.ItemLabel("LAP-000003", "Laptop SN-L-3", "SN-L-3"),
                     labels.ItemLabel("LAP-000001", "Laptop SN-L-1", "SN-L-1")]
    with pytest.raises(NotFound, match="no item LAP-000009 in the register"):
        labels.labels_for_keys(db, ["LAP-000001 LAP-000009"])
    with pytest.raises(Invalid, match="at least one item key"):
        labels.labels_for_keys(db, [" , "])
    with pytest.raises(labels.TooManyLabels):
        labels.parse_keys([" ".join(f"K-{n}" for n in range(labels.MAX_LABELS + 1))])


def test_labels_for_a_search_are_every_item_it_finds_in_its_order(
        db: Database, three_laptops: None, monkeypatch: pytest.MonkeyPatch) -> None:
    query = register.search_query({"location": "Store room", "order": "desc"})
    assert [label.key for label in labels.labels_for_search(db, query)] == [
        "LAP-000003", "LAP-000001"]
    monkeypatch.setattr("usm.services.labels.items.MAX_LABELS", 2)
    with pytest.raises(labels.TooManyLabels, match="narrow the selection"):
        labels.labels_for_search(db, register.search_query({"class": "hardware.laptop"}))
