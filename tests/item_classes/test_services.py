"""Versions of an item class at the service layer: drafts, publishing (then immutable, the class
row the register reads updated with it), retiring, the comparison with the published version,
every refusal naming the class and attribute, and an attribute removed from a class keeping its
history. Items are built through the change engine. On SQLite and PostgreSQL."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from sqlalchemy import select

from bir.class_versions import ItemClassVersion
from bir.classes import ClassCatalogue, ItemClass
from bir.errors import ValidationFailed
from tests.support.helpers import at, implement_normal_change, laptop, normal_change_in_realisation
from usm.services import changes, item_classes, register
from usm.services.item_classes import ClassDefinitionError, diff_against_published
from usm.services.platform import Database

BY = "dora"


def _laptop_spec(db: Database) -> dict[str, Any]:
    view = item_classes.class_version(db, "hardware.laptop", 1)
    return copy.deepcopy(view.spec.model_dump(mode="json", exclude_none=True))


def _publish_laptop(db: Database, spec: dict[str, Any]) -> int:
    draft = item_classes.draft_from(db, "hardware.laptop", 1, by=BY)
    item_classes.update_draft(db, "hardware.laptop", draft.version, spec)
    item_classes.publish(db, "hardware.laptop", draft.version, by=BY)
    return draft.version


def _two_laptops(db: Database) -> None:
    implement_normal_change(db, [
        laptop("a", "SN-A", attributes={"cpu": "i7", "cores": 4, "screen_inches": "14"}),
        laptop("b", "SN-B", attributes={"cpu": "8", "cores": 8}),
    ], at("2026-03-02"))


def test_setup_installs_version_one_of_every_shipped_class_as_published(db: Database) -> None:
    with db.reading() as session:
        rows = session.scalars(select(ItemClassVersion)).all()
        projected = set(session.scalars(select(ItemClass.code)))
    assert {r.code for r in rows} == projected
    assert {(r.version, r.status, r.created_by) for r in rows} == {(1, "published", "setup")}
    listed = {c.code: c for c in item_classes.list_classes(db)}
    assert listed["hardware.laptop"].published_version == 1
    assert listed["hardware.laptop"].parent_code == "hardware"


def test_publishing_a_draft_updates_the_class_and_supersedes_the_old_version(
        db: Database) -> None:
    spec = _laptop_spec(db)
    spec["name"] = "Notebook"
    spec["attributes"].append({"name": "dock", "label": "Docking station", "type": "boolean"})
    draft = item_classes.draft_from(db, "hardware.laptop", 1, by=BY)
    item_classes.update_draft(db, "hardware.laptop", draft.version, spec)

    with db.reading() as session:  # a draft changes nothing the register reads
        assert "dock" not in ClassCatalogue.load(session).specs("hardware.laptop")
    diff = diff_against_published(db, "hardware.laptop", draft.version)
    assert diff.base_version == 1
    assert "name changed: Laptop → Notebook" in diff.changes
    assert "attribute 'dock' added" in diff.changes
    assert any(line.startswith("+") and "dock" in line for line in diff.unified)

    item_classes.publish(db, "hardware.laptop", draft.version, by=BY)

    with db.reading() as session:
        catalogue = ClassCatalogue.load(session)
        assert catalogue.get("hardware.laptop").name == "Notebook"
        assert catalogue.specs("hardware.laptop")["dock"].label == "Docking station"
    statuses = {v.version: v.status for v in
                item_classes.class_version(db, "hardware.laptop", 2).versions}
    assert statuses == {1: "superseded", 2: "published"}


@pytest.mark.parametrize("status_of", ["published", "superseded"])
def test_a_published_or_superseded_version_never_changes(db: Database, status_of: str) -> None:
    spec = _laptop_spec(db)
    if status_of == "superseded":
        _publish_laptop(db, spec)
    spec["name"] = "Changed"

    with pytest.raises(item_classes.ClassVersionRefused, match=f"v1 is {status_of}: only a draft"):
        item_classes.update_draft(db, "hardware.laptop", 1, spec)
    with pytest.raises(item_classes.ClassVersionRefused, match="only a draft is published"):
        item_classes.publish(db, "hardware.laptop", 1, by=BY)
    assert item_classes.class_version(db, "hardware.laptop", 1).spec.name == "Laptop"


def test_a_new_subclass_from_yaml_is_usable_once_published(db: Database) -> None:
    source = """
code: hardware.tablet
name: Tablet
key_prefix: TAB
attributes:
  - {name: stylus, label: Stylus, type: boolean}
  - {name: screen_inches, label: Screen, type: decimal, unit: inch}
"""
    saved = item_classes.save_new_draft(db, source, by=BY)
    assert (saved.code, saved.version, saved.status) == ("hardware.tablet", 1, "draft")
    assert diff_against_published(db, "hardware.tablet", 1).changes == [
        "a new class: nothing is published yet"]

    item_classes.publish(db, "hardware.tablet", 1, by=BY)
    implement_normal_change(db, [{"op": "create_item", "class": "hardware.tablet",
                                  "name": "Tablet 1", "attributes": {"stylus": "yes",
                                                                     "memory_gb": 8}}],
                            at("2026-03-02"))

    found = register.search_items(db, register.search_query({"class": "hardware.tablet"}))
    assert [row.key for row in found.rows] == ["TAB-000001"]
    view = item_classes.class_version(db, "hardware.tablet", 1)
    assert ("memory_gb", "Memory", "hardware") in view.inherited
    assert view.item_count == 1


def _with(spec: dict[str, Any], **attribute: Any) -> dict[str, Any]:
    spec["attributes"].append(attribute)
    return spec


# (edit of the laptop class, words the refusal must hold)
REFUSALS = [
    (lambda s: _with(s, name="Bad Name"), "class hardware.laptop, attribute 'Bad Name': name"),
    (lambda s: _with(s, name="cpu"), "attribute 'cpu': defined twice (rows 1 and 5)"),
    (lambda s: _with(s, name="memory_gb", type="integer"),
     "attribute 'memory_gb': clashes with the attribute inherited from hardware"),
    (lambda s: _with(s, name="serial_number"),
     "attribute 'serial_number': clashes with the item field 'serial_number'"),
    (lambda s: _with(s, name="weight", type="float"), "attribute 'weight': unknown type 'float'"),
    (lambda s: _with(s, name="ports", type="integer", allowed=["1", "2"]),
     "attribute 'ports': allowed values apply only to string attributes, not to integer"),
    (lambda s: _with(s, name="colour", allowed=[]),
     "attribute 'colour': allowed values must be a non-empty list"),
    (lambda s: _with(s, name="touch", type="boolean", unit="kg"),
     "attribute 'touch': a unit applies only to integer or decimal attributes, not to boolean"),
    (lambda s: _with(s, name="colour", default="black"),
     "attribute 'colour': 'default' is not a property of an attribute"),
    (lambda s: {**s, "key_prefix": "lap"}, "class hardware.laptop: key prefix 'lap' must be"),
    (lambda s: {**s, "key_prefix": "CHG"}, "class hardware.laptop: key prefix CHG is the changes'"),
    (lambda s: {**s, "colour": "red"}, "class hardware.laptop: 'colour' is not a field of a class"),
]


@pytest.mark.parametrize(("edit", "expected"), REFUSALS)
def test_a_refused_definition_stores_nothing_and_names_class_and_attribute(
        db: Database, edit: Any, expected: str) -> None:
    draft = item_classes.draft_from(db, "hardware.laptop", 1, by=BY)

    with pytest.raises(ClassDefinitionError) as refused:
        item_classes.update_draft(db, "hardware.laptop", draft.version, edit(_laptop_spec(db)))

    assert any(expected in problem for problem in refused.value.problems), refused.value.problems
    assert item_classes.class_version(db, "hardware.laptop", draft.version).spec == \
        item_classes.class_version(db, "hardware.laptop", 1).spec


def test_an_attribute_a_subclass_defines_cannot_be_added_to_its_parent(db: Database) -> None:
    spec = item_classes.class_version(db, "hardware", 1).spec.model_dump(mode="json")
    spec["attributes"].append({"name": "cpu"})

    with pytest.raises(ClassDefinitionError, match="attribute 'cpu': its subclass hardware.\\w+ "
                                                   "already defines it"):
        item_classes.save_new_draft(db, spec, by=BY)


def test_a_subclass_needs_a_published_parent(db: Database) -> None:
    with pytest.raises(ClassDefinitionError,
                       match="class gadget.phone: its parent class gadget is not published"):
        item_classes.save_new_draft(db, "code: gadget.phone\nname: Phone\nkey_prefix: PHO\n", by=BY)


def test_changes_the_items_do_not_fit_are_refused_with_a_count_and_an_example(
        db: Database) -> None:
    _two_laptops(db)
    cases = [
        ({"key_prefix": "NB"}, "class hardware.laptop: the key prefix cannot change from LAP to "
                               "NB: 2 items of the class carry their key (e.g. LAP-000001)"),
        ({"abstract": True}, "class hardware.laptop: cannot be abstract: 2 items are of this "
                             "class itself (e.g. LAP-000001)"),
    ]
    for change, expected in cases:
        with pytest.raises(ClassDefinitionError) as refused:
            item_classes.save_new_draft(db, {**_laptop_spec(db), **change}, by=BY)
        assert any(p.startswith(expected) for p in refused.value.problems), refused.value

    spec = _laptop_spec(db)
    cpu = next(a for a in spec["attributes"] if a["name"] == "cpu")
    cpu["type"] = "integer"
    with pytest.raises(ClassDefinitionError) as refused:
        item_classes.save_new_draft(db, spec, by=BY)
    assert refused.value.problems == [
        "class hardware.laptop, attribute 'cpu': 1 item holds a value that is not integer "
        "(e.g. LAP-000001: 'i7'); change those items first"]

    spec = _laptop_spec(db)
    screen = next(a for a in spec["attributes"] if a["name"] == "screen_inches")
    screen["required"] = True
    with pytest.raises(ClassDefinitionError, match="attribute 'screen_inches': cannot be "
                                                   "required: 1 item lacks it \\(e.g. LAP-000002\\)"):
        item_classes.save_new_draft(db, spec, by=BY)

    spec = _laptop_spec(db)
    cores = next(a for a in spec["attributes"] if a["name"] == "cores")
    cores["type"] = "decimal"  # every whole number is a decimal: accepted
    assert item_classes.save_new_draft(db, spec, by=BY).status == "draft"


def test_a_draft_checked_when_saved_is_checked_again_when_published(db: Database) -> None:
    spec = _laptop_spec(db)
    next(a for a in spec["attributes"] if a["name"] == "cpu")["required"] = True
    draft = item_classes.save_new_draft(db, spec, by=BY)
    implement_normal_change(db, [laptop("a", "SN-A")], at("2026-03-02"))

    with pytest.raises(ClassDefinitionError, match="'cpu': cannot be required: 1 item lacks it"):
        item_classes.publish(db, "hardware.laptop", draft.version, by=BY)
    assert item_classes.class_version(db, "hardware.laptop", draft.version).status == "draft"


def test_a_removed_attribute_keeps_its_history_and_can_only_be_cleared(db: Database) -> None:
    _two_laptops(db)
    spec = _laptop_spec(db)
    spec["attributes"] = [a for a in spec["attributes"] if a["name"] != "screen_inches"]
    draft = item_classes.save_new_draft(db, spec, by=BY)
    diff = diff_against_published(db, "hardware.laptop", draft.version)
    assert ("attribute 'screen_inches' removed (1 item(s) keep their value, shown as no longer "
            "in the class until a change clears it)") in diff.changes
    item_classes.publish(db, "hardware.laptop", draft.version, by=BY)

    view = register.item_view(db, "LAP-000001")
    assert ("screen_inches", "Screen (no longer in the class)", "14", None) in view.attributes

    with pytest.raises(ValidationFailed) as refused:
        changes.register_change(db, "carol", model="normal-change", title="Bigger screen",
                                operations=[{"op": "update_item", "item": "LAP-000001",
                                             "attributes": {"screen_inches": "15"}}])
    assert "operations[0].attributes.screen_inches: class hardware.laptop has no attribute " \
           "'screen_inches'" in str(refused.value)

    implement_normal_change(db, [{"op": "update_item", "item": "LAP-000001",
                                  "attributes": {"screen_inches": None}}], at("2026-03-09"))

    assert "screen_inches" not in {a[0] for a in register.item_view(db, "LAP-000001").attributes}
    as_of = register.item_view(db, "LAP-000001", as_of=at("2026-03-05"))
    assert ("screen_inches", "Screen (no longer in the class)", "14", None) in as_of.attributes
    assert register.item_view(db, "LAP-000001").attribute_labels["screen_inches"] == \
        "Screen (no longer in the class)"


def test_a_change_registered_before_a_class_change_is_checked_again_at_implementation(
        db: Database) -> None:
    """Decision: a change set fits the class as published when it is implemented."""
    _two_laptops(db)
    key = normal_change_in_realisation(db, [{"op": "update_item", "item": "LAP-000002",
                                             "attributes": {"screen_inches": "13.3"}}],
                                       at("2026-03-03"))
    spec = _laptop_spec(db)
    spec["attributes"] = [a for a in spec["attributes"] if a["name"] != "screen_inches"]
    _publish_laptop(db, spec)

    with pytest.raises(ValidationFailed, match="screen_inches: class hardware.laptop has no "
                                               "attribute 'screen_inches'"):
        changes.move_change(db, key, "implement", "carol", now=at("2026-03-04"))
    assert "screen_inches" not in dict(
        (a[0], a[2]) for a in register.item_view(db, "LAP-000002").attributes)


def test_retiring_a_draft_and_an_unused_class(db: Database) -> None:
    draft = item_classes.draft_from(db, "hardware.laptop", 1, by=BY)
    item_classes.retire(db, "hardware.laptop", draft.version)
    assert item_classes.class_version(db, "hardware.laptop", draft.version).status == "retired"
    with pytest.raises(item_classes.ClassVersionRefused, match="is retired: only a draft changes"):
        item_classes.update_draft(db, "hardware.laptop", draft.version, _laptop_spec(db))

    item_classes.save_new_draft(db, "code: hardware.pager\nname: Pager\nkey_prefix: PAG\n", by=BY)
    item_classes.publish(db, "hardware.pager", 1, by=BY)
    item_classes.retire(db, "hardware.pager", 1)
    with db.reading() as session:
        assert session.get(ItemClass, "hardware.pager") is None


def test_a_class_in_use_is_not_retired(db: Database) -> None:
    _two_laptops(db)
    with pytest.raises(item_classes.ClassVersionRefused,
                       match="hardware.laptop v1 is not retired: 2 item version"):
        item_classes.retire(db, "hardware.laptop", 1)
    with pytest.raises(item_classes.ClassVersionRefused, match="its subclass hardware.\\w+ is "
                                                          "published"):
        item_classes.retire(db, "hardware", 1)
    with db.reading() as session:
        assert session.get(ItemClass, "hardware.laptop") is not None


def test_unknown_versions_are_not_found(db: Database) -> None:
    for code, version in (("hardware.laptop", 99), ("nothing", 1), ("hardware.laptop", 2**40)):
        with pytest.raises(item_classes.ClassNotFound):
            item_classes.class_version(db, code, version)


def test_the_migration_backfills_version_one_of_each_existing_class(db_url: str) -> None:
    from alembic import command
    from sqlalchemy import inspect

    from usm.db import alembic_config, upgrade

    database = Database.connect(db_url)
    try:
        with database.transaction() as session:  # a class edited before versions existed
            session.get(ItemClass, "hardware.laptop").description = "Portable computers"
        command.downgrade(alembic_config(db_url), "0005")
        assert "bir_item_class_version" not in inspect(database.engine).get_table_names()
        upgrade(db_url)
        with database.reading() as session:
            rows = session.scalars(select(ItemClassVersion)).all()
            count = len(session.scalars(select(ItemClass.code)).all())
        assert len(rows) == count
        assert {(r.version, r.status) for r in rows} == {(1, "published")}
        laptop_v1 = item_classes.class_version(database, "hardware.laptop", 1)
        assert laptop_v1.spec.description == "Portable computers"
        assert "keyboard_layout" in {a.name for a in laptop_v1.spec.attributes}
    finally:
        database.dispose()


def test_a_class_offers_how_its_items_depreciate_and_its_subclasses_inherit_it(
        db: Database) -> None:
    from bir.classes import ClassCatalogue
    from usm.services.item_classes import class_record, form_of

    with db.reading() as session:
        catalogue = ClassCatalogue.load(session)
        assert (catalogue.depreciation("hardware.laptop").method.value,
                catalogue.depreciation("hardware.laptop").months) == ("straight_line", 36)
        assert catalogue.depreciation("hardware.server").months == 60  # from hardware
        assert catalogue.depreciation("software.installation") is None
    # The designer's form keeps it (and a bad one is refused by name).
    form = form_of("hardware.laptop", {"name": "Laptop", "key_prefix": "LAP",
                                       "depreciation_method": "declining_balance",
                                       "depreciation_months": "48"}, [])
    assert class_record(form)["depreciation"] == {"method": "declining_balance", "months": 48}
    draft = item_classes.draft_from(db, "hardware.laptop", 1, by="pat")
    source = item_classes.version_yaml(db, "hardware.laptop", draft.version)
    with pytest.raises(item_classes.ClassDefinitionError, match="depreciation months must be a whole "
                                                            "number from 1 to 600"):
        item_classes.update_draft(db, "hardware.laptop", draft.version, source.replace(
            "months: 36", "months: 0"))
