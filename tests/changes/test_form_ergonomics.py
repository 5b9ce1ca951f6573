"""Change forms that respect the user's time (issue 23, point 8): alike items from one row (a
copy, or one row per pasted serial number, expanded by the server so the form works without
script), what the class and the model offer pre-filled, a change page whose main action is the
move forward and whose blocked moves lead to the field that fixes them, and a step log in labels."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from werkzeug.datastructures import MultiDict

from tests.changes.test_web import count_changes, error_next_to, post, register
from tests.support.helpers import laptop
from tests.support.web import login
from usm.services import changes
from usm.services.changes import rows_from_form
from usm.services.platform import Database
from web.changes.pages import DEFAULT_ROWS, MAX_ROWS

RECEIPT = "/changes/new/hardware-receipt"
ONE_LAPTOP = {
    "title": "Three laptops for the service desk", "source": "customer", "coordinator": "carol",
    "fields.purchase_order": "PO-2026-0815", "create_rows": "3",
    "create-0-class": "hardware.laptop", "create-0-name": "Service desk laptop",
    "create-0-manufacturer": "HP", "create-0-model": "EliteBook 840 G11",
    "create-0-asset_tag": "AT-1", "create-0-purchase_cost": "1249.50",
    "create-0-currency": "EUR", "create-0-status": "in_stock",
}


def _input_value(html: str, name: str) -> str | None:
    match = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*value="([^"]*)"', html)
    return match.group(1) if match else None


def _created(html: str) -> list[str]:
    """The new-item rows the form shows, by index: their class inputs."""
    return re.findall(r'name="create-(\d+)-class"', html)


# Rows from pasted serial numbers, and copies


def test_pasted_serials_become_one_row_each_copying_the_rest() -> None:
    form = MultiDict({**ONE_LAPTOP, "create-0-serials": "5CD1001\n5CD1002, 5CD1003 ",
                      "create-1-currency": "EUR", "create-2-currency": "EUR"})

    rows = rows_from_form(form, DEFAULT_ROWS, MAX_ROWS)

    assert [r.get("serial_number") for r in rows.create] == ["5CD1001", "5CD1002", "5CD1003"]
    assert {r["manufacturer"] for r in rows.create} == {"HP"}
    assert {r["purchase_cost"] for r in rows.create} == {"1249.50"}
    # What identifies one item is not copied: the asset tag stays with the first.
    assert [r.get("asset_tag") for r in rows.create] == ["AT-1", None, None]
    assert rows.copied == [0] and rows.problems == []
    operations, _origins, _problems = rows.operations()
    assert [op["serial_number"] for op in operations] == ["5CD1001", "5CD1002", "5CD1003"]


def test_serials_after_a_typed_serial_add_rows_below_and_keep_the_rows_after() -> None:
    form = MultiDict({**ONE_LAPTOP, "create-0-serial_number": "5CD1000",
                      "create-0-serials": "5CD1001 5CD1002", "create-1-class": "hardware.desktop",
                      "create-1-name": "Desktop", "create_rows": "2"})

    rows = rows_from_form(form, DEFAULT_ROWS, MAX_ROWS)

    assert [(r.get("class"), r.get("serial_number")) for r in rows.create] == [
        ("hardware.laptop", "5CD1000"), ("hardware.laptop", "5CD1001"),
        ("hardware.laptop", "5CD1002"), ("hardware.desktop", None)]


def test_the_server_expands_serials_for_review_then_registers_the_rows(
        web_client: FlaskClient, web_db: Database) -> None:
    login(web_client)

    review = post(web_client, RECEIPT, RECEIPT, {
        **ONE_LAPTOP, "create-0-serials": "5CD2001\n5CD2002\n5CD2003", "action": "register"})
    html = review.get_data(as_text=True)

    assert review.status_code == 200 and count_changes(web_db) == 0  # shown, not registered
    assert [_input_value(html, f"create-{i}-serial_number") for i in range(3)] == [
        "5CD2001", "5CD2002", "5CD2003"]
    assert [_input_value(html, f"create-{i}-manufacturer") for i in range(3)] == ["HP"] * 3
    assert _created(html) == ["0", "1", "2"]  # the blank rows made room: ordered, unique
    assert 'name="create_rows" value="3"' in html

    fields = dict(re.findall(r'<input[^>]*name="((?:create-\d+-|fields\.|title)[^"]*)"'
                             r'[^>]*value="([^"]*)"', html))
    selected = dict(re.findall(r'<select[^>]*name="(create-\d+-[^"]+)"[^>]*>(?:(?!</select>).)*?'
                               r'<option value="([^"]+)" selected>', html, re.S))
    registered = post(web_client, RECEIPT, RECEIPT, {
        **fields, **selected, "source": "customer", "create_rows": "3", "action": "register"})
    assert registered.status_code == 302, registered.get_data(as_text=True)[:2000]
    detail = changes.change_detail(web_db, "CHG-000001")
    created = [op for op in detail.operations if op["op"] == "create_item"]
    assert sorted(op["fields"]["serial_number"] for op in created) == [
        "5CD2001", "5CD2002", "5CD2003"]
    assert {op["fields"]["status"] for op in created} == {"in_stock"}


def test_a_repeated_serial_or_too_many_is_refused_at_the_row(web_client: FlaskClient,
                                                            web_db: Database) -> None:
    login(web_client)
    twice = post(web_client, RECEIPT, RECEIPT, {
        **ONE_LAPTOP, "create-1-class": "hardware.laptop", "create-1-name": "Second",
        "create-1-serials": "5CD3001 5CD3002 5CD3001"})
    html = twice.get_data(as_text=True)
    assert twice.status_code == 422
    assert error_next_to(html, "create-1-serials") == (
        "lists 5CD3001 more than once: each serial is one item")
    assert "5CD3001 5CD3002 5CD3001" in html  # kept to correct

    many = post(web_client, RECEIPT, RECEIPT, {
        **ONE_LAPTOP, "create-0-serials": " ".join(f"S{n:03}" for n in range(MAX_ROWS + 1))})
    assert many.status_code == 422
    assert "at most 60 fit in one form" in error_next_to(many.get_data(as_text=True),
                                                          "create-0-serials")
    assert count_changes(web_db) == 0


def test_copy_button_duplicates_a_row_without_what_identifies_the_item(
        web_client: FlaskClient, web_db: Database) -> None:
    login(web_client)
    response = post(web_client, RECEIPT, RECEIPT, {
        **ONE_LAPTOP, "create-0-serial_number": "5CD4001", "create-0-ref": "lap1",
        "create-0-hostname": "sd-lap-1", "action": "copy-create-0"})
    html = response.get_data(as_text=True)

    assert response.status_code == 200 and count_changes(web_db) == 0
    assert _input_value(html, "create-1-manufacturer") == "HP"
    assert _input_value(html, "create-1-purchase_cost") == "1249.50"
    for unique in ("serial_number", "ref", "hostname", "asset_tag"):
        assert _input_value(html, f"create-1-{unique}") == "", unique
    assert _input_value(html, "create-0-serial_number") == "5CD4001"
    assert 'value="copy-create-1"' in html and 'name="create-1-serials"' in html


# Defaults from the class and the model


def test_the_form_spec_offers_currency_status_and_the_class_depreciation(
        web_client: FlaskClient, web_db: Database) -> None:
    spec = changes.form_spec(web_db, "hardware-receipt")
    assert spec.new_item == {"currency": "EUR", "status": "in_stock"}
    laptop_class = spec.klass("hardware.laptop")
    assert laptop_class is not None
    assert (laptop_class.depreciation_method, laptop_class.depreciation_months) == (
        "straight_line", 36)
    assert "status" not in changes.form_spec(web_db, "normal-change").new_item

    login(web_client)
    blank = web_client.get(RECEIPT).get_data(as_text=True)
    assert re.search(r'name="create-0-status"[^>]*>.*?<option value="in_stock" selected>',
                     blank, re.S)
    assert _input_value(blank, "create-0-currency") == "EUR"
    chosen = post(web_client, RECEIPT, RECEIPT, {
        "title": "x", "create-0-class": "hardware.laptop", "create_rows": "1",
        "action": "refresh"}).get_data(as_text=True)
    assert re.search(r'name="create-0-depreciation_method"[^>]*>.*?'
                     r'<option value="straight_line" selected>', chosen, re.S)
    assert _input_value(chosen, "create-0-depreciation_months") == "36"


# The change page: forward moves first and primary; blocked moves lead to the fix


def test_forward_moves_are_the_main_action_and_backward_ones_secondary(
        web_client: FlaskClient, web_db: Database) -> None:
    key = register(web_db)
    login(web_client)
    html = web_client.get(f"/changes/{key}").get_data(as_text=True)

    buttons = dict(re.findall(r'<button type="submit" name="trigger" value="(\w+)" '
                              r'class="([^"]*)"', html))
    assert buttons["assess"].split()[0] == "forward"
    assert "secondary outline" in buttons["reject"] and "forward" not in buttons["reject"]
    assert "secondary outline" in buttons["withdraw"]


def test_blocked_reasons_link_to_the_field_that_fixes_them(web_client: FlaskClient,
                                                           web_db: Database) -> None:
    key = register(web_db)
    changes.move_change(web_db, key, "assess", "carol")
    login(web_client)
    html = web_client.get(f"/changes/{key}").get_data(as_text=True)

    blocked = re.search(r'disabled class="outline">Submit for approval</button>(.*?)</li>',
                        html, re.S)
    assert blocked, "Submit for approval is not shown as blocked"
    assert "fill in risk, impact first" in blocked.group(1)
    links = re.findall(r'<a class="fix" href="([^"]+)">([^<]+)</a>', blocked.group(1))
    assert links == [(f"/changes/{key}?details=open#f-risk", "Risk"),
                     (f"/changes/{key}?details=open#f-impact", "Impact")]
    # The link opens the details form, where the field is.
    opened = web_client.get(f"/changes/{key}?details=open").get_data(as_text=True)
    assert '<details class="edit-panel" open>' in opened and 'id="f-impact"' in opened
    assert '<details class="edit-panel">' in html  # closed until asked for


def test_a_cost_or_window_or_approval_reason_names_its_field(web_client: FlaskClient,
                                                             web_db: Database) -> None:
    from workflows.guards import GUARDS, ApprovalsParams, NoParams  # the guards' own hints

    class Bare:
        planned_start = planned_end = cost_estimate = currency = outcome = None
        change_set_value: dict[str, str] = {}

        def current_approvals(self) -> list[object]:
            return []

    change = Bare()
    window = GUARDS["window_planned"].check(change, NoParams())  # type: ignore[arg-type]
    approvals = GUARDS["approvals"].check(change, ApprovalsParams(count=1))  # type: ignore[arg-type]
    outcome = GUARDS["outcome_recorded"].check(change, NoParams())  # type: ignore[arg-type]
    assert window == "plan the window (start and end) first"  # the text stays as it was
    assert getattr(window, "fields", ()) == ("planned_start",)
    assert getattr(approvals, "fields", ()) == ("approvals",)
    assert getattr(outcome, "fields", ()) == ("outcome",)


# The step log, in labels


def test_the_step_log_shows_labels_not_trigger_codes(web_client: FlaskClient,
                                                     web_db: Database) -> None:
    key = register(web_db, [laptop("a", "SN-LOG-1")], model="hardware-receipt",
                   fields={"purchase_order": "PO-1"})
    changes.move_change(web_db, key, "check_delivery", "carol")
    login(web_client)
    html = web_client.get(f"/changes/{key}").get_data(as_text=True)

    log = html[html.index('id="log-heading"'):]
    log = log[:log.index("</table>")]
    rows = re.findall(r'<tr data-trigger="(\w+)"><td class="at">.*?</td><td>carol</td>'
                      r'<td class="action">([^<]+)</td><td>([^<]+)</td><td>([^<]+) <small',
                      log, re.S)
    assert rows == [("register", "Registered", "—", "Delivery received"),
                    ("check_delivery", "Check delivery", "Delivery received",
                     "Checking delivery against order")]
    assert ">check_delivery<" not in log and ">received<" not in log
    assert 'class="table-scroll"><table class="list step-log">' in html


def test_editing_a_change_set_expands_pasted_serials_too(web_client: FlaskClient,
                                                        web_db: Database) -> None:
    key = register(web_db, [laptop("a", "SN-EDIT-1", manufacturer="Dell")],
                   model="hardware-receipt")
    login(web_client)
    page = f"/changes/{key}?edit=change-set"
    form = web_client.get(page).get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', form).group(1)

    review = post(web_client, page, f"/changes/{key}/change-set", {
        "version": version, "create_rows": "2", "create-0-class": "hardware.laptop",
        "create-0-name": "Laptop SN-EDIT-1", "create-0-serial_number": "SN-EDIT-1",
        "create-0-manufacturer": "Dell", "create-0-serials": "SN-EDIT-2, SN-EDIT-3",
        "action": "save"}).get_data(as_text=True)

    assert [_input_value(review, f"create-{i}-serial_number") for i in range(3)] == [
        "SN-EDIT-1", "SN-EDIT-2", "SN-EDIT-3"]
    assert [_input_value(review, f"create-{i}-manufacturer") for i in range(3)] == ["Dell"] * 3
    # Shown for review: the change set is not replaced yet.
    assert len(changes.change_detail(web_db, key).operations) == 1
