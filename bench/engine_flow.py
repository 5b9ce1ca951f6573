"""Driving the product for the benchmark: a fresh database, and standard changes carried through
the engine (usm.services.changes) exactly as a coordinator would."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from usm.db import upgrade
from usm.services import change_models, changes
from usm.services.accounts import add_user
from usm.services.platform import Database, install_shipped

COORDINATOR = "carol"
PASSWORD = "bench-password-2026"
# The synthetic estate is worth millions, far above the shipped standard change's cost limit:
# the benchmark registers it through a standard model of its own whose limit fits (the cost guard
# weighs the change set's value, not only the typed estimate).
MODEL = "bench-standard"


def prepare(url: str) -> Database:
    """Migrate an empty database, install the shipped classes and models, add the users."""
    upgrade(url)
    db = Database.connect(url)
    install_shipped(db)
    add_user(db, COORDINATOR, PASSWORD, ["change_coordinator"], display_name="Carol")
    add_user(db, "sam", PASSWORD, ["service_owner"], display_name="Sam")
    shipped = change_models.version_source(db, "standard-change",
                                           change_models.published_version(db, "standard-change"))
    source = (shipped.replace("code: standard-change", f"code: {MODEL}")
              .replace("name: Standard change", "name: Benchmark standard change")
              .replace("cost_at_most: {amount: 1000}", "cost_at_most: {amount: 9999999999999}"))
    draft = change_models.save_new_draft(db, source, by=COORDINATOR)
    change_models.publish(db, MODEL, draft.version)
    return db


def register_standard(db: Database, operations: list[dict[str, Any]], when: datetime,
                      title: str) -> str:
    """Register a standard change and carry it to realisation (a minute apart before ``when``)."""
    start = when - timedelta(minutes=10)
    key = changes.register_change(
        db, COORDINATOR, model=MODEL, title=title, operations=operations, now=start,
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
