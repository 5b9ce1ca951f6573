"""The history invariant, property-based: after any sequence of changes (created items, edits,
status moves, changes left open, stale change sets refused), replaying the item versions from empty
gives the current register, and an as-of read at each recorded moment gives the state recorded
then."""

from __future__ import annotations

import itertools
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import select

from bir.errors import NotYetRegistered
from bir.items import Item, ItemVersion
from bir.vocabulary import STATUS_MOVES, LifecycleStatus
from tests.support.helpers import at, implement_normal_change, laptop, normal_change_in_realisation
from usm.services import changes, register
from usm.services.platform import Database

FIELDS = ("name", "owner", "location", "status")
PEOPLE = st.sampled_from(["alice", "bob", "carl", "dana"])
PLACES = st.sampled_from(["HQ", "Lab", "Depot"])
State = dict[str, dict[str, Any]]


def _fields(record: Any) -> dict[str, Any]:
    return {name: getattr(record, name) for name in FIELDS}


def _replayed(versions: list[ItemVersion], moment: datetime | None) -> State:
    """The register rebuilt from the version rows alone, as of ``moment`` (None: now)."""
    state: State = {}
    for version in sorted(versions, key=lambda v: (v.key, v.version)):
        if moment is None or (version.valid_from <= moment
                              and (version.valid_to is None or moment < version.valid_to)):
            if moment is not None or version.valid_to is None:
                state[version.key] = _fields(version)
    return state


def test_history_replays_to_the_register_and_as_of_reads_what_was(templates: Any,
                                                                  tmp_path: Path) -> None:
    databases = itertools.count()

    class RegisterHistory(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            path = tmp_path / f"history-{next(databases)}.db"
            shutil.copyfile(templates.sqlite(), path)
            self.db = Database.connect(f"sqlite:///{path}")
            self.clock = at("2026-01-01")
            self.model: State = {}
            self.recorded: list[tuple[datetime, State]] = []
            self.serials = itertools.count(1)

        def teardown(self) -> None:
            self.db.dispose()

        def _implement(self, operations: list[dict[str, Any]]) -> None:
            self.clock += timedelta(days=1)
            implement_normal_change(self.db, operations, self.clock)

        def _record(self) -> None:
            self.recorded.append((self.clock + timedelta(hours=1),
                                  {k: dict(v) for k, v in self.model.items()}))

        @rule(owners=st.lists(PEOPLE, min_size=1, max_size=2))
        def create(self, owners: list[str]) -> None:
            ops = [laptop(f"n{i}", f"SN-{next(self.serials)}", owner=owner, status="in_stock")
                   for i, owner in enumerate(owners)]
            self._implement(ops)
            for i, op in enumerate(ops):
                key = f"LAP-{len(self.model) + 1:06d}"
                self.model[key] = {"name": op["name"], "owner": owners[i], "location": None,
                                   "status": "in_stock"}
                assert register.item_view(self.db, key).core["name"] == op["name"]
            self._record()

        @rule(data=st.data(), owner=PEOPLE, place=PLACES)
        def edit(self, data: st.DataObject, owner: str, place: str) -> None:
            if not self.model:
                return
            key = data.draw(st.sampled_from(sorted(self.model)))
            self._implement([{"op": "update_item", "item": key, "owner": owner,
                              "location": place}])
            self.model[key].update(owner=owner, location=place)
            self._record()

        @rule(data=st.data())
        def move_status(self, data: st.DataObject) -> None:
            movable = sorted(k for k, v in self.model.items()
                             if STATUS_MOVES[LifecycleStatus(v["status"])])
            if not movable:
                return
            key = data.draw(st.sampled_from(movable))
            status = data.draw(st.sampled_from(sorted(
                STATUS_MOVES[LifecycleStatus(self.model[key]["status"])])))
            self._implement([{"op": "set_status", "item": key, "status": status.value}])
            self.model[key]["status"] = status.value
            self._record()

        @rule(data=st.data(), owner=PEOPLE)
        def stale_change_is_refused(self, data: st.DataObject, owner: str) -> None:
            if not self.model:
                return
            key = data.draw(st.sampled_from(sorted(self.model)))
            self.clock += timedelta(days=1)
            stale = normal_change_in_realisation(self.db, [{"op": "update_item", "item": key,
                                            "owner": f"{owner}-stale"}], self.clock)
            self._implement([{"op": "update_item", "item": key, "location": "Elsewhere"}])
            self.model[key]["location"] = "Elsewhere"
            self._record()
            with pytest.raises(changes.ChangeSetStale):
                changes.move_change(self.db, stale, "implement", "carol",
                                    now=self.clock + timedelta(hours=2))

        @rule(owner=PEOPLE)
        def change_left_open(self, owner: str) -> None:
            if self.model:
                self.clock += timedelta(days=1)
                changes.register_change(self.db, "carol", model="normal-change", title="Open",
                                        operations=[{"op": "update_item",
                                                     "item": sorted(self.model)[0],
                                                     "owner": owner}], now=self.clock)
                self._record()

        @invariant()
        def replaying_history_gives_the_register(self) -> None:
            with self.db.reading() as session:
                versions = list(session.scalars(select(ItemVersion)))
                items = {item.key: _fields(item) for item in session.scalars(select(Item))}
            assert _replayed(versions, None) == items == self.model
            by_item: dict[str, list[ItemVersion]] = {}
            for version in versions:
                by_item.setdefault(version.key, []).append(version)
            for rows in by_item.values():  # contiguous: each version ends where the next begins
                rows.sort(key=lambda v: v.version)
                assert [v.version for v in rows] == list(range(1, len(rows) + 1))
                assert [v.valid_to for v in rows[:-1]] == [v.valid_from for v in rows[1:]]
            for moment, state in self.recorded:
                assert _replayed(versions, moment) == state

        @invariant()
        def as_of_reads_give_the_recorded_state(self) -> None:
            for moment, state in self.recorded[-3:]:
                for key in self.model:
                    if key in state:
                        view = register.item_view(self.db, key, as_of=moment)
                        assert {f: view.core[f] for f in FIELDS} == state[key]
                    else:
                        with pytest.raises(NotYetRegistered):
                            register.item_view(self.db, key, as_of=moment)

    run_state_machine_as_test(RegisterHistory, settings=settings(
        max_examples=12, stateful_step_count=6, deadline=None, database=None,
        suppress_health_check=[HealthCheck.too_slow]))
