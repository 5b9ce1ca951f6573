"""The write path in batches: registering and implementing a change sends as many statements for
a few items as for many, and moving a change does not read its change set (issue 8).

Each guard compares a small and a large change; a per-item statement (an ORM object flushed one by
one, a lazy load per row) makes the large count grow and fails the test.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bir import batches
from bir.errors import ValidationFailed
from bir.items import Item, ItemVersion
from bir.relations import Relation
from tests.support.helpers import at, counted, laptop, normal_change_in_realisation
from usm.services import changes
from usm.services.platform import Database


def statements(db: Database, work: Callable[[], Any]) -> list[str]:
    with counted(db) as seen:
        work()
    return seen


def creating(first: int, count: int) -> list[dict[str, Any]]:
    """Laptops, each with a monitor connected to it: items, versions and relations to write."""
    ops: list[dict[str, Any]] = []
    for n in range(first, first + count):
        ops.append(laptop(f"l{n}", f"SN-W{n:05d}", status="in_stock", purchase_cost="999.50",
                          currency="EUR", acquired_on="2026-01-05"))
        ops.append({"op": "create_item", "ref": f"m{n}", "class": "hardware.monitor",
                    "name": f"Monitor {n}", "serial_number": f"MON-W{n:05d}"})
        ops.append({"op": "add_relation", "kind": "connected_to", "source": f"@m{n}",
                    "target": f"@l{n}"})
    return ops


def test_registering_and_implementing_creates_in_batches(db: Database) -> None:
    start = at("2026-03-02")
    small = normal_change_in_realisation(db, creating(0, 3), start, "Three laptops")
    large = normal_change_in_realisation(db, creating(100, 300), start + timedelta(hours=3),
                                         "Three hundred laptops")

    for key, when in ((small, start + timedelta(days=1)), (large, start + timedelta(days=2))):
        seen = statements(db, lambda k=key, w=when: changes.move_change(db, k, "implement",
                                                                         "carol", now=w))
        if key == small:
            small_count = len(seen)
        else:
            large_count = len(seen)

    # 600 items, 600 versions and 300 relations: the same statements as for 9 writes (a batch
    # of INSERT…RETURNING may split into a few statements on SQLite, hence the small margin).
    assert large_count <= small_count + 3, (small_count, large_count)
    with db.reading() as session:
        laptop_row = session.scalars(select(Item).where(Item.serial_number == "SN-W00399")).one()
        assert (laptop_row.purchase_cost, laptop_row.currency) == (999.50, "EUR")
        assert str(laptop_row.acquired_on) == "2026-01-05"
        assert session.query(ItemVersion).count() == 606
        assert session.query(Relation).filter(Relation.valid_to.is_(None)).count() == 303


def test_implementing_updates_in_batches(db: Database) -> None:
    start = at("2026-03-02")
    made = normal_change_in_realisation(db, creating(0, 200), start, "Laptops to move")
    changes.move_change(db, made, "implement", "carol", now=start + timedelta(hours=12))
    with db.reading() as session:
        keys = list(session.scalars(select(Item.key).where(Item.class_code == "hardware.laptop")
                                    .order_by(Item.key)))

    def moving(subset: list[str], when_hours: int, site: str) -> int:
        ops = [{"op": "update_item", "item": key, "location": site, "owner": f"owner{n % 7}"}
               for n, key in enumerate(subset)]
        # Two kinds of update in one change: each kind is one batched UPDATE.
        ops += [{"op": "set_status", "item": subset[0], "status": "in_use"}]
        key = normal_change_in_realisation(db, ops, start + timedelta(days=1, hours=when_hours),
                                           f"Move to {site}")
        return len(statements(db, lambda: changes.move_change(
            db, key, "implement", "carol", now=start + timedelta(days=2, hours=when_hours))))

    small, large = moving(keys[:2], 0, "Depot"), moving(keys[2:200], 1, "Head office")

    assert large <= small + 1, (small, large)
    with db.reading() as session:
        moved = session.scalars(select(Item).where(Item.key == keys[150])).one()
        assert (moved.location, moved.version) == ("Head office", 2)
        assert session.scalars(select(Item.status).where(Item.key == keys[2])).one() == "in_use"
        open_versions = session.query(ItemVersion).filter(ItemVersion.key == keys[150],
                                                          ItemVersion.valid_to.is_(None)).count()
        assert open_versions == 1


def test_planning_reads_relations_only_for_relation_operations(db: Database) -> None:
    """Whether an edge exists matters only to add_relation and remove_relation: a change that
    moves items (issue 8, figure 4) reads no relations, one that relates them reads those of
    the items it starts from."""
    start = at("2026-03-02")
    made = normal_change_in_realisation(db, creating(0, 3), start, "Laptops and monitors")
    changes.move_change(db, made, "implement", "carol", now=start + timedelta(hours=12))

    def relation_reads(ops: list[dict[str, Any]], day: int) -> list[str]:
        with counted(db) as seen:
            key = normal_change_in_realisation(db, ops, start + timedelta(days=day), "Plan")
            changes.move_change(db, key, "implement", "carol",
                                now=start + timedelta(days=day, hours=12))
        return [sql for sql in seen if "FROM bir_relation" in sql and " OR " not in sql]

    assert relation_reads([{"op": "update_item", "item": "LAP-000001", "owner": "moved"}], 1) \
        == []
    related = relation_reads([{"op": "add_relation", "kind": "connected_to",
                               "source": "MON-000002", "target": "LAP-000001"}], 2)
    assert len(related) == 2, related  # at registration and at implementation
    with pytest.raises(ValidationFailed,
                       match=r"operations\[0\]: MON-000001 already connected to LAP-000001"):
        normal_change_in_realisation(db, [
            {"op": "add_relation", "kind": "connected_to", "source": "MON-000001",
             "target": "LAP-000001"}], start + timedelta(days=3), "Again")


def test_moving_a_change_does_not_read_its_change_set(db: Database) -> None:
    start = at("2026-03-02")
    key = changes.register_change(db, "carol", model="normal-change", title="Many laptops",
                                  operations=creating(0, 150), now=start).key

    seen = statements(db, lambda: changes.move_change(db, key, "assess", "carol",
                                                      now=start + timedelta(minutes=5)))

    payload_reads = [sql for sql in seen if "chm_change_operation.payload" in sql]
    assert payload_reads == [], payload_reads
    assert len(seen) <= 8, seen  # BEGIN, user, change, the 'has a change set' probe, writes


def test_a_move_writes_the_change_row_once_with_its_version_checked(db: Database) -> None:
    """A move is one UPDATE of the change (guarded by its version) and one log INSERT: the
    object is not left dirty for a second write at commit (issue 8, figure 5)."""
    start = at("2026-03-02")
    key = changes.register_change(db, "carol", model="normal-change", title="One laptop",
                                  operations=creating(0, 1), now=start).key

    seen = statements(db, lambda: changes.move_change(db, key, "assess", "carol",
                                                      now=start + timedelta(minutes=5)))

    updates = [sql for sql in seen if sql.lstrip().upper().startswith("UPDATE CHM_CHANGE ")]
    assert len(updates) == 1, seen
    assert "chm_change.version =" in updates[0]
    assert len([sql for sql in seen if "INSERT INTO chm_step_log" in sql]) == 1, seen
    summary = changes.change_detail(db, key, "carol").summary
    assert summary.step == "assessment" and summary.version == 2


def test_a_change_touching_more_items_than_one_lookup_holds_is_read_in_slices(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL takes at most 65,535 parameters per statement: keys go in slices (of 5,000;
    of 4 here), and every item is still found, locked, checked and written."""
    start = at("2026-03-02")
    made = normal_change_in_realisation(db, creating(0, 10), start, "Ten laptops")
    changes.move_change(db, made, "implement", "carol", now=start + timedelta(hours=12))
    with db.reading() as session:
        keys = list(session.scalars(select(Item.key).order_by(Item.key)))
    monkeypatch.setattr(batches, "BATCH", 4)

    key = normal_change_in_realisation(
        db, [{"op": "update_item", "item": k, "owner": "slices"} for k in keys],
        start + timedelta(days=1), "Twenty owners")
    seen = statements(db, lambda: changes.move_change(db, key, "implement", "carol",
                                                      now=start + timedelta(days=2)))

    locks = [sql for sql in seen if "FOR UPDATE" in sql]
    # 20 keys locked in 5 slices of 4 (SQLite has no FOR UPDATE: its writer holds the lock).
    assert len(locks) == (5 if db.engine.dialect.name == "postgresql" else 0)
    with db.reading() as session:
        owners = set(session.scalars(select(Item.owner)))
        assert owners == {"slices"} and len(keys) == 20
        assert session.query(ItemVersion).filter(ItemVersion.valid_to.is_(None)).count() == 20
