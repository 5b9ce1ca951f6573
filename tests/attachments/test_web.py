"""Attachments on the screens: a coordinator attaches a file on the item page in one post (a
change carried through, shown in the history under it), everyone who reads the register
downloads it with safe headers, who may do what, CSRF, refusals shown on the page, and files
kept with a change."""

from __future__ import annotations

import io
import re
from html import unescape

import pytest
from flask.testing import FlaskClient

from tests.attachments import files
from tests.support.helpers import at, implement_normal_change, laptop
from tests.support.web import csrf_token, login
from usm.services import changes
from usm.services.platform import Database

ITEM = "/items/LAP-000001"


@pytest.fixture
def item(web_db: Database) -> str:
    implement_normal_change(web_db, [laptop("a", "SN-W-1")], at("2026-03-01"))
    return "LAP-000001"


def _text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _upload(client: FlaskClient, data: bytes, name: str, title: str = "",
            token: str | None = None):  # type: ignore[no-untyped-def]
    form = {"file": (io.BytesIO(data), name), "title": title,
            "csrf_token": token if token is not None else csrf_token(client, ITEM)}
    return client.post(f"{ITEM}/attachments", data=form, content_type="multipart/form-data")


def test_a_coordinator_attaches_a_pdf_and_a_reader_downloads_it(web_client: FlaskClient,
                                                                 item: str) -> None:
    login(web_client, "carol")
    page = _text(web_client.get(ITEM).get_data(as_text=True))
    assert "No files are attached to this item." in page and "At most 20 MB" in page
    pdf = files.pdf()
    response = _upload(web_client, pdf, "factuur “2026”.pdf", "Invoice 2026-114")
    assert response.status_code == 303 and response.location.endswith(f"{ITEM}#attachments")
    page = web_client.get(ITEM).get_data(as_text=True)
    text = _text(page)
    assert "factuur “2026”.pdf is attached: change CHG-000002 was carried through all its " \
           "steps." in text
    assert "Invoice 2026-114" in text and "PDF" in text
    assert "Attachments by change CHG-000002" in text and "Attached factuur" not in text
    assert "attached factuur “2026”.pdf" in text  # the history, under its change
    link = re.search(r'href="(/items/LAP-000001/attachments/\d+)" download', page).group(1)
    web_client.post("/logout", data={"csrf_token": csrf_token(web_client, ITEM)})
    login(web_client, "pat")  # a process designer reads the register too
    download = web_client.get(link)
    assert download.status_code == 200 and download.data == pdf
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Disposition"] == (
        "attachment; filename=\"factuur 2026.pdf\"; "
        "filename*=UTF-8''factuur%20%E2%80%9C2026%E2%80%9D.pdf")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Cache-Control"] == "private, no-store"
    assert "sandbox" in download.headers["Content-Security-Policy"]
    assert 'name="file"' not in web_client.get(ITEM).get_data(as_text=True)  # no upload form


def test_only_coordinators_attach_and_remove(web_client: FlaskClient, item: str) -> None:
    login(web_client, "sam")
    assert 'name="file"' not in web_client.get(ITEM).get_data(as_text=True)
    assert _upload(web_client, files.pdf(), "a.pdf").status_code == 403
    assert web_client.post(f"{ITEM}/attachments/1/remove", data={
        "csrf_token": csrf_token(web_client, ITEM)}).status_code == 403
    web_client.post("/logout", data={"csrf_token": csrf_token(web_client, ITEM)})
    login(web_client, "ada")  # an administrator does not read the register
    assert web_client.get(f"{ITEM}/attachments/1").status_code == 403


def test_anonymous_users_are_sent_to_sign_in(web_client: FlaskClient, item: str) -> None:
    assert web_client.get(f"{ITEM}/attachments/1").status_code == 302


def test_an_upload_without_the_csrf_token_is_refused(web_client: FlaskClient, item: str,
                                                     web_db: Database) -> None:
    login(web_client, "carol")
    assert _upload(web_client, files.pdf(), "a.pdf", token="").status_code == 400
    assert "No files are attached" in _text(web_client.get(ITEM).get_data(as_text=True))


def test_a_file_of_a_kind_not_allowed_is_refused_on_the_page(web_client: FlaskClient,
                                                             item: str) -> None:
    login(web_client, "carol")
    response = _upload(web_client, files.HTML, "invoice.pdf")
    assert response.status_code == 303
    text = _text(web_client.get(ITEM).get_data(as_text=True))
    assert "Nothing was attached: invoice.pdf: it is HTML, SVG or XML markup" in text
    assert "No files are attached to this item." in text


def test_removing_a_file_is_a_change(web_client: FlaskClient, item: str) -> None:
    login(web_client, "carol")
    _upload(web_client, files.CSV, "serials.csv")
    page = web_client.get(ITEM).get_data(as_text=True)
    action = re.search(r'action="(/items/LAP-000001/attachments/\d+/remove)"', page).group(1)
    response = web_client.post(action, data={"csrf_token": csrf_token(web_client, ITEM)})
    assert response.status_code == 303
    text = _text(web_client.get(ITEM).get_data(as_text=True))
    assert "serials.csv is removed: change CHG-000003 was carried through all its steps." in text
    assert "No files are attached to this item." in text
    assert "removed serials.csv" in text


def test_a_change_that_stops_short_shows_the_file_pending(web_client: FlaskClient, item: str,
                                                          web_db: Database) -> None:
    # A service owner's upload (over the API's service, say) waits for a coordinator's moves.
    from usm.services import attachments

    waiting = attachments.attach_file(web_db, attachments.Storage(), "sam", item,
                                      io.BytesIO(files.pdf()), "quote.pdf")
    login(web_client, "carol")
    text = _text(web_client.get(ITEM).get_data(as_text=True))
    assert f"quote.pdf will be attached by change {waiting.change.key} · waiting at: " \
           f"{waiting.change.state_label}" in text
    assert "No files are attached to this item." in text


def test_unknown_item_or_file_is_a_404(web_client: FlaskClient, item: str) -> None:
    login(web_client, "carol")
    assert web_client.get(f"{ITEM}/attachments/99").status_code == 404
    assert web_client.get("/items/NOPE-1/attachments/1").status_code == 404


def test_files_kept_with_a_change(web_client: FlaskClient, web_db: Database) -> None:
    key = changes.register_change(web_db, "carol", model="normal-change", title="Replace",
                                  operations=[laptop("a", "SN-W-2")]).key
    login(web_client, "sam")
    page = f"/changes/{key}"
    assert "No files are kept with this change." in _text(web_client.get(page).get_data(
        as_text=True))
    quote = files.pdf("Quote")
    response = web_client.post(f"{page}/files", data={
        "file": (io.BytesIO(quote), "quote.pdf"), "csrf_token": csrf_token(web_client, page)},
        content_type="multipart/form-data")
    assert response.status_code == 303
    html = web_client.get(page).get_data(as_text=True)
    assert "quote.pdf is kept with the change." in _text(html)
    link = re.search(rf'href="(/changes/{key}/files/\d+)" download', html).group(1)
    download = web_client.get(link)
    assert download.data == quote and download.headers["X-Content-Type-Options"] == "nosniff"
    web_client.post("/logout", data={"csrf_token": csrf_token(web_client, page)})
    login(web_client, "pat")  # not a participant in changes
    assert web_client.get(link).status_code == 403


def test_the_size_limit_is_the_deployments(web_app, web_client: FlaskClient,  # type: ignore[no-untyped-def]
                                           item: str) -> None:
    web_app.config["ATTACHMENT_MAX_BYTES"] = 1024  # USM_ATTACHMENT_MAX_BYTES
    login(web_client, "carol")
    assert "At most 1 kB" in _text(web_client.get(ITEM).get_data(as_text=True))
    _upload(web_client, files.CSV * 200, "big.csv")
    text = _text(web_client.get(ITEM).get_data(as_text=True))
    assert "Nothing was attached: big.csv: the file is larger than 1 kB" in text
