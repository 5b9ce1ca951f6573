"""The change coordinator's screens over HTTP: the queue, registering a change, a change's detail
with its moves, details, approvals, comments and change set, and the calendar. Each test checks what
a person sees, and that an invalid or stale form writes nothing."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.support.helpers import at, implement_normal_change, laptop
from tests.support.hostile_yaml import alias_bomb
from tests.support.web import csrf_token, login
from usm.services import changes
from usm.services.platform import Database
from usm.services.register import list_items
from web.changes import pages as change_pages

VERSION_INPUT = re.compile(r'name="version" value="(\d+)"')


def register(db: Database, operations: list[dict[str, Any]] | None = None, *,
             model: str = "normal-change", title: str = "Test change", when: str | None = None,
             **details: Any) -> str:
    return changes.register_change(db, "carol", model=model, title=title,
                                   operations=operations or [laptop("a", "SN-1")],
                                   now=at(when) if when else None, **details).key


def to_authorisation(db: Database, key: str) -> None:
    changes.move_change(db, key, "assess", "carol")
    changes.update_change(db, key, "carol", {"risk": "low", "impact": "none"})
    changes.move_change(db, key, "submit_for_approval", "carol")


def post(client: FlaskClient, page: str, action: str, data: dict[str, Any],
         follow: bool = False) -> TestResponse:
    return client.post(action, data={**data, "csrf_token": csrf_token(client, page)},
                       follow_redirects=follow)


def shown_version(client: FlaskClient, page: str) -> str:
    match = VERSION_INPUT.search(client.get(page).get_data(as_text=True))
    assert match, f"no version on {page}"
    return match.group(1)


def error_next_to(html: str, name: str) -> str:
    """The error shown right after the input ``name`` (its ``e-<name>`` element)."""
    match = re.search(rf'name="{re.escape(name)}"[^>]*aria-invalid="true"[^>]*>.*?'
                      rf'<small class="field-error" id="e-{re.escape(name)}">([^<]*)</small>',
                      html, re.S)
    assert match, f"no error shown next to {name}"
    return match.group(1).replace("&#39;", "'")


def count_changes(db: Database) -> int:
    return len(changes.list_changes(db, open_only=False, limit=500))


# The queue


def test_queue_highlights_overdue_changes_and_counts_per_step(
        web_client: FlaskClient, web_db: Database) -> None:
    late = register(web_db, title="Old request", when="2026-01-05")
    fresh = register(web_db, model="hardware-receipt", title="Fresh delivery")
    login(web_client)

    html = web_client.get("/changes").get_data(as_text=True)

    assert re.search(rf'<tr class="overdue">\s*<td><a href="/changes/{late}">', html)
    assert f'<tr>\n      <td><a href="/changes/{fresh}">' in html
    assert 'Registration <span class="count-badge">2</span>' in html
    assert "2 changes match." in html


def test_queue_filters_are_get_parameters(web_client: FlaskClient, web_db: Database) -> None:
    normal = register(web_db, title="Normal one")
    receipt = register(web_db, model="hardware-receipt", title="Receipt one")
    changes.move_change(web_db, normal, "assess", "carol")
    login(web_client)

    by_model = web_client.get("/changes?model=hardware-receipt").get_data(as_text=True)
    by_step = web_client.get("/changes?step=assessment").get_data(as_text=True)
    by_class = web_client.get("/changes?class=normal").get_data(as_text=True)
    nothing = web_client.get("/changes?coordinator=nobody").get_data(as_text=True)

    assert receipt in by_model and normal not in by_model
    assert '<option value="hardware-receipt" selected>' in by_model
    assert normal in by_step and receipt not in by_step
    assert normal in by_class and receipt not in by_class
    assert "No change matches these filters." in nothing


def test_queue_mine_and_overdue_only(web_client: FlaskClient, web_db: Database) -> None:
    late = register(web_db, title="Old request", when="2026-01-05")
    fresh = register(web_db, title="New request")
    login(web_client, "sam")

    assert "No change matches" in web_client.get("/changes?mine=1").get_data(as_text=True)
    overdue = web_client.get("/changes?overdue=1").get_data(as_text=True)
    assert late in overdue and fresh not in overdue


def test_queue_pages_with_older_link(web_client: FlaskClient, web_db: Database,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(change_pages, "PAGE_SIZE", 2)
    keys = [register(web_db, title=f"Change {i}") for i in range(3)]
    login(web_client)

    first = web_client.get("/changes?class=normal").get_data(as_text=True)
    assert keys[2] in first and keys[1] in first and keys[0] not in first
    assert f'href="/changes?after={keys[1]}&amp;class=normal" rel="next">Older changes' in first
    second = web_client.get(f"/changes?after={keys[1]}&class=normal").get_data(as_text=True)
    assert keys[0] in second and keys[1] not in second and "Older changes" not in second
    assert "« Newest" in second


def test_empty_queue_invites_the_coordinator_only_to_register(
        web_client: FlaskClient, web_db: Database) -> None:
    login(web_client)
    html = web_client.get("/changes").get_data(as_text=True)
    assert "There are no open changes." in html and 'href="/changes/new"' in html

    web_client.post("/logout", data={"csrf_token": csrf_token(web_client, "/")})
    login(web_client, "sam")
    html = web_client.get("/changes").get_data(as_text=True)
    assert "There are no open changes." in html and ">Register a change<" not in html


# Registering a change


def test_new_change_lists_models_and_the_form_fits_the_model(
        web_client: FlaskClient, web_db: Database) -> None:
    login(web_client)

    chooser = web_client.get("/changes/new").get_data(as_text=True)
    form = web_client.get("/changes/new/hardware-receipt").get_data(as_text=True)

    assert 'href="/changes/new/hardware-receipt"' in chooser and "pre-authorised" in chooser
    assert 'name="fields.purchase_order"' in form and "The order this delivery belongs to" in form
    assert '<option value="hardware.laptop">' in form
    assert "software.installation" not in form  # outside the model's classes
    assert 'name="update-0-item"' not in form  # the model makes no field updates
    assert 'name="status-0-item"' in form and 'name="relation-0-kind"' in form
    assert web_client.get("/changes/new/no-such-model").status_code == 404


def test_invalid_new_change_shows_errors_next_to_fields_keeps_input_writes_nothing(
        web_client: FlaskClient, web_db: Database) -> None:
    login(web_client)
    page = "/changes/new/hardware-receipt"

    response = post(web_client, page, page, {
        "title": "", "source": "customer", "create-0-class": "hardware.server",
        "create-0-name": "esx-9", "create-0-purchase_cost": "1.234", "create-1-name": "no class",
        "status-0-item": "LAP-999999", "status-0-status": "in_use",
        "relation-0-action": "add", "relation-0-kind": "located_in",
        "relation-0-source": "@nothing", "relation-0-target": "BLD-000001",
    })
    html = response.get_data(as_text=True)

    assert response.status_code == 422
    assert "The change was not registered" in html and "Nothing was saved." in html
    assert error_next_to(html, "title") == "String should have at least 3 characters"
    assert error_next_to(html, "create-0-purchase_cost") == "'1.234' has more than two decimals"
    assert error_next_to(html, "create-0-attributes.cores") == "is required"
    assert error_next_to(html, "create-1-class") == "choose the class of the new item"
    assert error_next_to(html, "status-0-item") == "no item LAP-999999 in the register"
    assert "@nothing is not created by an earlier operation" in error_next_to(
        html, "relation-0-source")
    assert 'value="esx-9"' in html and 'value="1.234"' in html  # the input is kept
    assert "CPU cores" in html  # the chosen class's attributes are shown
    assert count_changes(web_db) == 0


def test_more_rows_and_refresh_keep_what_was_typed(web_client: FlaskClient,
                                                   web_db: Database) -> None:
    login(web_client)
    page = "/changes/new/normal-change"
    typed = {"title": "Kept title", "create-0-class": "hardware.laptop", "create-0-name": "L1",
             "create_rows": "3", "update_rows": "2", "status_rows": "2", "relation_rows": "2"}

    more = post(web_client, page, page, {**typed, "action": "more-create"}).get_data(as_text=True)
    refreshed = post(web_client, page, page, {**typed, "action": "refresh"}).get_data(as_text=True)

    assert 'name="create-5-class"' in more and 'name="create-6-class"' not in more
    assert 'value="Kept title"' in more and 'value="L1"' in more
    assert 'name="create-0-attributes.keyboard_layout"' in refreshed
    assert "was not registered" not in refreshed
    assert count_changes(web_db) == 0


def test_empty_change_set_is_an_ops_request_not_a_change(web_client: FlaskClient,
                                                        web_db: Database) -> None:
    login(web_client)
    page = "/changes/new/normal-change"
    response = post(web_client, page, page, {"title": "Reset my password", "source": "customer"})

    assert response.status_code == 422
    assert "operational service request (OPS), not a change" in response.get_data(as_text=True)
    assert count_changes(web_db) == 0


def test_yaml_operations_register_and_their_errors_show_at_the_yaml(
        web_client: FlaskClient, web_db: Database) -> None:
    login(web_client)
    page = "/changes/new/normal-change"
    bad = post(web_client, page, page, {
        "title": "From YAML", "change_set_yaml": "- {op: set_status, item: LAP-999999, "
                                                 "status: in_use}"})
    assert bad.status_code == 422
    assert "operation 1 (item): no item LAP-999999 in the register" in error_next_to(
        bad.get_data(as_text=True), "change_set_yaml")

    good = post(web_client, page, page, {
        "title": "From YAML", "change_set_yaml": "operations:\n  - {op: create_item, "
                                                 "class: building, name: HQ}"})
    assert good.status_code == 302
    assert changes.change_detail(web_db, "CHG-000001").operations[0]["fields"]["name"] == "HQ"


def test_an_alias_bomb_in_the_yaml_is_refused_at_the_yaml_and_the_page_still_answers(
        web_client: FlaskClient, web_db: Database) -> None:
    login(web_client)
    page = "/changes/new/normal-change"

    # Six levels (531,441 strings): a loader without the limit survives expanding it.
    bombed = post(web_client, page, page, {"title": "Billion laughs",
                                           "change_set_yaml": alias_bomb(6)})

    assert bombed.status_code == 422
    assert error_next_to(bombed.get_data(as_text=True), "change_set_yaml") == (
        "is not valid YAML at line 9, column 39: more than 50000 values (an alias counts as the "
        "values it repeats)")
    assert count_changes(web_db) == 0
    assert web_client.get(page).status_code == 200  # the worker is alive


def test_hardware_receipt_from_form_to_register(web_client: FlaskClient,
                                                web_db: Database) -> None:
    """A delivery registered through the form, moved through its steps with the buttons, ends up
    as an item in the register."""
    login(web_client)
    page = "/changes/new/hardware-receipt"
    response = post(web_client, page, page, {
        "title": "Laptop for the new hire", "source": "customer", "coordinator": "carol",
        "reason": "new starter", "fields.purchase_order": "PO-77",
        "create-0-class": "hardware.laptop", "create-0-ref": "l1", "create-0-name": "Laptop L1",
        "create-0-serial_number": "5CD-NEW-1", "create-0-purchase_cost": "1249.00",
        "create-0-currency": "eur", "create-0-status": "in_stock",
        "create-0-attributes.cores": "8",
        "relation-0-action": "add", "relation-0-kind": "assigned_to", "relation-0-source": "",
    })
    assert response.status_code == 302 and response.headers["Location"] == "/changes/CHG-000001"
    detail = web_client.get("/changes/CHG-000001").get_data(as_text=True)
    assert "Registered CHG-000001 “Laptop for the new hire”" in detail
    assert "5CD-NEW-1" in detail and "€1,249.00" in detail  # the planned change set

    def move(trigger: str) -> str:
        page = "/changes/CHG-000001"
        return post(web_client, page, page + "/move",
                    {"trigger": trigger, "version": shown_version(web_client, page)},
                    follow=True).get_data(as_text=True)

    assert "is now Checking delivery against order" in move("check_delivery")
    page = "/changes/CHG-000001"
    saved = post(web_client, page, page + "/details", {
        "version": shown_version(web_client, page), "title": "Laptop for the new hire",
        "risk": "low", "cost_estimate": "1249.00", "currency": "EUR",
        "coordinator": "carol", "fields.delivery_note": "DN-1"}, follow=True)
    assert "details saved" in saved.get_data(as_text=True)
    assert "is now Scheduling intake" in move("accept_delivery")  # pre-authorised on its own
    move("start_labelling")
    assert list_items(web_db)[1] == 0
    assert "is now Registered in stock" in move("register_stock")

    items, total = list_items(web_db)
    assert total == 1 and items[0].name == "Laptop L1" and items[0].status == "in_stock"
    registered = web_client.get(f"/items/{items[0].key}").get_data(as_text=True)
    assert "5CD-NEW-1" in registered


# A change's page: moves per role, stale forms


def test_buttons_are_the_moves_this_user_may_make_now(web_client: FlaskClient,
                                                      web_db: Database) -> None:
    key = register(web_db)
    login(web_client)
    carol = web_client.get(f"/changes/{key}").get_data(as_text=True)
    web_client.post("/logout", data={"csrf_token": csrf_token(web_client, "/")})
    login(web_client, "sam")
    sam = web_client.get(f"/changes/{key}").get_data(as_text=True)

    enabled = re.compile(r'<button type="submit" name="trigger" value="(\w+)"')
    assert enabled.findall(carol) == ["assess", "reject", "withdraw"]
    assert enabled.findall(sam) == ["reject"]
    assert "only Change coordinator may assess" in sam and "change_coordinator" not in sam
    assert f'action="/changes/{key}/details"' in carol
    assert f'action="/changes/{key}/details"' not in sam
    assert "Edit the change set" in carol and "Edit the change set" not in sam


def test_blocked_moves_show_why(web_client: FlaskClient, web_db: Database) -> None:
    key = register(web_db)
    changes.move_change(web_db, key, "assess", "carol")
    login(web_client)
    html = web_client.get(f"/changes/{key}").get_data(as_text=True)

    assert re.search(r'<button type="button" disabled class="outline">Submit for approval</button>'
                     r'\s*<small>fill in risk, impact first</small>', html)
    page = f"/changes/{key}"
    refused = post(web_client, page, page + "/move", {
        "trigger": "submit_for_approval", "version": shown_version(web_client, page)},
        follow=True).get_data(as_text=True)
    assert "“submit_for_approval” is not possible now: fill in risk, impact first." in refused
    assert changes.change_summary(web_db, key).step == "assessment"


def test_stale_move_is_a_conflict_message_not_an_error(web_client: FlaskClient,
                                                       web_db: Database) -> None:
    key = register(web_db)
    login(web_client)
    page = f"/changes/{key}"
    version = shown_version(web_client, page)
    changes.move_change(web_db, key, "assess", "carol")  # someone else, meanwhile

    response = post(web_client, page, page + "/move", {"trigger": "withdraw", "version": version})
    html = web_client.get(response.headers["Location"]).get_data(as_text=True)

    assert response.status_code == 302
    assert (f"{key} was changed by someone else meanwhile (it is now In assessment, in step "
            "assessment). Your “withdraw” was not saved") in html
    assert changes.change_summary(web_db, key).step == "assessment"


def test_stale_details_form_writes_nothing(web_client: FlaskClient, web_db: Database) -> None:
    key = register(web_db)
    login(web_client)
    page = f"/changes/{key}"
    version = shown_version(web_client, page)
    changes.update_change(web_db, key, "carol", {"impact": "set by someone else"})

    response = post(web_client, page, page + "/details", {
        "version": version, "title": "Test change", "risk": "high"}, follow=True)

    assert "was changed by someone else meanwhile" in response.get_data(as_text=True)
    detail = changes.change_detail(web_db, key)
    assert detail.risk is None and detail.impact == "set by someone else"


def test_invalid_details_show_errors_next_to_fields_and_write_nothing(
        web_client: FlaskClient, web_db: Database) -> None:
    key = register(web_db)
    login(web_client)
    page = f"/changes/{key}"

    response = post(web_client, page, page + "/details", {
        "version": shown_version(web_client, page), "title": "Test change", "risk": "low",
        "cost_estimate": "12.3456", "currency": "EUR", "planned_start": "2026-12-01T20:00",
        "planned_end": "2026-12-01T18:00", "coordinator": "sam"})
    html = response.get_data(as_text=True)

    assert response.status_code == 422
    assert "<details class=\"edit-panel\" open>" in html
    assert error_next_to(html, "planned_end") == "must be after the planned start"
    assert error_next_to(html, "coordinator") == "'sam' is not an active change coordinator"
    assert "more than two decimals" in error_next_to(html, "cost_estimate")
    assert changes.change_detail(web_db, key).risk is None


def test_details_are_saved_with_the_window_in_utc(web_client: FlaskClient,
                                                  web_db: Database) -> None:
    key = register(web_db)
    login(web_client)
    page = f"/changes/{key}"
    response = post(web_client, page, page + "/details", {
        "version": shown_version(web_client, page), "title": "Renamed change", "risk": "medium",
        "planned_start": "2026-12-01T20:00", "planned_end": "2026-12-01T23:00"}, follow=True)

    html = response.get_data(as_text=True)
    assert "details saved" in html and "2026-12-01 20:00 UTC" in html
    detail = changes.change_detail(web_db, key)
    assert detail.summary.title == "Renamed change" and detail.planned_start == at("2026-12-01", 20)


# Approvals and comments


def test_service_owner_approves_in_authorisation(web_client: FlaskClient,
                                                 web_db: Database) -> None:
    key = register(web_db)
    to_authorisation(web_db, key)
    login(web_client)
    assert f'action="/changes/{key}/approval"' not in web_client.get(f"/changes/{key}").get_data(
        as_text=True)
    web_client.post("/logout", data={"csrf_token": csrf_token(web_client, "/")})
    login(web_client, "sam")
    page = f"/changes/{key}"
    waiting = web_client.get(page).get_data(as_text=True)
    assert f'action="/changes/{key}/approval"' in waiting
    assert "Waiting for 1 more approval from Service owner (sam)" in waiting
    # One Reject: the approver rejects in "Your decision", not also with a move button.
    assert waiting.count(">Reject</button>") == 1

    no_reason = post(web_client, page, page + "/approval", {
        "decision": "reject", "version": shown_version(web_client, page)})
    assert no_reason.status_code == 422
    assert error_next_to(no_reason.get_data(as_text=True), "comment") == \
        "say why you reject the change"
    assert changes.change_detail(web_db, key).approvals == []

    approved = post(web_client, page, page + "/approval", {
        "decision": "approve", "comment": "fine", "version": shown_version(web_client, page)},
        follow=True).get_data(as_text=True)
    assert "your approval is recorded" in approved and "<td>sam</td><td>approved</td>" in approved
    # It was all the model waited for: the change is authorised, nobody clicks Authorise.
    assert "It is now Planning (planning)." in approved
    assert changes.change_detail(web_db, key).summary.step == "planning"
    assert f'action="/changes/{key}/approval"' not in approved  # decided in this round


def test_an_approvers_reject_ends_the_change(web_client: FlaskClient, web_db: Database) -> None:
    key = register(web_db)
    to_authorisation(web_db, key)
    login(web_client, "sam")
    page = f"/changes/{key}"
    rejected = post(web_client, page, page + "/approval", {
        "decision": "reject", "comment": "not this quarter",
        "version": shown_version(web_client, page)}, follow=True).get_data(as_text=True)
    assert "your rejection is recorded. It is now Rejected (rejected)." in rejected
    assert changes.change_detail(web_db, key).summary.step == "rejected"


def test_the_detail_shows_the_change_sets_value_and_offers_it_as_the_estimate(
        web_client: FlaskClient, web_db: Database) -> None:
    key = register(web_db, [laptop("a", "SN-1", purchase_cost="1249.50", currency="EUR"),
                            laptop("b", "SN-2", purchase_cost="1249.50", currency="EUR")])
    login(web_client)
    html = web_client.get(f"/changes/{key}").get_data(as_text=True)
    assert "<dt>Change set value</dt><dd>€2,499.00" in html
    assert re.search(r'name="cost_estimate"[^>]*value="2499.00"', html)
    assert re.search(r'name="currency"[^>]*value="EUR"', html)
    assert "Offered from the change set's value when no estimate is given." in html
    assert 'inputmode="decimal"' in html  # an input's attributes are markup, not text


def test_comments_are_posted_validated_and_kept_when_stale(web_client: FlaskClient,
                                                          web_db: Database) -> None:
    key = register(web_db)
    login(web_client, "sam")
    page = f"/changes/{key}"

    posted = post(web_client, page, page + "/comments", {
        "body": "Which floor is this for?", "version": shown_version(web_client, page)},
        follow=True).get_data(as_text=True)
    assert "comment posted" in posted and "Which floor is this for?" in posted

    empty = post(web_client, page, page + "/comments", {
        "body": "  ", "version": shown_version(web_client, page)})
    assert empty.status_code == 422
    assert error_next_to(empty.get_data(as_text=True), "body") == "write something first"

    version = shown_version(web_client, page)
    changes.move_change(web_db, key, "assess", "carol")
    stale = post(web_client, page, page + "/comments", {"body": "Approve it?", "version": version})
    html = stale.get_data(as_text=True)
    assert stale.status_code == 409
    assert "was changed by someone else meanwhile" in error_next_to(html, "body")
    assert ">Approve it?</textarea>" in html
    assert [c.body for c in changes.change_detail(web_db, key).comments] == [
        "Which floor is this for?"]


# Editing the change set


def test_change_set_editor_prefills_validates_and_saves(web_client: FlaskClient,
                                                        web_db: Database) -> None:
    key = register(web_db, [laptop("a", "SN-1", owner="alice")])
    login(web_client)
    page = f"/changes/{key}?edit=change-set"
    form = web_client.get(page).get_data(as_text=True)
    assert 'name="create-0-serial_number" value="SN-1"' in form
    assert 'name="create-0-owner" value="alice"' in form

    rows = {"create-0-class": "hardware.laptop", "create-0-ref": "a", "create-0-name": "L",
            "create-0-serial_number": "SN-2", "create_rows": "1", "update_rows": "0",
            "status_rows": "1", "relation_rows": "0", "status-0-item": "@a",
            "status-0-status": "disposed"}
    bad = post(web_client, page, f"/changes/{key}/change-set",
               {**rows, "version": shown_version(web_client, page)})
    assert bad.status_code == 422
    assert "cannot move from planned to disposed" in error_next_to(
        bad.get_data(as_text=True), "status-0-status")
    assert changes.change_detail(web_db, key).operations[0]["fields"]["serial_number"] == "SN-1"

    good = post(web_client, page, f"/changes/{key}/change-set",
                {**rows, "status-0-status": "in_stock",
                 "version": shown_version(web_client, page)}, follow=True)
    assert "change set saved (2 operation(s))" in good.get_data(as_text=True)
    operations = changes.change_detail(web_db, key).operations
    assert [op["op"] for op in operations] == ["create_item", "set_status"]
    assert operations[0]["fields"]["serial_number"] == "SN-2"


def test_stale_change_set_form_keeps_the_rows_and_says_so(web_client: FlaskClient,
                                                          web_db: Database) -> None:
    key = register(web_db)
    login(web_client)
    page = f"/changes/{key}?edit=change-set"
    version = shown_version(web_client, page)
    changes.update_change(web_db, key, "carol", {"impact": "someone else"})

    response = post(web_client, page, f"/changes/{key}/change-set", {
        "create-0-class": "hardware.laptop", "create-0-name": "Mine", "version": version})
    html = response.get_data(as_text=True)

    assert response.status_code == 409
    assert "was changed by someone else meanwhile" in html and 'value="Mine"' in html
    assert changes.change_detail(web_db, key).operations[0]["fields"]["name"] == "Laptop SN-1"


def test_change_set_is_not_editable_after_assessment_nor_by_the_service_owner(
        web_client: FlaskClient, web_db: Database) -> None:
    key = register(web_db)
    login(web_client, "sam")
    assert web_client.get(f"/changes/{key}?edit=change-set").status_code == 403
    web_client.post("/logout", data={"csrf_token": csrf_token(web_client, "/")})

    to_authorisation(web_db, key)
    login(web_client)
    response = web_client.get(f"/changes/{key}?edit=change-set", follow_redirects=True)
    assert "its change set can be edited only in registration or assessment" in \
        response.get_data(as_text=True)


# The calendar


def test_calendar_shows_windows_of_the_month_and_navigates(web_client: FlaskClient,
                                                           web_db: Database) -> None:
    key = register(web_db, title="April window", planned_start=at("2026-04-14", 18),
                   planned_end=at("2026-04-14", 22))
    login(web_client)

    html = web_client.get("/changes/calendar?month=2026-04").get_data(as_text=True)
    may = web_client.get("/changes/calendar?month=2026-05").get_data(as_text=True)

    assert "Windows in April 2026" in html
    assert re.search(rf'<span class="entry-time">18:00</span> {key}</a>', html)
    assert 'href="/changes/calendar?month=2026-03"' in html
    assert 'href="/changes/calendar?month=2026-05"' in html
    assert key not in may and "No change has a window planned in May 2026" in may
    assert web_client.get("/changes/calendar?month=2026-13").status_code == 400


def test_implemented_change_shows_registered_keys_and_values_before(
        web_client: FlaskClient, web_db: Database) -> None:
    implement_normal_change(web_db, [laptop("a", "SN-1", owner="alice")], at("2026-01-10"))
    key = implement_normal_change(web_db, [{"op": "update_item", "item": "LAP-000001",
                                            "owner": "bob"}], at("2026-02-10"))
    login(web_client)
    html = web_client.get(f"/changes/{key}").get_data(as_text=True)

    assert "<del>alice</del>" in html and "<ins>bob</ins>" in html
    assert "compared with each item as it was just before" in html


@pytest.mark.parametrize("path", ["/changes", "/changes/new", "/changes/new/normal-change",
                                  "/changes/CHG-000001", "/changes/CHG-000001?edit=change-set",
                                  "/changes/calendar"])
def test_pages_have_no_inline_script_or_style(web_client: FlaskClient, web_db: Database,
                                             path: str) -> None:
    register(web_db)
    login(web_client)
    html = web_client.get(path).get_data(as_text=True)
    assert " style=" not in html and " onclick=" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)


def _statements(db: Database, client: FlaskClient, path: str) -> int:
    from sqlalchemy import event

    count = 0

    def counter(*_args: object) -> None:
        nonlocal count
        count += 1

    event.listen(db.engine, "before_cursor_execute", counter)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", counter)
    return count


def test_change_pages_issue_a_fixed_number_of_statements(web_client: FlaskClient,
                                                         web_db: Database) -> None:
    def add_changes(n: int) -> None:
        for i in range(n):
            key = register(web_db, [laptop(f"a{i}", f"SN-{i}-{n}")], when="2026-01-05",
                           planned_start=at("2026-01-10", 18), planned_end=at("2026-01-10", 20))
            changes.add_comment(web_db, "CHG-000001", "sam", f"comment {key}")

    add_changes(1)
    login(web_client)
    paths = ("/changes", "/changes?overdue=1&class=normal", "/changes/calendar?month=2026-01",
             "/changes/CHG-000001")
    few = {path: _statements(web_db, web_client, path) for path in paths}
    add_changes(6)
    many = {path: _statements(web_db, web_client, path) for path in paths}

    assert many == few


def test_outcome_is_asked_in_evaluation_and_lets_the_change_close(
        web_client: FlaskClient, web_db: Database) -> None:
    key = implement_normal_change(web_db, [laptop("a", "SN-1")], at("2026-01-10"))
    login(web_client)
    page = f"/changes/{key}"
    assert 'name="outcome"' not in web_client.get(page).get_data(as_text=True)
    changes.move_change(web_db, key, "evaluate", "carol")
    html = web_client.get(page).get_data(as_text=True)
    assert 'name="outcome"' in html and "record the outcome of the evaluation first" in html

    post(web_client, page, page + "/details", {
        "version": shown_version(web_client, page), "title": "Test change",
        "outcome": "successful"})
    closed = post(web_client, page, page + "/move", {
        "trigger": "close", "version": shown_version(web_client, page)}, follow=True)

    html = closed.get_data(as_text=True)
    assert f"{key} is now Closed (closed)." in html
    # The header and the details say the same outcome: the evaluation's.
    assert "Closed · Outcome: <strong>Successful</strong>" in html
    assert "<dt>Outcome</dt><dd>Successful</dd>" in html and 'class="done">Evaluation' in html


def test_implementing_outside_the_planned_window_is_warned_before(
        web_client: FlaskClient, web_db: Database) -> None:
    from tests.support.helpers import to_realisation

    key = register(web_db, when="2026-03-01")
    to_realisation(web_db, key, at("2026-03-01"))  # a window long past
    login(web_client)
    html = web_client.get(f"/changes/{key}").get_data(as_text=True)
    assert 'id="window-warning"' in html and "The planned window ended at" in html
    assert "implementing now is outside it." in html
    assert re.search(r'value="implement"[^>]*data-confirm="[^"]*This is outside its planned '
                     r'window\.', html) or re.search(
        r'data-confirm="[^"]*This is outside its planned window\.[^"]*"[^>]*>Implement', html)


DUTCH = {"Accept-Language": "nl"}


@pytest.mark.parametrize("typed", ["1.249,00", "1249,00", "1249.00"])
def test_amounts_are_read_in_the_pages_language_as_well_as_neutral(
        web_client: FlaskClient, web_db: Database, typed: str) -> None:
    login(web_client)
    page = "/changes/new/hardware-receipt"
    fresh = web_client.get(page, headers=DUTCH).get_data(as_text=True)
    assert re.search(r'name="create-0-currency" value="EUR"', fresh), "a real value, not a hint"
    response = web_client.post(page, headers=DUTCH, data={
        "csrf_token": csrf_token(web_client, page), "title": "Laptop", "source": "customer",
        "create-0-class": "hardware.laptop", "create-0-name": "Laptop L1",
        "create-0-purchase_cost": typed, "create-0-currency": "EUR",
        "create-0-attributes.cores": "8"})
    assert response.status_code == 302, response.get_data(as_text=True)
    [op] = changes.change_detail(web_db, "CHG-000001").operations
    assert op["fields"]["purchase_cost"] == "1249.00"


def test_an_amount_the_page_cannot_read_says_what_works_in_the_pages_language(
        web_client: FlaskClient, web_db: Database) -> None:
    login(web_client)
    page = "/changes/new/hardware-receipt"
    data = {"title": "Laptop", "source": "customer", "create-0-class": "hardware.laptop",
            "create-0-name": "Laptop L1", "create-0-purchase_cost": "1249,00",
            "create-0-currency": "EUR", "create-0-attributes.cores": "8"}
    english = post(web_client, page, page, data)
    assert english.status_code == 422
    assert error_next_to(english.get_data(as_text=True), "create-0-purchase_cost") == \
        "'1249,00' is not an amount: write it as 1,249.50 (or 1249.50)"
    dutch = web_client.post(page, headers=DUTCH, data={
        **data, "create-0-purchase_cost": "twaalf",
        "csrf_token": csrf_token(web_client, page)})
    assert dutch.status_code == 422
    assert error_next_to(dutch.get_data(as_text=True), "create-0-purchase_cost") == \
        "'twaalf' is geen bedrag: schrijf het als 1.249,50 (of 1249.50)"
    assert count_changes(web_db) == 0


def test_a_receipt_offers_how_the_class_depreciates_and_the_items_depreciate(
        web_client: FlaskClient, web_db: Database) -> None:
    login(web_client)
    page = "/changes/new/hardware-receipt"
    typed = {"title": "Laptop", "source": "customer", "create-0-class": "hardware.laptop",
             "create-0-name": "Laptop L1", "create-0-purchase_cost": "1200.00",
             "create-0-currency": "EUR", "create-0-acquired_on": "2026-01-05",
             "create-0-attributes.cores": "8"}
    shown = post(web_client, page, page, {**typed, "action": "refresh"}).get_data(as_text=True)
    assert re.search(r'name="create-0-depreciation_method"[^>]*>.*?<option value="straight_line"'
                     r' selected', shown, re.S), "the laptop class's straight line is offered"
    assert re.search(r'name="create-0-depreciation_months" value="36"', shown)
    assert 'name="create-0-in_service_on"' in shown
    offered = {"create-0-depreciation_method": "straight_line",
               "create-0-depreciation_months": "36", "create-0-offered_for": "hardware.laptop"}
    assert post(web_client, page, page, {**typed, **offered}).status_code == 302
    [op] = changes.change_detail(web_db, "CHG-000001").operations
    assert (op["fields"]["depreciation_method"], op["fields"]["depreciation_months"]) == \
        ("straight_line", 36)
