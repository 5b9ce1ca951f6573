"""Reference data over HTTP: administrators' lists and forms (CSRF on), the merge's message when a
coordinator must take over, the pickers' JSON lookup, and the pickers on the search and change
forms."""

from __future__ import annotations

import re
from html import unescape

import pytest
from flask.testing import FlaskClient

from tests.support.helpers import at, implement_normal_change, laptop, reference_values
from tests.support.web import login, post_form
from usm.services import reference
from usm.services.platform import Database


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


@pytest.mark.parametrize("user", ["carol", "sam", "pat"])
def test_only_administrators_open_the_reference_data(web_client: FlaskClient, user: str) -> None:
    login(web_client, user)
    assert web_client.get("/admin/reference").status_code == 403
    assert web_client.get("/admin/reference/cost_centre").status_code == 403
    assert web_client.post("/admin/reference/cost_centre", data={"code": "X"}).status_code in (
        400, 403)  # refused for the CSRF token or the role; either way nothing is added


def test_an_administrator_adds_a_value_and_sees_its_use(web_client: FlaskClient,
                                                        web_db: Database) -> None:
    login(web_client, "ada")
    page = web_client.get("/admin/reference/cost_centre").get_data(as_text=True)
    assert "Reference data" in page and "still free text" in _text(page)  # the open state
    added = post_form(web_client, "/admin/reference/cost_centre", "/admin/reference/cost_centre",
                      {"code": "CC-100", "name": "Finance"})
    assert added.status_code == 302
    implement_normal_change(web_db, [laptop("a", "SN-W-1", cost_centre="CC-100")],
                            at("2026-03-02"))
    text = _text(web_client.get("/admin/reference/cost_centre").get_data(as_text=True))
    assert "Added Finance (CC-100)." in text
    assert "Finance CC-100 1 — active" in text
    # A duplicate in another case is shown next to the code input, nothing added.
    again = post_form(web_client, "/admin/reference/cost_centre", "/admin/reference/cost_centre",
                      {"code": "cc-100", "name": "Other"})
    assert again.status_code == 400
    assert "there is already a cost centre &#39;CC-100&#39; (Finance)" in again.get_data(
        as_text=True)
    assert reference.reference_page(web_db, "cost_centre").total == 1


def test_a_post_without_the_csrf_token_is_refused(web_client: FlaskClient,
                                                  web_db: Database) -> None:
    login(web_client, "ada")
    response = web_client.post("/admin/reference/person", data={"code": "Ann"})
    assert response.status_code == 400
    assert reference.reference_page(web_db, "person").kind_total == 0


def test_rename_and_retire_from_the_value_page(web_client: FlaskClient, web_db: Database) -> None:
    reference_values(web_db, "location", "Utrecht")
    login(web_client, "ada")
    page = "/admin/reference/location/values/Utrecht"
    renamed = post_form(web_client, page, "/admin/reference/location/update",
                        {"code": "Utrecht", "action": "rename", "name": "Head office Utrecht"})
    assert renamed.status_code == 302 and renamed.headers["Location"].endswith(page)
    text = _text(web_client.get(page).get_data(as_text=True))
    assert "Renamed: Head office Utrecht (Utrecht). Items and reports keep its code." in text
    post_form(web_client, page, "/admin/reference/location/update",
              {"code": "Utrecht", "action": "retire"})
    assert not reference.get_value(web_db, "location", "Utrecht").active
    empty = post_form(web_client, page, "/admin/reference/location/update",
                      {"code": "Utrecht", "action": "rename", "name": "  "})
    assert empty.status_code == 400 and "is required" in empty.get_data(as_text=True)


def test_a_merge_says_a_coordinator_takes_the_change_from_here(web_client: FlaskClient,
                                                               web_db: Database) -> None:
    reference_values(web_db, "cost_centre", ("CC-100", "Finance"), ("FIN-100", "Finance typo"))
    implement_normal_change(web_db, [laptop("a", "SN-W-2", cost_centre="FIN-100")],
                            at("2026-03-02"))
    login(web_client, "ada")
    page = "/admin/reference/cost_centre/values/FIN-100"
    assert 'data-reference="cost_centre"' in web_client.get(page).get_data(as_text=True)
    response = post_form(web_client, page, "/admin/reference/cost_centre/merge",
                         {"code": "FIN-100", "target": "cc-100"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    key = re.search(r"Registered (CHG-\d+); a change coordinator takes it from here\.",
                    _text(html))
    assert key, _text(html)
    assert f'href="/changes/{key.group(1)}"' in html
    assert "merged into CC-100" in _text(html)
    # Merging into a value that does not exist names the field.
    bad = post_form(web_client, "/admin/reference/cost_centre/values/CC-100",
                    "/admin/reference/cost_centre/merge", {"code": "CC-100", "target": "NOPE"})
    assert bad.status_code == 404


def test_the_lookup_answers_any_signed_in_user_with_at_most_20_values(
        web_client: FlaskClient, web_db: Database) -> None:
    assert web_client.get("/reference/lookup?kind=person&q=a").status_code == 302  # sign in
    reference_values(web_db, "person", *(f"Anna {n:02d}" for n in range(25)), "Bob")
    reference.update_value(web_db, reference_origin(), "person", "Anna 03", active=False)
    login(web_client, "sam")
    body = web_client.get("/reference/lookup?kind=person&q=ANNA").get_json()
    assert len(body["results"]) == 20
    assert all(r["kind"] == "person" and r["code"].startswith("Anna") for r in body["results"])
    assert "Anna 03" not in [r["code"] for r in body["results"]]
    assert web_client.get("/reference/lookup?kind=person&q=bo").get_json()["results"] == [
        {"kind": "person", "code": "Bob", "name": "Bob", "label": "Bob", "item_key": None}]
    assert web_client.get("/reference/lookup?kind=supplier&q=x").status_code == 400
    assert web_client.get("/reference/lookup?kind=person&q=" + "x" * 500).status_code == 400


def reference_origin():  # type: ignore[no-untyped-def]
    from usm.services.audit_log import Origin

    return Origin("ada")


def test_pickers_on_the_register_search_and_the_change_form(web_client: FlaskClient) -> None:
    login(web_client, "carol")
    search = web_client.get("/items").get_data(as_text=True)
    for name, kind in (("owner", "person"), ("location", "location"),
                       ("cost_centre", "cost_centre")):
        assert re.search(rf'<input[^>]*name="{name}"[^>]*data-reference="{kind}"', search), name
    assert "/static/reference.js" in search
    form = web_client.get("/changes/new/hardware-receipt").get_data(as_text=True)
    for name, kind in (("owner", "person"), ("location", "location"),
                       ("cost_centre", "cost_centre")):
        assert re.search(rf'name="create-0-{name}"[^>]*data-reference="{kind}"', form), name
    assert "/static/reference.js" in form
    normal = web_client.get("/changes/new/normal-change").get_data(as_text=True)
    assert 'data-reference-by="f-update-0-field"' in normal


def test_the_item_page_shows_the_names_of_its_reference_values(web_client: FlaskClient,
                                                               web_db: Database) -> None:
    reference_values(web_db, "cost_centre", ("CC-100", "Finance"))
    reference_values(web_db, "person", ("E1042", "Iris van Dijk"))
    implement_normal_change(web_db, [laptop("a", "SN-N-1", cost_centre="CC-100", owner="E1042",
                                            location="Attic")], at("2026-03-02"))
    login(web_client, "sam")
    text = _text(web_client.get("/items/LAP-000001").get_data(as_text=True))
    assert "Owner Iris van Dijk (E1042)" in text and "Cost centre Finance (CC-100)" in text
    assert "Location Attic" in text  # a kind without reference data shows the value as stored
    from usm.services.audit_log import Origin
    reference.update_value(web_db, Origin("ada"), "cost_centre", "CC-100", name="Finance & Control")
    text = _text(web_client.get("/items/LAP-000001").get_data(as_text=True))
    assert "Cost centre Finance & Control (CC-100)" in text  # renamed, the item keeps its code
