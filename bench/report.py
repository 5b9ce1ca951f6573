"""The result table: one row per figure, printed and written as JSON."""

from __future__ import annotations

import json
import platform
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass
class Figure:
    """``ours`` and ``baseline`` in ``unit``; ``ratio`` is ours/baseline for times and
    ours/baseline for rates too (then the target is a minimum)."""

    name: str
    ours: float
    baseline: float
    unit: str
    target: float
    higher_is_better: bool = False  # rates: the ratio must reach the target
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        return self.ours / self.baseline if self.baseline else float("inf")

    @property
    def passed(self) -> bool:
        return self.ratio >= self.target if self.higher_is_better else self.ratio <= self.target

    def row(self) -> list[str]:
        sign = ">=" if self.higher_is_better else "<="
        return [self.name, f"{self.ours:.4g} {self.unit}", f"{self.baseline:.4g} {self.unit}",
                f"{self.ratio:.2f}x", f"{sign} {self.target:g}x", "pass" if self.passed else "FAIL"]


HEADER = ["figure", "ours", "baseline", "ratio", "target", "result"]


def table(figures: list[Figure]) -> str:
    """A Markdown table, readable in a terminal and pasteable into the README."""
    rows = [HEADER] + [f.row() for f in figures]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |"
             for r in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def machine() -> str:
    import os

    cpu = platform.processor() or platform.machine()
    try:
        model = next(line.split(":", 1)[1].strip() for line in
                     Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name"))
        cpu = model
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}, " \
           f"Python {platform.python_version()}"


def write_json(figures: list[Figure], settings: dict[str, Any], directory: Path = RESULTS,
               errors: list[str] | None = None) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = directory / f"bench-{settings['db']}-{settings['items']}-{stamp}.json"
    payload = {"at": stamp, "machine": machine(), "settings": settings, "errors": errors or [],
               "figures": [{**asdict(f), "ratio": f.ratio, "passed": f.passed} for f in figures]}
    path.write_text(json.dumps(payload, indent=2, default=str))
    return path
