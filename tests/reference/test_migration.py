"""Migration 0013 turns every owner, location and cost centre the register holds or ever held into
a reference row: none is lost, case variants become one row with the most used spelling. On
SQLite and PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from sqlalchemy import inspect, text

from tests.support.helpers import at, implement_normal_change, laptop
from usm.db import alembic_config, upgrade
from usm.services import reference
from usm.services.platform import Database


def _register(db_url: str) -> None:
    db = Database.connect(db_url)
    try:
        implement_normal_change(db, [
            laptop("a", "SN-MIG-1", owner="Old Owner", location="Utrecht", cost_centre="CC-100"),
            laptop("b", "SN-MIG-2", owner="Bea", location="Utrecht", cost_centre="CC-100"),
            laptop("c", "SN-MIG-3", owner="bea", cost_centre="cc-100"),
        ], at("2026-01-05"))
        # Later the first laptop moves on: "Old Owner" and "Amsterdam" live on only in history.
        implement_normal_change(db, [{"op": "update_item", "item": "LAP-000001",
                                      "owner": "New Owner", "location": "Rotterdam"}],
                                at("2026-02-05"))
        implement_normal_change(db, [{"op": "update_item", "item": "LAP-000002",
                                      "location": "Amsterdam"}], at("2026-02-06"))
        implement_normal_change(db, [{"op": "update_item", "item": "LAP-000002",
                                      "location": "Utrecht"}], at("2026-02-07"))
    finally:
        db.dispose()


def _all_values(db_url: str) -> dict[str, set[str]]:
    """Every distinct non-empty value, trimmed and case-folded, per column, items and history."""
    db = Database.connect(db_url)
    found: dict[str, set[str]] = {"owner": set(), "location": set(), "cost_centre": set()}
    try:
        with db.engine.connect() as connection:
            for table in ("bir_item", "bir_item_version"):
                for column in found:
                    values = sa.table(table, sa.column(column))
                    found[column] |= {v.strip().casefold() for (v,) in connection.execute(
                        sa.select(values.c[column]).where(values.c[column].is_not(None)))
                        if v.strip()}
    finally:
        db.dispose()
    return found


def test_every_value_in_the_register_and_its_history_becomes_a_reference_row(db_url: str
                                                                             ) -> None:
    _register(db_url)
    command.downgrade(alembic_config(db_url), "0012")
    db = Database.connect(db_url)
    try:
        assert "bir_reference_value" not in inspect(db.engine).get_table_names()
        with db.engine.begin() as connection:  # a stray space and case, as old free text had
            connection.execute(text("UPDATE bir_item_version SET location = '  rotterdam '"
                                    " WHERE location = 'Rotterdam'"))
    finally:
        db.dispose()
    expected = _all_values(db_url)
    assert "old owner" in expected["owner"] and "amsterdam" in expected["location"]

    upgrade(db_url)
    db = Database.connect(db_url)
    try:
        kinds = {"owner": "person", "location": "location", "cost_centre": "cost_centre"}
        for column, kind in kinds.items():
            rows = reference.reference_page(db, kind, state="all", limit=200).rows
            assert {r.code.casefold() for r in rows} == expected[column]  # none lost, none extra
            assert all(r.code == r.name and r.active for r in rows)
        codes = {kind: sorted(r.code for r in reference.reference_page(
            db, kind, state="all", limit=200).rows) for kind in kinds.values()}
        # "CC-100" is held by more rows than "cc-100", "Bea" and "bea" equally (the first in
        # sort order wins), and so do "Rotterdam" and the padded " rotterdam " of history.
        assert codes == {"person": ["Bea", "New Owner", "Old Owner"],
                         "location": ["Amsterdam", "Rotterdam", "Utrecht"],
                         "cost_centre": ["CC-100"]}
    finally:
        db.dispose()
    command.downgrade(alembic_config(db_url), "0012")
    db = Database.connect(db_url)
    try:
        assert "bir_reference_value" not in inspect(db.engine).get_table_names()
    finally:
        db.dispose()
    upgrade(db_url)
