"""``usm change``: a change's own details and its model's fields set from the command line, and
shown as aligned label/value lines."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.support.helpers import laptop
from tests.support.hostile_yaml import alias_bomb
from usm.cli import main
from usm.services import changes
from usm.services.platform import Database


@pytest.fixture
def run(db_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    env = {"USM_DATABASE_URL": db_url, "USM_INSTANCE_PATH": str(tmp_path / "instance")}

    def invoke(*args: str, user: str = "carol") -> Result:
        return CliRunner().invoke(main, list(args), env={**env, "USM_USER": user},
                                  catch_exceptions=False)
    return invoke


@pytest.fixture
def receipt(db_url: str) -> str:
    db = Database.connect(db_url)
    try:
        return changes.register_change(
            db, "carol", model="hardware-receipt", title="Two laptops",
            operations=[laptop("a", "SN-1", purchase_cost="1249.50", currency="EUR",
                               status="in_stock")]).key
    finally:
        db.dispose()


def test_set_fills_in_the_models_own_fields_and_reads_moments_as_everywhere(
        run, receipt: str, db_url: str) -> None:  # type: ignore[no-untyped-def]
    done = run("change", "set", receipt, "purchase_order=PO-2026-7", "risk=low",
               "planned_start=2026-12-01T21:00+01:00", "planned_end=2026-12-01T22:00")
    assert done.exit_code == 0, done.output
    db = Database.connect(db_url)
    try:
        detail = changes.change_detail(db, receipt)
    finally:
        db.dispose()
    assert detail.fields["purchase_order"] == "PO-2026-7" and detail.risk == "low"
    assert detail.planned_start.isoformat() == "2026-12-01T20:00:00+00:00"
    assert detail.planned_end.isoformat() == "2026-12-01T22:00:00+00:00"

    unknown = run("change", "set", receipt, "horoscope=Leo")
    assert unknown.exit_code == 1 and "horoscope" in unknown.output
    bad_moment = run("change", "set", receipt, "planned_start=tomorrow")
    assert bad_moment.exit_code == 1 and "planned_start: 'tomorrow' is not a date" in bad_moment.output


def test_show_aligns_every_label_with_its_value(run, receipt: str) -> None:  # type: ignore[no-untyped-def]
    run("change", "set", receipt, "cost_estimate=1249.50", "currency=EUR", "purchase_order=PO-7")
    shown = run("change", "show", receipt).output
    facts = shown.split("\n\n")[0].splitlines()[1:]
    starts = {len(re.match(r"^\S+(?: \S+)*\s{2,}", line).group(0)) for line in facts}
    assert len(starts) == 1, facts  # every value starts in one column
    assert any(line.startswith("cost_estimate") and line.endswith("1249.50 EUR") for line in facts)
    assert any(line.startswith("change_set_value") and line.endswith("1249.50 EUR")
               for line in facts)
    assert any(line.startswith("purchase_order") and line.endswith("PO-7") for line in facts)


def test_register_refuses_a_file_with_an_alias_bomb(run, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                   db_url: str) -> None:
    path = tmp_path / "rfc.yaml"
    # Six levels (531,441 strings): a loader without the limit survives expanding it.
    operations = "".join(f"  {line}\n" for line in alias_bomb(6).splitlines())
    path.write_text(f"model: normal-change\ntitle: Billion laughs\noperations:\n{operations}",
                    encoding="utf-8")

    refused = run("change", "register", str(path))

    assert refused.exit_code == 1
    assert f"{path}: not valid YAML/JSON: more than 50000 values (an alias counts as the values " \
           "it repeats) at line 12, column 41" in refused.output
    db = Database.connect(db_url)
    try:
        assert changes.list_changes(db, open_only=False) == []
    finally:
        db.dispose()
