"""``python -m bench.import_memory``: the memory ``usm import`` takes per stage, at N rows and at
N/10, so the ratio shows what is bounded and what grows with the rows.

Each size runs in its own process on a fresh database (so one size's high-water mark does not hide
the other's). The stages are those of ``usm import``: read the file; reconcile it (read, map,
match); register the accepted differences as one audit-correction change; optionally move it
through CHM and implement it. The same for a CycloneDX SBOM (N/5 components on one device, its
``metadata`` after ``components``). Per stage: the peak of Python allocations (tracemalloc) above
what was held before and what the stage's result keeps, from one run; the RSS peak (sampled) and
the seconds from a second run without tracemalloc, which slows allocation-heavy code severalfold.
RSS says little after the first stages: memory freed by one stage is reused by the next.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.report import RESULTS, machine

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DEVICE = "sbom-host"


@dataclass
class Stage:
    """One stage at one size: bytes and seconds. ``peak`` and ``kept`` come from a run under
    tracemalloc; RSS and seconds from a run without it (tracing costs memory and time)."""

    name: str
    rows: int
    peak: int  # peak of Python allocations during the stage, above those held when it began
    kept: int  # what is still allocated when it ends (its result), above the start
    rss_peak: int  # highest resident set size during the stage (sampled) minus at the start
    rss_kept: int  # resident set size at the end minus at the start
    seconds: float

    @property
    def working(self) -> int:
        """What the stage needed beyond what it keeps."""
        return self.peak - max(self.kept, 0)


def _rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class _RssSampler(threading.Thread):
    """The highest RSS seen, sampled every few milliseconds while a stage runs."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.highest, self.done = _rss(), threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.005):
            self.highest = max(self.highest, _rss())


@contextmanager
def _measured(stages: list[Stage], name: str, rows: int) -> Iterator[None]:
    gc.collect()
    tracing = tracemalloc.is_tracing()
    if tracing:
        tracemalloc.reset_peak()
    traced, rss = tracemalloc.get_traced_memory()[0], _rss()
    sampler = _RssSampler()
    sampler.start()
    started = time.perf_counter()
    yield
    seconds = time.perf_counter() - started
    sampler.done.set()
    sampler.join()
    peak = tracemalloc.get_traced_memory()[1]
    gc.collect()
    stages.append(Stage(name, rows, peak - traced, tracemalloc.get_traced_memory()[0] - traced,
                        max(sampler.highest, _rss()) - rss, _rss() - rss, round(seconds, 2)))
    print(f"  {rows} rows, {name}" + (f": peak {peak - traced:,} B" if tracing else "")
          + f", {seconds:.1f} s", file=sys.stderr, flush=True)


def write_csv(path: Path, rows: int) -> None:
    """Laptops as an inventory tool would list them: natural keys, a few fields, an attribute."""
    with path.open("w", encoding="utf-8") as out:
        out.write("class,name,serial_number,asset_tag,hostname,manufacturer,model,"
                  "purchase_cost,attributes.cores\n")
        for n in range(rows):
            out.write(f"hardware.laptop,Laptop {n:06d},SN-{n:07d},AT-{n:07d},lap-{n:06d},Dell,"
                      f"Latitude 74{n % 10}0,{1000 + n % 500}.00,{4 + n % 3 * 4}\n")


def write_sbom(path: Path, components: int) -> None:
    """A CycloneDX SBOM of one device; ``metadata`` comes after ``components``, as the
    specification allows, so the reader cannot rely on meeting the device first."""
    with path.open("w", encoding="utf-8") as out:
        out.write('{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [\n')
        for n in range(components):
            out.write(("," if n else "") + json.dumps(
                {"type": "application", "name": f"Package {n:06d}", "version": f"1.{n % 97}",
                 "publisher": "Example Software", "purl": f"pkg:generic/package-{n}@1"}) + "\n")
        out.write(f'], "metadata": {{"component": {{"type": "device", "name": "{DEVICE}"}}}}}}\n')


def _implement(db: Any, key: str) -> None:
    """Carry an audit correction through CHM to implementation, as a coordinator would."""
    from bench.engine_flow import COORDINATOR
    from usm.services import changes

    start = datetime.now(UTC) + timedelta(days=1)
    changes.move_change(db, key, "verify", COORDINATOR)
    changes.update_change(db, key, COORDINATOR, {
        "risk": "low", "impact": "register only", "planned_start": start,
        "planned_end": start + timedelta(hours=2)})
    changes.move_change(db, key, "submit_for_approval", COORDINATOR)
    changes.approve_change(db, key, "sam")
    changes.move_change(db, key, "start_correction", COORDINATOR)
    changes.move_change(db, key, "implement", COORDINATOR)


def _import(db: Any, stages: list[Stage], path: Path, fmt: str, rows: int,
            implement: bool) -> None:
    """The stages of ``usm import FILE --format FMT --accept unregistered --as carol``."""
    from bench.engine_flow import COORDINATOR
    from usm.services.audit import FORMATS, open_rows, reconcile_file, register_correction

    label = "csv" if fmt == "csv" else "sbom"
    with _measured(stages, f"{label} read", rows):
        read = sum(1 for _ in open_rows(path, FORMATS[fmt][0]))
    assert read == rows, (read, rows)
    with _measured(stages, f"{label} reconcile", rows):
        rec = reconcile_file(db, path, fmt)
    assert rec.ok and len(rec.of_kind("unregistered")) == rows, rec.problems[:3]
    with _measured(stages, f"{label} register change", rows):  # --accept unregistered
        key = register_correction(db, COORDINATOR, rec,
                                  [d.id for d in rec.of_kind("unregistered")]).key
        del rec
    if implement:
        with _measured(stages, f"{label} implement", rows):
            _implement(db, key)


def measure(url: str, rows: int, components: int, implement: bool,
            trace: bool = True) -> list[Stage]:
    """Every stage at one size, on the empty database at ``url`` (a baseline import)."""
    from bench.engine_flow import implement_standard, prepare

    stages: list[Stage] = []
    db = prepare(url)
    try:
        implement_standard(db, [{"op": "create_item", "ref": "d", "class": "hardware.laptop",
                                 "name": "SBOM host", "hostname": DEVICE, "status": "in_use"}],
                           datetime.now(UTC), "The SBOM's device")
        with tempfile.TemporaryDirectory(prefix="usm-import-") as folder:
            csv_path, sbom_path = Path(folder) / "inventory.csv", Path(folder) / "host.cdx.json"
            write_csv(csv_path, rows)
            write_sbom(sbom_path, components)
            if trace:
                tracemalloc.start()
            _import(db, stages, csv_path, "csv", rows, implement)
            _import(db, stages, sbom_path, "cyclonedx", components, implement)
            tracemalloc.stop()
    finally:
        db.dispose()
    return stages


# -- one size per process -------------------------------------------------------------------------

@contextmanager
def _database(kind: str, pg_url: str) -> Iterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="usm-bench-") as folder:
            yield f"sqlite:///{folder}/bench.db"
        return
    from bench.__main__ import _drop_pg, _pg_database

    url, name = _pg_database(pg_url)
    try:
        yield url
    finally:
        _drop_pg(pg_url, name)


def _in_child(args: argparse.Namespace, rows: int, trace: bool) -> list[Stage]:
    command = [sys.executable, "-m", "bench.import_memory", "--child", str(rows),
               "--components", str(max(1, rows // 5)), "--db", args.db, "--pg-url", args.pg_url]
    command += ["--implement"] if args.implement else []
    command += [] if trace else ["--no-trace"]
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False,
                          cwd=Path(__file__).resolve().parents[1])
    if done.returncode:
        raise SystemExit(f"the {rows}-row run failed (exit status {done.returncode})")
    return [Stage(**s) for s in json.loads(done.stdout.splitlines()[-1])]


def measure_size(args: argparse.Namespace, rows: int) -> list[Stage]:
    """Allocations from a traced run, RSS and seconds from an untraced one."""
    traced, plain = _in_child(args, rows, trace=True), _in_child(args, rows, trace=False)
    return [Stage(t.name, t.rows, t.peak, t.kept, p.rss_peak, p.rss_kept, p.seconds)
            for t, p in zip(traced, plain, strict=True)]


def _mib(n: int) -> str:
    return f"{n / 2**20:.1f}"


def table(small: list[Stage], large: list[Stage]) -> str:
    """One line per stage, small size / large size."""
    header = ["stage", "rows", "peak MiB", "x", "peak B/row", "kept B/row", "working MiB",
              "RSS peak +MiB", "s"]
    lines = [header]
    for a, b in zip(small, large, strict=True):
        lines.append([a.name, f"{a.rows:,} / {b.rows:,}", f"{_mib(a.peak)} / {_mib(b.peak)}",
                      f"{b.peak / a.peak:.1f}" if a.peak > 0 else "-",
                      f"{b.peak // b.rows:,}", f"{max(b.kept, 0) // b.rows:,}",
                      f"{_mib(a.working)} / {_mib(b.working)}",
                      f"{_mib(a.rss_peak)} / {_mib(b.rss_peak)}", f"{a.seconds:g} / {b.seconds:g}"])
    widths = [max(len(r[i]) for r in lines) for i in range(len(header))]
    out = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |"
           for r in lines]
    out.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(out)


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.import_memory", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000,
                        help="rows of the large CSV (the small one has a tenth)")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--pg-url", default=os.environ.get("USM_BENCH_POSTGRES_URL", DEFAULT_PG))
    parser.add_argument("--implement", action="store_true",
                        help="also move each change through CHM and implement it")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where the JSON goes")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--components", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--no-trace", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    if args.child:
        with _database(args.db, args.pg_url) as url:
            stages = measure(url, args.child, args.components, args.implement,
                             trace=not args.no_trace)
        print(json.dumps([asdict(s) for s in stages]))
        return 0
    print(f"import memory: {args.rows // 10} and {args.rows} rows on {args.db} ({machine()})",
          file=sys.stderr)
    small, large = measure_size(args, args.rows // 10), measure_size(args, args.rows)
    print(table(small, large))
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = args.out / f"import-memory-{args.db}-{args.rows}-{stamp}.json"
    path.write_text(json.dumps({
        "at": stamp, "machine": machine(), "db": args.db, "implement": args.implement,
        "sizes": [[{**asdict(s), "working": s.working} for s in size] for size in (small, large)]},
        indent=2))
    print(f"written to {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

