"""The bulk path (``bir.bulk``): on PostgreSQL a large change set is written with COPY, and what
lands in the register must be exactly what an executemany of INSERTs writes, money, dates, times
and JSON attributes included. The same guard and the same errors apply."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from sqlalchemy import MetaData, select
from sqlalchemy.exc import IntegrityError

from bir import bulk
from bir.guard import RegisterWriteRefused
from bir.items import Item
from tests.support.helpers import at, counted, implement_normal_change, laptop
from usm.services import changes, register
from usm.services.platform import Database
from workflows.models import Change, ChangeOperation

# Columns that differ between two changes by nature: ids, keys, the change, the serial number.
_OWN = {"id", "key", "item_id", "source_id", "target_id", "change_id", "created_change_id",
        "last_change_id", "serial_number", "name"}


def _change_set(tag: str) -> list[dict[str, Any]]:
    ops: list[dict[str, Any]] = []
    for n in range(3):
        ops.append(laptop(f"l{n}", f"{tag}-{n}", purchase_cost="1249.50", currency="EUR",
                          acquired_on="2026-01-05", warranty_end="2029-01-04",
                          residual_value="0.01", owner=f"owner {n}",
                          attributes={"cores": 8, "screen_inches": "14.5",
                                      "keyboard_layout": "nl", "cpu": 'Intel "Core" \\ i7\ttab'}))
        ops.append({"op": "create_item", "ref": f"m{n}", "class": "hardware.monitor",
                    "name": f"Monitor {tag}-{n}", "serial_number": f"M{tag}-{n}"})
        ops.append({"op": "add_relation", "kind": "connected_to", "source": f"@m{n}",
                    "target": f"@l{n}"})
    return ops


def _written(db: Database, key: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row the change wrote, per table, without what differs by nature, in a stable order."""
    metadata = MetaData()
    metadata.reflect(db.engine, only=["bir_item", "bir_item_version", "bir_relation",
                                      "chm_change_operation"])
    with db.reading() as session:
        change_id = session.scalar(select(Change.id).where(Change.key == key))
        found = {}
        for name, column in (("bir_item", "created_change_id"), ("bir_item_version", "change_id"),
                             ("bir_relation", "change_id"), ("chm_change_operation", "change_id")):
            table = metadata.tables[name]
            rows = session.execute(select(table).where(table.c[column] == change_id))
            found[name] = sorted(
                tuple((k, v) for k, v in row._asdict().items() if k not in _OWN
                      and k != "payload") for row in rows)
        payloads = session.scalars(select(ChangeOperation.payload)
                                   .where(ChangeOperation.change_id == change_id)
                                   .order_by(ChangeOperation.seq))
        # The two change sets differ only in their tag (C or I) in names and serial numbers.
        found["payloads"] = [re.sub(r"(M?)[CI]-(\d)", r"\1X-\2", json.dumps(p, sort_keys=True))
                             for p in payloads]
    return found


def test_copy_writes_what_an_executemany_writes(db: Database,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bulk, "COPY_FROM", 1)
    with counted(db) as sent:
        copied = implement_normal_change(db, _change_set("C"), at("2026-02-01"), "Copied")
    monkeypatch.setattr(bulk, "COPY_FROM", 10**9)
    inserted = implement_normal_change(db, _change_set("I"), at("2026-02-01"), "Inserted")

    inserts = {table for table in ("bir_item ", "bir_item_version", "bir_relation",
                                   "chm_change_operation")
               if any(sql.startswith(f"INSERT INTO {table}") for sql in sent)}
    postgres = db.engine.dialect.name == "postgresql"
    assert inserts == (set() if postgres else {"bir_item ", "bir_item_version", "bir_relation",
                                               "chm_change_operation"})

    assert _written(db, copied) == _written(db, inserted)
    assert len(_written(db, copied)["bir_item"]) == 6
    view = register.item_view(db, "LAP-000001")
    assert view.financial["purchase_cost"] == register.item_view(db, "LAP-000004").financial[
        "purchase_cost"]
    assert str(view.financial["purchase_cost"]) == "1249.50"
    assert view.valid_from == at("2026-02-01")
    assert ("cpu", "Processor", 'Intel "Core" \\ i7\ttab', None) in view.attributes
    assert [r.key for r in view.relations] == ["MON-000001"]
    history = register.item_history(db, "LAP-000001")
    assert [h.version for h in history] == [1]


def test_a_copy_into_the_register_outside_an_implementation_is_refused(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bulk, "COPY_FROM", 1)
    implement_normal_change(db, [laptop("a", "SN-1")], at("2026-02-01"))
    with db.transaction() as session, pytest.raises(RegisterWriteRefused):
        row = dict(session.execute(select(Item.__table__)).one()._asdict())
        bulk.insert_rows(session, Item.__table__, [{**row, "id": 999, "key": "LAP-999999"}])
    assert [i.key for i in register.search_items(db, register.SearchQuery()).rows] == \
        ["LAP-000001"]


def test_a_failed_copy_is_raised_as_the_databases_error_and_writes_nothing(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bulk, "COPY_FROM", 1)
    key = changes.register_change(db, "carol", model="normal-change", title="Two laptops",
                                  operations=[laptop("a", "SN-1"), laptop("b", "SN-2")],
                                  now=at("2026-02-01")).key
    with pytest.raises(IntegrityError), db.transaction() as session:
        change_id = session.scalar(select(Change.id).where(Change.key == key))
        bulk.insert_rows(session, ChangeOperation.__table__, [
            {"change_id": change_id, "seq": 7, "op": "create_item", "payload": {},
             "item_key": None},
            {"change_id": change_id, "seq": 0, "op": "create_item", "payload": {},
             "item_key": None}])
    assert len(changes.change_detail(db, key).operations) == 2


@pytest.mark.parametrize("copy_from", [1, 10**9], ids=["copy", "insert"])
def test_none_in_a_json_column_is_json_null_on_either_path(
        db: Database, monkeypatch: pytest.MonkeyPatch, copy_from: int) -> None:
    monkeypatch.setattr(bulk, "COPY_FROM", copy_from)
    key = changes.register_change(db, "carol", model="normal-change", title="One laptop",
                                  operations=[laptop("a", "SN-1")], now=at("2026-02-01")).key
    with db.transaction() as session:
        change_id = session.scalar(select(Change.id).where(Change.key == key))
        bulk.insert_rows(session, ChangeOperation.__table__, [
            {"change_id": change_id, "seq": 5, "op": "create_item", "payload": None,
             "item_key": None}])
    with db.reading() as session:
        stored = session.execute(select(ChangeOperation.payload, ChangeOperation.payload.is_(None))
                                 .where(ChangeOperation.seq == 5)).one()
    assert tuple(stored) == (None, False), "JSON null, not SQL NULL (the column is NOT NULL)"
