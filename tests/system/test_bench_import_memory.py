"""The import-memory benchmark's smoke run: every stage of ``usm import`` measured at two tiny
sizes, each in its own process, and written as JSON, so the bench cannot rot. Tiny sizes say
nothing about scale; that each stage ran, on the rows given, is what is checked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.import_memory import main

STAGES = ["csv read", "csv reconcile", "csv register change", "csv implement",
          "sbom read", "sbom reconcile", "sbom register change", "sbom implement"]


@pytest.mark.bench
def test_the_import_memory_bench_measures_every_stage_at_both_sizes(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--rows", "300", "--implement", "--out", str(tmp_path)]) == 0

    [written] = tmp_path.glob("import-memory-sqlite-300-*.json")
    small, large = json.loads(written.read_text())["sizes"]
    assert [s["name"] for s in small] == STAGES == [s["name"] for s in large]
    assert {s["rows"] for s in small} == {30, 6} and {s["rows"] for s in large} == {300, 60}
    for stage in small + large:
        assert stage["peak"] > 0 and stage["seconds"] >= 0, stage
    # The reconciliation keeps each difference for the user to accept: more rows, more kept.
    assert large[1]["kept"] > small[1]["kept"] > 0
    printed = capsys.readouterr().out
    assert "| stage" in printed and "csv register change" in printed
