"""Concurrent coordinators through the service layer: nothing lost, nothing duplicated.

On PostgreSQL, eight threads (time-bounded) implement overlapping changes, race to move the same
changes and comment on them. Every call either succeeds or ends in a clear conflict; afterwards
each item's history is contiguous, holds exactly the implemented edits (no lost update) and every
key is unique. On SQLite, concurrent writers wait their turn (a write transaction takes the write
lock when it begins), none is refused, and the database stays intact.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import func, select, text

from bir.items import Item, ItemVersion
from tests.support.helpers import at, implement_normal_change, laptop, normal_change_in_realisation
from usm.services import changes
from usm.services.platform import Database
from workflows.models import ChangeComment

THREADS = 8
TIME_LIMIT_SECONDS = 120
ITEMS = 4
CHANGES_PER_ITEM = 3
CREATING_CHANGES = 6
RACED_CHANGES = 4
COMMENTS = 24


@dataclass
class Tally:
    """What the threads did, by outcome; ``unexpected`` holds every error that is not a clear
    conflict or busy refusal."""

    outcomes: Counter[str] = field(default_factory=Counter)
    done: set[tuple[str, str]] = field(default_factory=set)  # (what, change key) that succeeded
    unexpected: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, name: str, key: str, call: Callable[[], object]) -> None:
        try:
            call()
        except changes.ChangeSetStale:
            outcome = f"{name}: stale change set"
        except changes.DatabaseBusy:
            outcome = f"{name}: busy"
        except changes.ChangeConflict:
            outcome = f"{name}: conflict"
        except Exception as exc:  # noqa: BLE001  (counted: the test asserts there are none)
            with self.lock:
                self.unexpected.append(f"{name} {key}: {type(exc).__name__}: {exc}")
            return
        else:
            outcome = f"{name}: done"
            with self.lock:
                self.done.add((name, key))
        with self.lock:
            self.outcomes[outcome] += 1

    @property
    def tried(self) -> int:
        return sum(self.outcomes.values()) + len(self.unexpected)


def _run_all(tasks: list[Callable[[], None]]) -> None:
    barrier = threading.Barrier(THREADS)

    def started(task: Callable[[], None], index: int) -> None:
        if index < THREADS:  # the first wave starts together, to make the races real
            barrier.wait(timeout=30)
        task()

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        futures = [pool.submit(started, task, i) for i, task in enumerate(tasks)]
        done, pending = wait(futures, timeout=TIME_LIMIT_SECONDS)
        assert not pending, f"{len(pending)} operations still running after {TIME_LIMIT_SECONDS}s"
        for future in done:
            future.result()


def test_concurrent_coordinators_lose_nothing_on_postgresql(pg_url: str) -> None:
    db = Database.connect(pg_url)
    try:
        implement_normal_change(db, [laptop(f"l{i}", f"SN-{i}", owner="nobody")
                                     for i in range(ITEMS)], at("2026-01-10"))
        start = at("2026-02-01")
        updates: dict[str, tuple[str, str]] = {}  # change -> (item, owner it sets)
        for n in range(ITEMS * CHANGES_PER_ITEM):
            item, owner = f"LAP-{n % ITEMS + 1:06d}", f"owner-{n}"
            key = normal_change_in_realisation(db, [{"op": "update_item", "item": item, "owner": owner}],
                               start + timedelta(hours=n))
            updates[key] = (item, owner)
        creating = [normal_change_in_realisation(db, [laptop("a", f"NEW-{n}-A"), laptop("b", f"NEW-{n}-B")],
                                 start + timedelta(days=2, hours=n))
                    for n in range(CREATING_CHANGES)]
        raced = {
            changes.register_change(db, "carol", model="normal-change", title=f"Raced {n}",
                                    operations=[laptop("a", f"RACE-{n}")],
                                    now=start + timedelta(days=3)).key: 0
            for n in range(RACED_CHANGES)}
        raced = {key: changes.change_summary(db, key).version for key in raced}

        tally = Tally()
        tasks: list[Callable[[], None]] = []
        for key in [*updates, *creating]:
            tasks.append(lambda key=key: tally.run("implement", key, lambda: changes.move_change(
                db, key, "implement", "carol")))
        for key, version in raced.items():
            for _ in range(2):
                tasks.append(lambda key=key, version=version: tally.run(
                    "assess", key, lambda: changes.move_change(
                        db, key, "assess", "carol", expected_version=version)))
        commented = [*updates, *raced]
        for n in range(COMMENTS):
            key = commented[n % len(commented)]
            tasks.append(lambda key=key, n=n: tally.run(
                "comment", key, lambda: changes.add_comment(db, key, "carol", f"note {n}")))
        random.Random(9).shuffle(tasks)

        _run_all(tasks)

        assert tally.unexpected == []
        implemented = {key for what, key in tally.done if what == "implement"}
        winners: dict[str, list[str]] = {}
        for key, (item, _owner) in updates.items():
            if key in implemented:
                winners.setdefault(item, []).append(key)
        # Every change was planned on version 1: per item, the first implementation wins and every
        # later one is refused as stale rather than overwriting it.
        assert {item: len(keys) for item, keys in winners.items()} == {
            f"LAP-{i + 1:06d}": 1 for i in range(ITEMS)}
        assert tally.outcomes["implement: stale change set"] == ITEMS * (CHANGES_PER_ITEM - 1)
        assert set(creating) <= implemented
        assert tally.outcomes["assess: done"] == RACED_CHANGES
        assert tally.outcomes["assess: conflict"] == RACED_CHANGES
        assert tally.outcomes["implement: busy"] == 0

        lost = 0
        with db.reading() as session:
            for item_key, (winner,) in winners.items():
                item = session.scalar(select(Item).where(Item.key == item_key))
                assert item is not None
                versions = session.execute(
                    select(ItemVersion.version, ItemVersion.valid_to, ItemVersion.owner)
                    .where(ItemVersion.item_id == item.id).order_by(ItemVersion.version)).all()
                lost += item.owner != updates[winner][1]
                assert [v.version for v in versions] == [1, 2] and item.version == 2
                assert [v.valid_to is None for v in versions] == [False, True]
                assert versions[-1].owner == item.owner
            keys = session.scalars(select(Item.key)).all()
            comments = session.scalar(select(func.count(ChangeComment.id)))
        assert lost == 0
        assert len(keys) == len(set(keys)) == ITEMS + 2 * CREATING_CHANGES
        assert sorted(keys) == [f"LAP-{n:06d}" for n in range(1, len(keys) + 1)]
        assert comments == tally.outcomes["comment: done"] == COMMENTS
        conflicts = sum(n for outcome, n in tally.outcomes.items()
                        if outcome.endswith(("conflict", "stale change set")))
        print(f"\nconcurrency (PostgreSQL, {THREADS} threads): {tally.tried} operations tried, "
              f"{conflicts} conflicts detected, lost updates {lost}, duplicate keys "
              f"{len(keys) - len(set(keys))}, other errors {len(tally.unexpected)}: "
              f"{dict(sorted(tally.outcomes.items()))}")
    finally:
        db.dispose()


def test_concurrent_writers_on_sqlite_wait_their_turn(sqlite_url: str) -> None:
    db = Database.connect(sqlite_url)
    try:
        start = at("2026-02-01")
        creating = [normal_change_in_realisation(db, [laptop("a", f"NEW-{n}")], start + timedelta(hours=n))
                    for n in range(THREADS)]
        tally = Tally()
        tasks: list[Callable[[], None]] = [
            lambda key=key: tally.run("implement", key, lambda: changes.move_change(
                db, key, "implement", "carol"))
            for key in creating]
        tasks += [lambda key=key, n=n: tally.run(
            "comment", key, lambda: changes.add_comment(db, key, "carol", f"note {n}"))
            for n, key in enumerate(creating)]

        _run_all(tasks)

        assert tally.unexpected == []
        # Each writer waited for the write lock (within busy_timeout); none was turned away.
        assert tally.outcomes == {"implement: done": THREADS, "comment: done": THREADS}
        implemented = [key for what, key in tally.done if what == "implement"]
        with db.reading() as session:
            assert session.execute(text("PRAGMA integrity_check")).scalar() == "ok"
            keys = session.scalars(select(Item.key)).all()
            versions = session.scalar(select(func.count(ItemVersion.id)))
            comments = session.scalar(select(func.count(ChangeComment.id)))
        assert len(keys) == len(set(keys)) == len(implemented) == versions
        assert comments == tally.outcomes["comment: done"]
        for key in creating:
            state = changes.change_summary(db, key).state
            assert state == ("implemented" if key in implemented else "building")
        print(f"\nconcurrency (SQLite, {THREADS} threads): {tally.tried} operations tried: "
              f"{dict(sorted(tally.outcomes.items()))}, integrity ok")
    finally:
        db.dispose()
