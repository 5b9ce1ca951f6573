"""What a view needs from the running app, without importing the composition root."""

from __future__ import annotations

from flask import current_app

from usm.services.platform import Database

DATABASE_EXTENSION = "usm_db"


def database() -> Database:
    """The app's database handle; every service function takes it."""
    db: Database = current_app.extensions[DATABASE_EXTENSION]
    return db
