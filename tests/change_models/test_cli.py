"""``usm classes`` and ``usm definitions``: list, export, import (round trip), publish, and
refusals that store nothing. On SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from tests.support.helpers import at, implement_normal_change, laptop
from usm.cli import main
from usm.services import item_classes
from usm.services.change_models import change_model_detail
from usm.services.platform import Database


@pytest.fixture
def run(db_url: str):
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(main, list(args), env={"USM_DATABASE_URL": db_url})

    return invoke


@pytest.fixture
def database(db_url: str):
    db = Database.connect(db_url)
    yield db
    db.dispose()


def test_classes_list_shows_each_class_and_its_versions(run) -> None:
    result = run("classes", "list")
    assert result.exit_code == 0, result.output
    line = next(line for line in result.output.splitlines() if line.startswith("hardware.laptop "))
    assert "Laptop" in line and "1 published" in line


def test_classes_export_then_import_round_trip(run, database: Database, tmp_path: Path) -> None:
    exported = tmp_path / "laptop.yaml"
    assert run("classes", "export", "hardware.laptop", "-o", str(exported)).exit_code == 0
    spec = yaml.safe_load(exported.read_text(encoding="utf-8"))
    assert spec["code"] == "hardware.laptop" and spec["key_prefix"] == "LAP"
    spec["attributes"].append({"name": "dock", "type": "boolean"})
    exported.write_text(yaml.safe_dump(spec), encoding="utf-8")

    imported = run("classes", "import", str(exported), "--publish")

    assert imported.exit_code == 0, imported.output
    assert imported.output.strip() == "hardware.laptop v2: published"
    again = yaml.safe_load(run("classes", "export", "hardware.laptop").output)
    assert again["attributes"][:-1] == spec["attributes"][:-1]
    assert again["attributes"][-1] == {"name": "dock", "type": "boolean"}
    assert item_classes.class_version(database, "hardware.laptop", 1).status == "superseded"


def test_classes_import_of_a_list_is_all_or_nothing(run, database: Database,
                                                    tmp_path: Path) -> None:
    file = tmp_path / "gadgets.yaml"
    file.write_text("classes:\n"
                    "  - {code: gadget, name: Gadget, key_prefix: GAD, abstract: true}\n"
                    "  - code: gadget.phone\n    name: Phone\n    key_prefix: PHO\n"
                    "    attributes: [{name: imei, label: IMEI}]\n", encoding="utf-8")
    broken = tmp_path / "broken.yaml"
    broken.write_text(file.read_text(encoding="utf-8").replace("label: IMEI", "type: float"),
                      encoding="utf-8")

    refused = run("classes", "import", str(broken), "--publish")
    assert refused.exit_code == 1
    assert "class gadget.phone, attribute 'imei': unknown type 'float'" in refused.output
    assert "gadget" not in {c.code for c in item_classes.list_classes(database)}

    done = run("classes", "import", str(file), "--publish")
    assert done.exit_code == 0, done.output
    assert done.output.splitlines() == ["gadget v1: published", "gadget.phone v1: published"]


def test_classes_import_refuses_a_type_the_register_does_not_fit(run, database: Database,
                                                                 tmp_path: Path) -> None:
    implement_normal_change(database, [laptop("a", "SN-1", attributes={"cpu": "i7"})],
                            at("2026-03-02"))
    spec = yaml.safe_load(run("classes", "export", "hardware.laptop").output)
    spec["attributes"][0]["type"] = "integer"
    file = tmp_path / "laptop.yaml"
    file.write_text(yaml.safe_dump(spec), encoding="utf-8")

    result = run("classes", "import", str(file))

    assert result.exit_code == 1
    assert "attribute 'cpu': 1 item holds a value that is not integer" in result.output
    assert [v.version for v in
            item_classes.class_version(database, "hardware.laptop", 1).versions] == [1]


def test_definitions_export_import_and_publish(run, database: Database, tmp_path: Path) -> None:
    assert "normal-change" in run("definitions", "list").output
    file = tmp_path / "normal.yaml"
    assert run("definitions", "export", "normal-change", "-o", str(file)).exit_code == 0

    draft = run("definitions", "import", str(file))
    assert draft.output.strip() == "normal-change v2: draft"
    published = run("definitions", "publish", "normal-change", "2")
    assert published.output.strip() == "normal-change v2: published"
    assert change_model_detail(database, "normal-change", 2).status == "published"

    again = run("definitions", "publish", "normal-change", "2")
    assert again.exit_code == 1 and "only a draft is published" in again.output
    assert run("definitions", "import", str(file), "--publish").output.strip() == \
        "normal-change v3: published"


def test_definitions_import_refuses_a_broken_model(run, tmp_path: Path) -> None:
    file = tmp_path / "broken.yaml"
    file.write_text("code: broken\nname: Broken\n", encoding="utf-8")
    result = run("definitions", "import", str(file))
    assert result.exit_code == 1 and "refused, nothing stored" in result.output
    assert "broken" not in run("definitions", "list").output
