"""Driving the product for the benchmark: a fresh database, and standard changes carried through
the engine (usm.services.changes) exactly as a coordinator would."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from usm.db import upgrade
from usm.services import changes
from usm.services.accounts import add_user
from usm.services.platform import Database, install_shipped

COORDINATOR = "carol"
PASSWORD = "bench-password-2026"


def prepare(url: str) -> Database:
    """Migrate an empty database, install the shipped classes and models, add the users."""
    upgrade(url)
    db = Database.connect(url)
    install_shipped(db)
    add_user(db, COORDINATOR, PASSWORD, ["change_coordinator"], display_name="Carol")
    add_user(db, "sam", PASSWORD, ["service_owner"], display_name="Sam")
    return db


def register_standard(db: Database, operations: list[dict[str, Any]], when: datetime,
                      title: str) -> str:
    """Register a standard change and carry it to realisation (a minute apart before ``when``)."""
    start = when - timedelta(minutes=10)
    key = changes.register_change(
        db, COORDINATOR, model="standard-change", title=title, operations=operations, now=start,
        risk="low", impact="benchmark", cost_estimate="100", currency="EUR",
        planned_start=start, planned_end=when + timedelta(hours=1)).key
    for minute, trigger in enumerate(("check", "confirm_standard", "start"), start=1):
        changes.move_change(db, key, trigger, COORDINATOR, now=start + timedelta(minutes=minute))
    return key


def implement_standard(db: Database, operations: list[dict[str, Any]], when: datetime,
                       title: str) -> str:
    """Register a standard change and implement it at ``when``; return its key."""
    key = register_standard(db, operations, when, title)
    changes.move_change(db, key, "implement", COORDINATOR, now=when)
    return key
