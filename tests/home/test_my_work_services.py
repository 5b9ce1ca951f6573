"""My work, as the service answers it: each list with what waits for the user and nothing else,
bounded, and sent in as many statements for 100 changes as for 10."""

from __future__ import annotations

from datetime import timedelta

from bir.base import utcnow
from tests.support.helpers import counted, laptop
from usm.services import change_models, changes, home, item_classes
from usm.services.accounts import add_user, sign_in_failed
from usm.services.platform import Database

COORDINATOR, OWNER = ["change_coordinator"], ["service_owner"]


def _register(db: Database, title: str, *, hours_ago: float = 0, coordinator: str = "carol",
              n: int = 0) -> str:
    return changes.register_change(
        db, coordinator, model="normal-change", title=title, coordinator=coordinator,
        operations=[laptop(f"l{n}", f"SN-MW{n:05d}")],
        now=utcnow() - timedelta(hours=hours_ago)).key


def _to_authorisation(db: Database, key: str) -> None:
    changes.move_change(db, key, "assess", "carol")
    changes.update_change(db, key, "carol", {"risk": "low", "impact": "none"})
    changes.move_change(db, key, "submit_for_approval", "carol")


def _keys(work_list: home.WorkList | None) -> list[str]:
    assert work_list is not None
    return [row.key for row in work_list.rows]


def test_a_service_owner_sees_the_changes_awaiting_their_approval_until_they_decide(
        db: Database) -> None:
    waiting = _register(db, "Replace the core switch")
    _to_authorisation(db, waiting)
    _register(db, "Still being assessed", n=1)  # not in authorisation: not for the owner

    work = home.my_work(db, "sam", OWNER)
    assert _keys(work.approvals) == [waiting]
    assert work.approvals is not None and work.approvals.total == 1
    assert work.waiting == 1 == home.waiting_count(db, "sam", OWNER)
    # The coordinator approves nothing: the list is not theirs at all.
    assert home.my_work(db, "carol", COORDINATOR).approvals is None

    changes.approve_change(db, waiting, "sam")
    work = home.my_work(db, "sam", OWNER)
    assert work.approvals is not None and work.approvals.total == 0
    assert home.waiting_count(db, "sam", OWNER) == 0


def test_a_decision_in_this_round_takes_the_change_off_only_that_approvers_list(
        db: Database) -> None:
    add_user(db, "olga", "correct-horse-battery", OWNER)
    key = _register(db, "Retire the old file server")
    _to_authorisation(db, key)
    changes.move_change(db, key, "rework", "carol")  # back to assessment: a new round follows
    changes.move_change(db, key, "submit_for_approval", "carol")
    assert _keys(home.my_work(db, "sam", OWNER).approvals) == [key]
    assert _keys(home.my_work(db, "olga", OWNER).approvals) == [key]


def test_my_overdue_changes_are_mine_only_and_past_their_time_target(db: Database) -> None:
    late = _register(db, "Registered two days ago", hours_ago=48)
    _register(db, "Registered just now", n=1)
    add_user(db, "cora", "correct-horse-battery", COORDINATOR)
    _register(db, "Late but someone else's", hours_ago=48, coordinator="cora", n=2)

    work = home.my_work(db, "carol", COORDINATOR)
    assert _keys(work.overdue) == [late]
    assert work.overdue is not None and work.overdue.rows[0].overdue
    assert home.waiting_count(db, "carol", COORDINATOR) == 1
    assert len(_keys(home.my_work(db, "cora", COORDINATOR).overdue)) == 1


def test_the_next_move_lists_my_changes_where_i_act_not_the_approvers(db: Database) -> None:
    mine = _register(db, "Register the new laptops")
    waiting_for_owner = _register(db, "Waiting for the service owner", n=1)
    _to_authorisation(db, waiting_for_owner)

    work = home.my_work(db, "carol", COORDINATOR)
    assert _keys(work.next_moves) == [mine]
    assert home.my_work(db, "sam", OWNER).next_moves is None  # owners approve; they move nothing


def test_nothing_waits_for_a_new_user_and_each_role_gets_its_own_lists(db: Database) -> None:
    coordinator = home.my_work(db, "carol", COORDINATOR)
    assert coordinator.nothing_waits and coordinator.waiting == 0
    assert coordinator.overdue is not None and coordinator.overdue.total == 0
    assert coordinator.drafts is None and coordinator.sign_in_problems is None
    designer = home.my_work(db, "pat", ["process_designer"])
    assert designer.drafts == [] and designer.approvals is None and designer.nothing_waits
    admin = home.my_work(db, "ada", ["administrator"])
    assert admin.sign_in_problems is not None and admin.nothing_waits
    assert home.waiting_count(db, "pat", ["process_designer"]) == 0


def test_a_designer_sees_their_own_drafts(db: Database) -> None:
    change_models.draft_from(db, "normal-change", 1, by="pat")
    item_classes.draft_from(db, "hardware.laptop", 1, by="pat")
    change_models.draft_from(db, "standard-change", 1, by="someone-else")

    drafts = home.my_work(db, "pat", ["process_designer"]).drafts
    assert drafts is not None
    assert sorted((d.kind, d.code) for d in drafts) == [
        ("change_model", "normal-change"), ("item_class", "hardware.laptop")]


def test_an_administrator_sees_the_sign_in_problems_of_the_last_day(db: Database) -> None:
    sign_in_failed(db, "mallory", "10.0.0.9")
    sign_in_failed(db, "mallory", "10.0.0.9", now=utcnow() - timedelta(days=2))  # too long ago
    problems = home.my_work(db, "ada", ["administrator"]).sign_in_problems
    assert problems is not None and (problems.failed, problems.throttled) == (1, 0)
    assert not home.my_work(db, "ada", ["administrator"]).nothing_waits


def test_each_list_shows_the_first_ten_and_counts_all(db: Database) -> None:
    for n in range(12):
        _register(db, f"Late change {n}", hours_ago=48 + n, n=n)
    overdue = home.my_work(db, "carol", COORDINATOR).overdue
    assert overdue is not None
    assert overdue.total == 12 and len(overdue.rows) == home.LIST_SIZE and overdue.more
    assert overdue.rows[0].title == "Late change 11"  # waiting longest first


def test_statements_do_not_grow_with_the_number_of_changes(db: Database) -> None:
    def statements(username: str, roles: list[str]) -> tuple[int, int]:
        with counted(db) as page:
            home.my_work(db, username, roles)
        with counted(db) as badge:
            home.waiting_count(db, username, roles)
        return len(page), len(badge)

    def add(first: int, count: int) -> None:
        for n in range(first, first + count):
            key = _register(db, f"Change {n}", hours_ago=48, n=n)
            if n % 2:
                _to_authorisation(db, key)

    add(0, 10)
    few = statements("carol", COORDINATOR), statements("sam", OWNER)
    add(10, 90)
    many = statements("carol", COORDINATOR), statements("sam", OWNER)
    assert many == few
    # models, one count (and a BEGIN); a coordinator's check-outs due back are one count more
    (_page, coordinator), (_page, owner) = many
    assert coordinator <= 4 and owner <= 3, many
    assert home.my_work(db, "sam", OWNER).approvals.total == 50  # type: ignore[union-attr]
