"""Figures 1 to 5 of the benchmark: each times the product against raw SQLAlchemy Core doing the
same work on the same data, in the same run."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, and_, bindparam, event, func, insert, or_, select, update

from bench.engine_flow import COORDINATOR, implement_standard, register_standard
from bench.report import Figure
from bench.scratch import ScratchTables
from bench.synthetic import RawRows, create_operations, raw_rows
from bir.classes import ItemClass
from bir.items import RECORD_FIELDS, Item, ItemVersion
from bir.queries import snapshot_rows
from usm.services import changes, register
from usm.services.platform import Database
from workflows.models import Change

IMPORTED_AT = datetime(2026, 1, 5, 9, tzinfo=UTC)
UPDATED_AT = datetime(2026, 3, 2, 9, tzinfo=UTC)
TRANSITIONS_FROM = datetime(2026, 4, 1, 9, tzinfo=UTC)
# The list page of figures 2 and 6: a filter and a sort other than the key.
PAGE_FILTER = {"class": "hardware.laptop", "status": "in_use", "sort": "name"}


def _elapsed(work: Callable[[], Any]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def _median(work: Callable[[], Any], repeat: int) -> float:
    work()  # warm caches and compiled statements first
    return statistics.median(_elapsed(work) for _ in range(repeat))


class QueryCounter:
    """Counts the statements an engine sends while ``counting`` is open."""

    def __init__(self, engine: Engine):
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args: Any) -> None:
        self.count += 1

    @contextmanager
    def counting(self) -> Iterator[None]:
        self.count = 0
        yield


@dataclass
class Run:
    db: Database
    items: int
    scratch: ScratchTables
    rows: RawRows | None = None
    counter: QueryCounter = field(init=False)
    notes: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.counter = QueryCounter(self.db.engine)


def import_items(run: Run) -> Figure:
    """1. One change creating every item (with relations), implemented, vs executemany."""
    operations = create_operations(0, run.items)
    key = ""

    def engine_import() -> None:
        nonlocal key
        key = implement_standard(run.db, operations, IMPORTED_AT, "Synthetic register")

    ours = _elapsed(engine_import)
    with run.db.reading() as session:
        change_id = session.scalar(select(Change.id).where(Change.key == key))
    run.rows = raw_rows(operations, [f"RAW-{n:07d}" for n in range(run.items)],
                        change_id=change_id or 0, at=IMPORTED_AT, first_id=1,
                        record_fields=RECORD_FIELDS)
    rows = run.rows

    def raw_import() -> None:
        with run.db.engine.begin() as conn:
            conn.execute(insert(run.scratch.item), rows.items)
            conn.execute(insert(run.scratch.version), rows.versions)
            if rows.relations:
                conn.execute(insert(run.scratch.relation), rows.relations)

    baseline = _elapsed(raw_import)
    return Figure("1 import N items (one change)", ours, baseline, "s", 3.0,
                  notes={"items": run.items, "relations": len(rows.relations)})


def _raw_page(after: tuple[str, str] | None) -> Any:
    """The SELECT the list page needs, written by hand: filter, sort by name then key, 51 rows."""
    item = Item.__table__
    stmt = (select(item, ItemClass.__table__.c.name.label("class_name"))
            .join(ItemClass.__table__, ItemClass.__table__.c.code == item.c.class_code)
            .where(or_(item.c.class_code == PAGE_FILTER["class"],
                       item.c.class_code.like(PAGE_FILTER["class"] + ".%")),
                   item.c.status == PAGE_FILTER["status"]))
    if after is not None:
        stmt = stmt.where(or_(item.c.name > after[0],
                              and_(item.c.name == after[0], item.c.key > after[1])))
    return stmt.order_by(item.c.name.nulls_last(), item.c.key).limit(51)


def _raw_count() -> Any:
    item = Item.__table__
    return (select(func.count(item.c.id))
            .where(or_(item.c.class_code == PAGE_FILTER["class"],
                       item.c.class_code.like(PAGE_FILTER["class"] + ".%")),
                   item.c.status == PAGE_FILTER["status"]))


def deep_position(db: Database) -> tuple[str, str]:
    """(name, key) of a row near the end of the filtered, sorted result: the start of a deep page."""
    with db.engine.connect() as conn:
        total = conn.execute(_raw_count()).scalar_one()
        stmt = _raw_page(None).limit(1).offset(max(0, int(total * 0.9)))
        row = conn.execute(stmt).one()
    return row.name, row.key


def list_page(run: Run, repeat: int = 20) -> list[Figure]:
    """2. The register list page (service layer, 50 rows, filter + sort): first and deep page."""
    params = {**PAGE_FILTER}
    first_query = register.search_query(params)
    name, key = deep_position(run.db)
    deep_cursor = register.encode_cursor(first_query, register.ItemRow(
        key, name, PAGE_FILTER["class"], PAGE_FILTER["status"], None, None, None))
    deep_query = register.search_query({**params, "after": deep_cursor})

    def page(query: register.SearchQuery) -> Callable[[], Any]:
        return lambda: register.search_items(run.db, query)

    def raw(after: tuple[str, str] | None) -> Callable[[], Any]:
        def work() -> None:
            with run.db.engine.connect() as conn:
                conn.execute(_raw_page(after)).all()
                conn.execute(_raw_count()).scalar_one()
        return work

    with run.counter.counting():
        rows = register.search_items(run.db, deep_query).rows
        queries = run.counter.count
    assert rows, "the deep page is empty"
    first = _median(page(first_query), repeat)
    deep = _median(page(deep_query), repeat)
    figures = [
        Figure("2a list page, first", first, _median(raw(None), repeat), "s", 3.0,
               notes={"queries_per_page": queries}),
        Figure("2b list page, deep keyset", deep, _median(raw((name, key)), repeat), "s", 3.0),
        Figure("2c deep page vs first page", deep, first, "s", 1.2),
        Figure("2d queries per page", queries, 5, "queries", 1.0),
    ]
    return figures


def snapshot_as_of(run: Run) -> Figure:
    """3. The whole register as of a moment, read as the register export reads it, vs one raw
    SELECT on the history table."""
    at = IMPORTED_AT + timedelta(days=1)

    def ours() -> int:
        with run.db.reading() as session:
            return sum(1 for _row in snapshot_rows(session, at=at))

    def raw() -> None:
        # The same columns the snapshot gives, unordered and unconverted.
        version = ItemVersion.__table__
        columns = [version.c[name] for name in ("key", "class_code", *RECORD_FIELDS, "attributes")]
        with run.db.engine.connect() as conn:
            conn.execute(select(*columns).where(
                version.c.valid_from <= at,
                or_(version.c.valid_to.is_(None), version.c.valid_to > at))).all()

    seen = ours()
    assert seen == run.items, f"the snapshot read {seen} of {run.items} items"
    return Figure("3 as-of snapshot, whole register", _median(ours, 2), _median(raw, 2), "s", 3.0)


CHANGE_ROUNDS = 3


def change_touching(run: Run, touched: int) -> Figure:
    """4. One change updating ``touched`` items, implemented, vs raw executemany UPDATE + INSERT.

    The two take turns for three rounds, each round a new version of the same items an hour
    later, and the medians are compared: one slow spell of a shared machine (an autovacuum, a
    neighbour) then weighs on neither side alone."""
    assert run.rows is not None
    with run.db.reading() as session:
        keys = list(session.scalars(select(Item.key).order_by(Item.id).limit(touched)))
    first_versions = run.rows.versions[:touched]
    scratch = run.scratch
    ours: list[float] = []
    raw: list[float] = []
    for round_ in range(CHANGE_ROUNDS):
        when = UPDATED_AT + timedelta(hours=round_)
        site = f"Site moved {round_}"
        operations = [{"op": "update_item", "item": key, "location": site,
                       "owner": f"mover{n % 100:02d}"} for n, key in enumerate(keys)]
        ours.append(_elapsed(partial(implement_standard, run.db, operations, when,
                                     "Move items")))
        # Ids follow the first versions' (given explicitly, so no sequence knows them).
        next_id = len(run.rows.versions) + 1 + round_ * touched
        versions = [{**row, "location": site, "owner": f"mover{n % 100:02d}",
                     "version": round_ + 2, "valid_from": when, "valid_to": None,
                     "id": next_id + n} for n, row in enumerate(first_versions)]
        raw.append(_elapsed(partial(_raw_move, run.db.engine, scratch, versions, when)))
    return Figure(f"4 change touching {touched} items", statistics.median(ours),
                  statistics.median(raw), "s", 3.0,
                  notes={"touched": touched, "rounds_ours_s": ours, "rounds_baseline_s": raw})


def _raw_move(engine: Engine, scratch: ScratchTables, versions: list[dict[str, Any]],
              when: datetime) -> None:
    """Close the open versions, insert the new ones and move the current rows on."""
    with engine.begin() as conn:
        conn.execute(update(scratch.version)
                     .where(scratch.version.c.item_id == bindparam("b_id"),
                            scratch.version.c.valid_to.is_(None))
                     .values(valid_to=when),
                     [{"b_id": row["item_id"]} for row in versions])
        conn.execute(insert(scratch.version), versions)
        conn.execute(update(scratch.item).where(scratch.item.c.id == bindparam("b_id"))
                     .values(location=bindparam("b_location"), owner=bindparam("b_owner"),
                             version=bindparam("b_version"), valid_from=when),
                     [{"b_id": r["item_id"], "b_location": r["location"], "b_owner": r["owner"],
                       "b_version": r["version"]} for r in versions])


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


TRANSITION_ROUNDS = 10


def transitions(run: Run, count: int) -> Figure:
    """5. Change transitions per second (each its own transaction through the service layer) vs a
    raw UPDATE + INSERT transaction; the memory growth over the run is reported.

    Ours and the baseline take turns in ten rounds, so a slow spell of a shared machine weighs
    on both alike rather than on whichever ran then."""
    operations = [{"op": "set_status", "item": _first_key(run), "status": "maintenance"}]
    key = register_standard(run.db, operations, TRANSITIONS_FROM, "Transition loop")
    raw = _RawTransitions(run, key)
    moment = TRANSITIONS_FROM
    triggers = ("reschedule", "start")
    rounds = max(1, min(TRANSITION_ROUNDS, count))
    ours_elapsed = raw_elapsed = 0.0
    rss_after_first_round = 0
    done = 0
    for round_number in range(rounds):
        size = count // rounds + (1 if round_number < count % rounds else 0)
        started = time.perf_counter()
        for _ in range(size):
            moment += timedelta(seconds=1)
            changes.move_change(run.db, key, triggers[done % 2], COORDINATOR, now=moment)
            done += 1
        ours_elapsed += time.perf_counter() - started
        if round_number == 0:
            rss_after_first_round = _rss_kib()
        raw_elapsed += raw.run(size)
    growth = _rss_kib() - rss_after_first_round
    return Figure("5 transitions per second", count / ours_elapsed, count / raw_elapsed, "/s", 0.5,
                  higher_is_better=True,
                  notes={"transitions": count, "rounds": rounds,
                         "rss_growth_kib_after_first_round": growth, "rss_kib_end": _rss_kib()})


def _first_key(run: Run) -> str:
    with run.db.reading() as session:
        return session.scalars(select(Item.key).order_by(Item.id).limit(1)).one()


class _RawTransitions:
    """The baseline: the same change's row, copied to a scratch table, moved by a raw UPDATE
    plus a log INSERT in one transaction each."""

    STATES = ("scheduled", "carrying_out")

    def __init__(self, run: Run, key: str):
        self.scratch = run.scratch
        with run.db.engine.begin() as conn:
            row = conn.execute(select(Change.__table__).where(Change.__table__.c.key == key)).one()
            conn.execute(insert(self.scratch.change), [dict(row._mapping)])
        self.engine = run.db.engine
        self.change_id, self.version, self.moment, self.done = row.id, row.version, \
            TRANSITIONS_FROM, 0

    def run(self, count: int) -> float:
        scratch, states = self.scratch, self.STATES
        start = time.perf_counter()
        for _ in range(count):
            n = self.done
            self.moment += timedelta(seconds=1)
            with self.engine.begin() as conn:
                conn.execute(update(scratch.change)
                             .where(scratch.change.c.id == self.change_id,
                                    scratch.change.c.version == self.version)
                             .values(state=states[n % 2], version=self.version + 1,
                                     updated_at=self.moment, step_entered_at=self.moment))
                conn.execute(insert(scratch.step_log).values(
                    change_id=self.change_id, at=self.moment, actor=COORDINATOR, trigger="start",
                    from_state=states[(n + 1) % 2], to_state=states[n % 2], from_step="planning",
                    to_step="realisation", comment=None))
            self.version += 1
            self.done += 1
        return time.perf_counter() - start
