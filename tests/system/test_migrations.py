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
