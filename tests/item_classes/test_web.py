"""The process designer's item-class screens over HTTP: the class list, a version's page, a new
draft, the structured form (add, change and remove rows) and the YAML editor with the validation
error matrix, the comparison, publish (then immutable), retire, import/export; and the register's
item page showing a value whose attribute was removed from the class."""

from __future__ import annotations

import html
from typing import Any

import pytest
import yaml
from flask.testing import FlaskClient

from tests.item_classes.test_services import REFUSALS, _laptop_spec
from tests.support.helpers import at, implement_normal_change, laptop
from tests.support.web import csrf_token, login, post_form
from usm.services import item_classes
from usm.services.platform import Database

PAGE = "/designer/classes/hardware.laptop/1"
EDIT = "/designer/classes/hardware.laptop/2/edit"


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.get_data(as_text=True))


def _new_draft(client: FlaskClient) -> None:
    login(client, "pat")
    response = post_form(client, PAGE, f"{PAGE}/new-draft", {})
    assert response.status_code == 302 and response.headers["Location"] == EDIT


def _form(spec: dict[str, Any], **extra: str) -> dict[str, str]:
    values = {"name": spec["name"], "key_prefix": spec["key_prefix"]}
    for i, a in enumerate(spec["attributes"]):
        values.update({f"attr-{i}-name": a["name"], f"attr-{i}-label": a.get("label", ""),
                       f"attr-{i}-type": a.get("type", "string"),
                       f"attr-{i}-allowed": ", ".join(a.get("allowed") or []),
                       f"attr-{i}-unit": a.get("unit", "")})
        if a.get("required"):
            values[f"attr-{i}-required"] = "on"
    values.update(extra)
    return values


@pytest.mark.parametrize("path", ["/designer/classes", PAGE, f"{PAGE}/edit", f"{PAGE}/diff",
                                  f"{PAGE}.yaml", "/designer/classes/import"])
@pytest.mark.parametrize("user", ["carol", "sam", "ada"])
def test_only_designers_open_the_class_pages(web_client: FlaskClient, user: str,
                                             path: str) -> None:
    login(web_client, user)
    assert web_client.get(path).status_code == 403


@pytest.mark.parametrize("action", ["new-draft", "publish", "retire", "edit", "form"])
def test_only_designers_change_class_versions(web_client: FlaskClient, web_db: Database,
                                              action: str) -> None:
    login(web_client, "carol")
    response = web_client.post(f"{PAGE}/{action}", data={"csrf_token": csrf_token(web_client, "/"),
                                                         "source": "code: x"})
    assert response.status_code == 403
    assert [v.status for v in item_classes.class_version(web_db, "hardware.laptop", 1).versions] == \
        ["published"]


def test_the_list_and_a_version_page_show_versions_attributes_and_yaml(
        web_client: FlaskClient) -> None:
    login(web_client, "pat")
    listing = _text(web_client.get("/designer/classes"))
    assert "Laptop" in listing and "hardware.laptop" in listing and "Item classes" in listing
    page = _text(web_client.get(PAGE))
    assert "<code>keyboard_layout</code>" in page and "us, uk, nl, de, fr, be" in page
    assert "<code>memory_gb</code> Memory" in page and "<code>hardware</code>" in page  # inherited
    assert "key_prefix: LAP" in page
    assert "Item classes" in _text(web_client.get("/designer/definitions"))


def test_the_form_adds_changes_and_removes_rows_and_publish_makes_it_immutable(
        web_client: FlaskClient, web_db: Database) -> None:
    _new_draft(web_client)
    spec = _laptop_spec(web_db)
    rows = len(spec["attributes"])
    values = _form(spec, **{"attr-0-label": "CPU model", "attr-3-remove": "on",
                            f"attr-{rows}-name": "dock", f"attr-{rows}-type": "boolean"})

    saved = post_form(web_client, EDIT, "/designer/classes/hardware.laptop/2/form", values)

    assert saved.status_code == 302
    spec2 = item_classes.class_version(web_db, "hardware.laptop", 2).spec
    assert [a.name for a in spec2.attributes] == ["cpu", "cores", "screen_inches", "dock"]
    assert spec2.attributes[0].label == "CPU model"
    diff = _text(web_client.get("/designer/classes/hardware.laptop/2/diff"))
    assert "attribute 'keyboard_layout' removed" in diff and "attribute 'dock' added" in diff

    published = post_form(web_client, EDIT, "/designer/classes/hardware.laptop/2/publish", {})
    assert published.headers["Location"] == "/designer/classes/hardware.laptop/2"
    assert "Version 2 is published" in _text(web_client.get(published.headers["Location"]))

    refused = post_form(web_client, "/designer/classes/hardware.laptop/2",
                        "/designer/classes/hardware.laptop/2/edit",
                        {"source": yaml.safe_dump(_laptop_spec(web_db))})
    assert refused.status_code == 409
    assert "v2 is published: only a draft changes" in _text(refused)
    assert item_classes.class_version(web_db, "hardware.laptop", 1).status == "superseded"


@pytest.mark.parametrize(("edit", "expected"), REFUSALS)
def test_the_yaml_editor_shows_each_problem_and_keeps_the_text(
        web_client: FlaskClient, web_db: Database, edit: Any, expected: str) -> None:
    _new_draft(web_client)
    source = yaml.safe_dump(edit(_laptop_spec(web_db)), sort_keys=False)

    response = post_form(web_client, EDIT, EDIT, {"source": source})

    assert response.status_code == 422
    page = _text(response)
    assert "Not saved:" in page and expected in page
    assert source.splitlines()[0] in page  # the typed text is kept in the editor
    assert item_classes.class_version(web_db, "hardware.laptop", 2).spec == \
        item_classes.class_version(web_db, "hardware.laptop", 1).spec


def test_a_form_row_with_a_bad_type_change_is_named_and_nothing_saved(
        web_client: FlaskClient, web_db: Database) -> None:
    implement_normal_change(web_db, [laptop("a", "SN-1", attributes={"cpu": "i5"})],
                            at("2026-03-02"))
    _new_draft(web_client)
    values = _form(_laptop_spec(web_db), **{"attr-0-type": "integer"})

    response = post_form(web_client, EDIT, "/designer/classes/hardware.laptop/2/form", values)

    assert response.status_code == 422
    assert "attribute 'cpu': 1 item holds a value that is not integer (e.g. LAP-000001: 'i5')" \
        in _text(response)
    assert 'name="attr-0-type"' in _text(response)


def test_import_a_new_subclass_export_it_and_retire_the_draft(web_client: FlaskClient) -> None:
    login(web_client, "pat")
    source = "code: hardware.tablet\nname: Tablet\nkey_prefix: TAB\nattributes:\n" \
             "  - {name: stylus, type: boolean}\n"
    imported = post_form(web_client, "/designer/classes/import", "/designer/classes/import",
                         {"source": source})
    assert imported.headers["Location"] == "/designer/classes/hardware.tablet/1/edit"

    exported = web_client.get("/designer/classes/hardware.tablet/1.yaml")
    assert exported.headers["Content-Disposition"] == \
        'attachment; filename="hardware.tablet-v1.yaml"'
    assert yaml.safe_load(exported.get_data(as_text=True))["attributes"] == [
        {"name": "stylus", "type": "boolean"}]

    bad = post_form(web_client, "/designer/classes/import", "/designer/classes/import",
                    {"source": "code: gadget.x\nname: X\nkey_prefix: GX\n"})
    assert bad.status_code == 422
    assert "its parent class gadget is not published" in _text(bad)

    retired = post_form(web_client, "/designer/classes/hardware.tablet/1",
                        "/designer/classes/hardware.tablet/1/retire", {})
    assert "Version 1 is retired" in _text(web_client.get(retired.headers["Location"]))


def test_the_item_page_shows_a_removed_attribute_as_no_longer_in_the_class(
        web_client: FlaskClient, web_db: Database) -> None:
    implement_normal_change(web_db, [laptop("a", "SN-1", attributes={"keyboard_layout": "nl"})],
                            at("2026-03-02"))
    spec = _laptop_spec(web_db)
    spec["attributes"] = [a for a in spec["attributes"] if a["name"] != "keyboard_layout"]
    draft = item_classes.save_new_draft(web_db, spec, by="pat")
    item_classes.publish(web_db, "hardware.laptop", draft.version, by="pat")
    implement_normal_change(web_db, [{"op": "update_item", "item": "LAP-000001",
                                      "attributes": {"keyboard_layout": None}}],
                            at("2026-03-09"))
    login(web_client, "sam")

    then = _text(web_client.get("/items/LAP-000001?as_of=2026-03-05"))
    now = _text(web_client.get("/items/LAP-000001"))

    assert "<dt>Keyboard layout (no longer in the class)</dt><dd>nl</dd>" in then
    assert "Keyboard layout (no longer in the class)" not in now.split("History")[0]
    assert "Keyboard layout (no longer in the class)" in now  # the history names the old value
