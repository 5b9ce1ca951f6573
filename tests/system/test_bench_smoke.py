"""The benchmark's smoke run: every figure measured on a tiny register, so the bench cannot rot.
The figures themselves are not judged here (tiny N says nothing about scale); that each is measured,
against a real baseline, and written as JSON is."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from bench.__main__ import main

FIGURES = ["1 import N items (one change)", "2a list page, first", "2b list page, deep keyset",
           "2c deep page vs first page", "2d queries per page", "3 as-of snapshot, whole register",
           "4 change touching 50 items", "5 transitions per second"]


@pytest.mark.bench
def test_the_bench_measures_every_figure_on_200_items(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    web = importlib.util.find_spec("gunicorn") is not None  # figure 6 needs the bench extras
    main(["--items", "200", "--touch", "50", "--transitions", "20", "--out", str(tmp_path),
          "--clients", "2" if web else "0", "--requests", "10", "--workers", "1"])

    [written] = tmp_path.glob("bench-sqlite-200-*.json")
    result = json.loads(written.read_text())
    names = [f["name"] for f in result["figures"]]
    assert result["errors"] == []
    assert names == FIGURES + (["6 web list page, 2 clients"] if web else [])
    for figure in result["figures"]:
        assert figure["ours"] > 0 and figure["baseline"] > 0, figure
    assert result["figures"][0]["notes"]["items"] == 200
    assert result["figures"][4]["ours"] <= 5  # queries per page
    printed = capsys.readouterr().out
    assert "| figure" in printed and "5 transitions per second" in printed
