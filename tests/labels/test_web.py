"""Asset labels over HTTP: the form and the PDF for an item or a register search, who may have
them, and the QR codes' addresses (the request's host, or ``USM_BASE_URL``)."""

from __future__ import annotations

import re
from html import unescape

import pytest
from flask.testing import FlaskClient

from tests.support.helpers import at, implement_normal_change, laptop
from tests.support.pdf import page_count, page_texts, qr_codes
from tests.support.web import login
from usm.services.platform import Database


@pytest.fixture
def three_laptops(web_db: Database) -> None:
    implement_normal_change(web_db, [
        laptop("a", "SN-L-1", location="Store room"), laptop("b", "SN-L-2", location="Office"),
        laptop("c", "SN-L-3", location="Store room")], at("2026-01-10"))


@pytest.mark.parametrize("user", ["carol", "sam", "pat"])
def test_register_readers_download_an_items_labels(web_client: FlaskClient, three_laptops: None,
                                                   user: str) -> None:
    login(web_client, user)
    item = unescape(web_client.get("/items/LAP-000002").get_data(as_text=True))
    assert 'href="/labels?keys=LAP-000002"' in item
    form = unescape(web_client.get("/labels?keys=LAP-000002").get_data(as_text=True))
    assert "1 label: LAP-000002." in _text(form) and 'name="keys" value="LAP-000002"' in form
    response = web_client.get("/labels.pdf?keys=LAP-000002&sheet=brother-dk-11209&first=1")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"] == 'attachment; filename="labels-LAP-000002.pdf"'
    assert qr_codes(response.data) == ["http://localhost/items/LAP-000002"]
    assert "LAP-000002" in page_texts(response.data)[0]


def test_others_may_not_print_labels(web_client: FlaskClient, three_laptops: None) -> None:
    assert web_client.get("/labels.pdf?keys=LAP-000001").status_code == 302  # to sign in
    login(web_client, "ada")
    assert web_client.get("/labels?keys=LAP-000001").status_code == 403
    assert web_client.get("/labels.pdf?keys=LAP-000001").status_code == 403


def test_labels_for_the_register_search_on_a_partly_used_sheet(
        web_client: FlaskClient, three_laptops: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USM_BASE_URL", "https://usm.example.org")
    login(web_client, "sam")
    search = unescape(web_client.get("/items?location=Store+room").get_data(as_text=True))
    link = re.search(r'href="(/labels\?[^"]+)">Labels \(PDF\)', search).group(1)
    form = unescape(web_client.get(link).get_data(as_text=True))
    assert "2 labels: LAP-000001, LAP-000003." in _text(form)
    hidden = dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', form))
    hidden.pop("csrf_token")  # the sign-out button's
    assert hidden == {"location": "Store room"}
    pdf = web_client.get("/labels.pdf", query_string={**hidden, "sheet": "avery-5160",
                                                      "first": "30"})
    assert pdf.headers["Content-Disposition"] == 'attachment; filename="labels-2.pdf"'
    assert page_count(pdf.data) == 2  # the last position of one sheet, the first of the next
    assert qr_codes(pdf.data, 0) == ["https://usm.example.org/items/LAP-000001"]
    assert qr_codes(pdf.data, 1) == ["https://usm.example.org/items/LAP-000003"]


def test_a_refused_print_names_the_problem(web_client: FlaskClient, three_laptops: None) -> None:
    login(web_client, "carol")
    bad_position = web_client.get("/labels.pdf?keys=LAP-000001&sheet=avery-l7163&first=15")
    assert bad_position.status_code == 400
    html = unescape(bad_position.get_data(as_text=True))
    assert "the first label position is a number from 1 to 14" in html
    assert "1 label:" in html  # the form again, with what was asked
    bad_sheet = web_client.get("/labels.pdf?keys=LAP-000001&sheet=a4-99")
    assert bad_sheet.status_code == 400 and "no label sheet" in bad_sheet.get_data(as_text=True)
    assert web_client.get("/labels.pdf?keys=LAP-000009").status_code == 404
    assert "No items to label." in web_client.get("/labels?location=Nowhere").get_data(
        as_text=True)
    nothing = web_client.get("/labels.pdf?location=Nowhere")
    assert nothing.status_code == 400 and "no items to print labels for" in unescape(
        nothing.get_data(as_text=True))


def _text(html: str) -> str:
    """The page's text as a reader sees it: no tags, white space collapsed."""
    return " ".join(re.sub(r"<[^>]+>", "", html).split()).replace(" ,", ",").replace(" .", ".")
