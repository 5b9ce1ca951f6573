"""The demo data: built only through changes, with history on both sides of 31 January 2026."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, func, select

from bir.impact import supporting_item_ids
from bir.items import Item, ItemVersion
from bir.queries import ItemFilter
from bir.relations import Relation
from usm.accounts import User
from usm.services import register
from usm.services.accounts import authenticate
from usm.services.changes import list_changes
from usm.services.platform import Database, DemoRefused, load_demo
from usm.services.platform.demo import DEMO_USERS
from workflows.models import Approval, Change, StepLogEntry

DEMO_ITEMS = 50
DEMO_CHANGES = 22
CUT = datetime(2026, 1, 31, tzinfo=UTC)
TODAY = datetime(2026, 11, 23, tzinfo=UTC)


def _key(db: Database, name: str) -> str:
    rows, _ = register.list_items(db, ItemFilter(text=name))
    [row] = [r for r in rows if r.name == name]
    return row.key


def _counts(db: Database) -> dict[str, int]:
    with db.reading() as session:
        return {model.__name__: session.scalar(select(func.count()).select_from(model)) or 0
                for model in (Item, ItemVersion, Relation, Change, StepLogEntry, Approval, User)}


def test_demo_builds_the_register_only_through_changes_once(db: Database) -> None:
    report = load_demo(db)

    assert 40 <= report.items <= 60 and report.items == DEMO_ITEMS
    assert report.changes_created == DEMO_CHANGES
    steps = {c.step for c in list_changes(db, open_only=False, limit=500)}
    assert {"registration", "authorisation", "planning", "evaluation", "closed", "rejected",
            "withdrawn"} <= steps
    assert sum(report.changes_by_step.values()) == DEMO_CHANGES
    with db.reading() as session:
        # Every version of every item was made by a change, at the moment it was implemented.
        versions = session.execute(
            select(ItemVersion.key, ItemVersion.valid_from, Change.key, Change.implemented_at)
            .outerjoin(Change, Change.id == ItemVersion.change_id)).all()
        assert len(versions) > DEMO_ITEMS
        for item_key, valid_from, change_key, implemented_at in versions:
            assert change_key is not None, item_key
            assert implemented_at == valid_from, (item_key, change_key)
        relations = session.execute(
            select(Relation.kind, Change.implemented_at, Relation.valid_from)
            .outerjoin(Change, Change.id == Relation.change_id)).all()
        assert relations and all(at == valid_from for _, at, valid_from in relations)
        kinds = {kind for kind, _, _ in relations}
        assert {"runs_on", "installed_on", "licensed_by", "supports", "located_in",
                "connected_to"} <= kinds
        # The simulated clock ran from March 2025 to before today.
        moments = session.scalars(select(StepLogEntry.at)).all()
        assert min(moments) >= datetime(2025, 3, 1, tzinfo=UTC) and max(moments) < TODAY
        statuses = set(session.scalars(select(Item.status)))
        classes = set(session.scalars(select(Item.class_code)))
    assert {"in_use", "in_stock", "maintenance", "retired", "disposed"} <= statuses
    assert {"service", "hardware.laptop", "hardware.server", "network.switch", "virtual_machine",
            "cloud.instance", "software.installation", "licence.entitlement", "building",
            "building.room"} <= classes

    # Loading again is refused before anything is written.
    before = _counts(db)
    with pytest.raises(DemoRefused, match=f"already holds {DEMO_ITEMS} item"):
        load_demo(db)
    assert _counts(db) == before


def test_demo_history_reads_as_of_and_services_have_support(db: Database) -> None:
    load_demo(db)

    laptop = _key(db, "Laptop UT-LT-003")
    before, now = register.item_view(db, laptop, as_of=CUT), register.item_view(db, laptop)
    assert before.core["owner"] == "Pieter Bakker" and now.core["owner"] == "Iris van Dijk"
    assert before.version < now.version
    server = _key(db, "esx-02")
    assert register.item_view(db, server, as_of=CUT).core["status"] == "in_use"
    assert register.item_view(db, server).core["status"] == "maintenance"
    history = register.item_history(db, server)
    assert [h.valid_from < CUT for h in history] == [True, True, False]

    payroll_vm = register.item_view(db, _key(db, "vm-payroll-01"))
    assert [name for _, name in payroll_vm.services] == ["Payroll"]
    assert any(r.kind == "runs_on" and r.name == "esx-03" for r in payroll_vm.relations)
    as_of = register.item_view(db, payroll_vm.key, as_of=CUT)
    assert any(r.kind == "runs_on" and r.name == "esx-02" for r in as_of.relations)
    with db.reading() as session:
        services = session.scalars(select(Item).where(Item.class_code == "service")).all()
        assert sorted(s.name for s in services) == ["Customer portal", "E-mail", "Payroll"]
        for service in services:
            assert supporting_item_ids(session, service.id), service.name


def test_demo_creates_missing_users_with_the_documented_passwords(sqlite_url: str) -> None:
    db = Database.connect(sqlite_url)
    try:
        with db.transaction() as session:  # the test template has all four; drop two
            session.execute(delete(User).where(User.username.in_(["sam", "ada"])))

        report = load_demo(db)

        assert report.users_created == ["sam", "ada"]
        for username, (role, _, password) in DEMO_USERS.items():
            assert len(password) >= 10
            if username in report.users_created:
                user = authenticate(db, username, password)
                assert user is not None and user.roles == [role]
        assert "sam / sam-services-2026" in report.summary
    finally:
        db.dispose()


def test_demo_refuses_when_a_demo_user_lacks_its_role(sqlite_url: str) -> None:
    db = Database.connect(sqlite_url)
    try:
        with db.transaction() as session:
            session.scalar(select(User).where(User.username == "carol")).roles = ["administrator"]
        before = _counts(db)

        with pytest.raises(DemoRefused, match="carol exists but is not an active"):
            load_demo(db)

        assert _counts(db) == before
    finally:
        db.dispose()
