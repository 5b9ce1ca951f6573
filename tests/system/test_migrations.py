"""Alembic owns the schema: migrating an empty database gives exactly what the models declare."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bir.base import Base
from usm.services.platform import Database


def test_migrations_match_the_models(db: Database) -> None:
    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_downgrade_and_upgrade_again(db_url: str) -> None:
    from alembic import command

    from usm.db import alembic_config, upgrade

    command.downgrade(alembic_config(db_url), "0001")
    upgrade(db_url)
    database = Database.connect(db_url)
    try:
        with database.engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
    finally:
        database.dispose()


def test_changes_registered_before_0008_get_their_change_sets_value(db_url: str) -> None:
    """Migration 0008 works out what each stored change set is worth, as registration now does."""
    from alembic import command
    from sqlalchemy import text

    from tests.support.helpers import laptop
    from usm.db import alembic_config, upgrade
    from usm.services import changes

    database = Database.connect(db_url)
    try:
        key = changes.register_change(database, "carol", model="normal-change", title="Two",
                                      operations=[laptop("a", "SN-1", purchase_cost="100.10",
                                                         currency="EUR"),
                                                  laptop("b", "SN-2", purchase_cost="20.00",
                                                         currency="USD")]).key
    finally:
        database.dispose()
    command.downgrade(alembic_config(db_url), "0007")
    upgrade(db_url)
    database = Database.connect(db_url)
    try:
        with database.engine.connect() as connection:
            value = connection.execute(text("SELECT change_set_value FROM chm_change WHERE key = "
                                            ":key"), {"key": key}).scalar_one()
        assert (value if isinstance(value, dict) else __import__("json").loads(value)) == {
            "EUR": "100.10", "USD": "20.00"}
        assert changes.change_detail(database, key).change_set_value["USD"] == \
            __import__("decimal").Decimal("20.00")
    finally:
        database.dispose()
