"""``python -m bench``: build a synthetic register through the engine on a fresh database and
print each figure against its raw baseline (see README, "Benchmarks")."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench import figures
from bench.engine_flow import prepare
from bench.report import RESULTS, Figure, machine, table, write_json
from bench.scratch import ScratchTables

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DEFAULT_ITEMS = {"sqlite": 100_000, "postgresql": 1_000_000}


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--items", type=int, default=None,
                        help="items in the synthetic register (default 100,000 on SQLite and "
                             "1,000,000 on PostgreSQL; --items 2000 is a smoke run of seconds)")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--pg-url", default=os.environ.get("USM_BENCH_POSTGRES_URL", DEFAULT_PG),
                        help="server to create the scratch database on (PostgreSQL)")
    parser.add_argument("--touch", type=int, default=10_000,
                        help="items one change updates in figure 4 (at most --items)")
    parser.add_argument("--transitions", type=int, default=100_000,
                        help="change transitions timed in figure 5 (the memory growth over them "
                             "is reported)")
    parser.add_argument("--clients", type=int, default=8,
                        help="concurrent clients in figure 6 (0 skips it)")
    parser.add_argument("--requests", type=int, default=200, help="requests in figure 6")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers in figure 6")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where the JSON goes")
    args = parser.parse_args(argv)
    if args.items is None:
        args.items = DEFAULT_ITEMS[args.db]
    return args


def _pg_database(admin_url: str) -> tuple[str, str]:
    """A fresh database on the server; returns its URL and name."""
    name = f"usm_bench_{int(time.time())}"
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False), name


def _drop_pg(admin_url: str, name: str) -> None:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def run(args: argparse.Namespace, url: str, errors: list[str]) -> list[Figure]:
    """Every figure in turn; a figure that fails is named in ``errors`` and the rest still run."""
    db = prepare(url)
    try:
        bench_run = figures.Run(db, args.items, ScratchTables(db.engine))
        steps = [
            ("import", lambda: [figures.import_items(bench_run)]),
            ("list page", lambda: figures.list_page(bench_run)),
            ("as-of snapshot", lambda: [figures.snapshot_as_of(bench_run)]),
            ("change touching items",
             lambda: [figures.change_touching(bench_run, min(args.touch, args.items))]),
            ("transitions", lambda: [figures.transitions(bench_run, args.transitions)]),
        ]
        if args.clients:
            from bench import web

            steps.append(("web list page", lambda: [web.list_page_under_load(
                db, url, clients=args.clients, requests=args.requests, workers=args.workers)]))
        results: list[Figure] = []
        for label, step in steps:
            started = time.perf_counter()
            try:
                measured = step()
            except Exception as exc:  # one broken figure must not lose the others
                traceback.print_exc()
                errors.append(f"{label}: {type(exc).__name__}: {exc}")
                continue
            results.extend(measured)
            rows = "; ".join(" | ".join(f.row()) for f in measured)
            print(f"  {label} ({time.perf_counter() - started:.1f} s): {rows}", file=sys.stderr,
                  flush=True)
        return results
    finally:
        db.dispose()


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    print(f"bench: {args.items} items on {args.db} ({machine()})", file=sys.stderr)
    errors: list[str] = []
    if args.db == "sqlite":
        with tempfile.TemporaryDirectory(prefix="usm-bench-") as folder:
            results = run(args, f"sqlite:///{folder}/bench.db", errors)
    else:
        url, name = _pg_database(args.pg_url)
        try:
            results = run(args, url, errors)
        finally:
            _drop_pg(args.pg_url, name)
    print(table(results))
    settings = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()
                if k != "pg_url"}
    path = write_json(results, settings, args.out, errors)
    for error in errors:
        print(f"not measured: {error}", file=sys.stderr)
    print(f"written to {path}", file=sys.stderr)
    return 0 if all(f.passed for f in results) and not errors else 1


if __name__ == "__main__":
    sys.exit(main())
