"""Check-out, check-in and reservations through the service layer, on SQLite and PostgreSQL: each
chore is one change of the shipped check-out model with its full step log, the register changes
at implementation, and the refusals name the item, the person and the days."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.support.helpers import at, implement_normal_change, laptop
from usm.services import change_models, changes, checkouts, register
from usm.services.checkouts import (
    AlreadyBooked,
    AlreadyCheckedOut,
    NotCheckedOut,
    StatusNotAllowed,
)
from usm.services.errors import Invalid, NotFound
from usm.services.platform import Database

WHEN = at("2026-03-02")
TODAY = WHEN.date()
PERSON = "Iris van Dijk"  # a person of the demo data
FULL_LOG = ["registration", "assessment", "authorisation", "planning", "realisation",
            "implementation", "evaluation", "closed"]
MODEL_FILE = Path(__file__).resolve().parents[2] / "workflows" / "change_models" / "check-out.yaml"


@pytest.fixture
def stock(db: Database) -> Database:
    """LAP-000001..3 in stock in the store room, LAP-000004 retired, DOC-like holder LAP-000005
    in use."""
    implement_normal_change(db, [
        laptop("a", "SN-C-1", status="in_stock", location="IT store room, floor 0"),
        laptop("b", "SN-C-2", status="in_stock", location="IT store room, floor 0"),
        laptop("c", "SN-C-3", status="in_stock", location="IT store room, floor 0"),
        laptop("d", "SN-C-4", status="retired"),
        laptop("e", "SN-C-5", status="in_use", owner="Tom Bos")], at("2026-02-01"))
    return db


def core(db: Database, key: str) -> dict[str, object]:
    return register.item_view(db, key).core


def test_check_out_to_a_person_runs_through_every_step_and_registers_it(stock: Database) -> None:
    done = checkouts.check_out(stock, "carol", ["LAP-000001"], to_person=PERSON,
                               expected_return=date(2026, 3, 9), now=WHEN)
    assert done.reached and done.step == "closed" and done.blocked == ()
    detail = changes.change_detail(stock, done.key)
    assert detail.summary.title == f"Check out LAP-000001 to {PERSON}"
    assert detail.summary.model == "check-out"
    assert [row.to_step for row in detail.log] == FULL_LOG
    assert detail.approvals[0].automatic and detail.outcome == "successful"
    assert "LAP-000001" in (detail.impact or "")
    assert core(stock, "LAP-000001")["owner"] == PERSON
    assert core(stock, "LAP-000001")["status"] == "in_use"
    row = checkouts.current_checkout(stock, "LAP-000001", today=TODAY)
    assert row is not None and row.state == checkouts.OUT and row.assignee == PERSON
    assert (row.change_key, row.expected_return, row.created_by) == \
        (done.key, date(2026, 3, 9), "carol")


def test_check_in_clears_the_owner_puts_it_in_stock_where_told(stock: Database) -> None:
    checkouts.check_out(stock, "carol", ["LAP-000001"], to_person=PERSON, now=WHEN)
    back = checkouts.check_in(stock, "carol", ["LAP-000001"], location="Service desk",
                              now=WHEN + timedelta(days=3))
    assert back.reached and back.step == "closed"
    detail = changes.change_detail(stock, back.key)
    assert detail.summary.title == f"Check in LAP-000001 from {PERSON}"
    assert [row.to_step for row in detail.log] == FULL_LOG
    view = core(stock, "LAP-000001")
    assert (view["owner"], view["status"], view["location"]) == (None, "in_stock",
                                                                  "Service desk")
    assert checkouts.current_checkout(stock, "LAP-000001") is None
    (history,) = checkouts.item_checkouts(stock, "LAP-000001")
    assert history.state == checkouts.RETURNED and history.checkin_change_key == back.key


def test_check_in_without_a_location_keeps_it(stock: Database) -> None:
    checkouts.check_out(stock, "carol", ["LAP-000001"], to_location="Meeting room 2.14",
                        now=WHEN)
    assert core(stock, "LAP-000001")["location"] == "Meeting room 2.14"
    checkouts.check_in(stock, "carol", ["LAP-000001"], now=WHEN + timedelta(hours=2))
    view = core(stock, "LAP-000001")
    assert (view["location"], view["status"]) == ("Meeting room 2.14", "in_stock")


def test_check_out_to_an_item_adds_and_check_in_ends_the_relation(stock: Database) -> None:
    done = checkouts.check_out(stock, "carol", ["LAP-000002"], to_item="lap-000005", now=WHEN)
    assert done.reached
    relations = [(r.kind, r.key, r.outgoing) for r in register.item_view(stock, "LAP-000002")
                 .relations]
    assert ("assigned_to", "LAP-000005", True) in relations
    checkouts.check_in(stock, "carol", ["LAP-000002"], now=WHEN + timedelta(hours=1))
    assert register.item_view(stock, "LAP-000002").relations == []


def test_several_items_are_one_change(stock: Database) -> None:
    before = len(changes.list_changes(stock, open_only=False, limit=500))
    done = checkouts.check_out(stock, "carol", ["LAP-000001", "LAP-000002", "LAP-000003"],
                               to_person=PERSON, now=WHEN)
    assert len(changes.list_changes(stock, open_only=False, limit=500)) == before + 1
    detail = changes.change_detail(stock, done.key)
    assert {op["item"] for op in detail.operations} == {"LAP-000001", "LAP-000002",
                                                         "LAP-000003"}
    assert all(core(stock, k)["owner"] == PERSON for k in ("LAP-000001", "LAP-000002",
                                                           "LAP-000003"))
    assert len(checkouts.list_checkouts(stock, today=TODAY)) == 3
    back = checkouts.check_in(stock, "carol", ["LAP-000001", "LAP-000002", "LAP-000003"],
                              now=WHEN + timedelta(days=1))
    assert back.reached and checkouts.list_checkouts(stock, today=TODAY) == []


def test_a_second_check_out_is_refused_by_name(stock: Database) -> None:
    first = checkouts.check_out(stock, "carol", ["LAP-000001"], to_person=PERSON, now=WHEN)
    before = len(changes.list_changes(stock, open_only=False, limit=500))
    with pytest.raises(AlreadyCheckedOut) as refused:
        checkouts.check_out(stock, "carol", ["LAP-000002", "LAP-000001"], to_person="Tom Bos",
                            now=WHEN + timedelta(hours=1))
    assert str(refused.value) == (f"LAP-000001 is already checked out to {PERSON} since "
                                  f"2026-03-02 ({first.key}): check it in first")
    assert len(changes.list_changes(stock, open_only=False, limit=500)) == before
    assert core(stock, "LAP-000002")["status"] == "in_stock"  # nothing of it was recorded


def test_checking_in_what_is_not_out_is_refused_by_name(stock: Database) -> None:
    with pytest.raises(NotCheckedOut, match="^LAP-000001 is not checked out$"):
        checkouts.check_in(stock, "carol", ["LAP-000001"], now=WHEN)
    checkouts.check_out(stock, "carol", ["LAP-000001"], to_person=PERSON, now=WHEN)
    checkouts.check_in(stock, "carol", ["LAP-000001"], now=WHEN + timedelta(hours=1))
    with pytest.raises(NotCheckedOut, match="LAP-000001 is not checked out"):
        checkouts.check_in(stock, "carol", ["LAP-000001"], now=WHEN + timedelta(hours=2))


def test_a_status_that_does_not_allow_it_is_named(stock: Database) -> None:
    with pytest.raises(StatusNotAllowed, match="LAP-000004 is retired: only an item in stock"):
        checkouts.check_out(stock, "carol", ["LAP-000001", "LAP-000004"], to_person=PERSON,
                            now=WHEN)
    with pytest.raises(NotFound, match="there is no item LAP-000099"):
        checkouts.check_out(stock, "carol", ["LAP-000099"], to_person=PERSON, now=WHEN)
    with pytest.raises(Invalid, match="already in use by Tom Bos"):
        checkouts.check_out(stock, "carol", ["LAP-000005"], to_person="Tom Bos", now=WHEN)


def test_one_target_and_sane_dates(stock: Database) -> None:
    with pytest.raises(Invalid, match="give one of"):
        checkouts.check_out(stock, "carol", ["LAP-000001"], now=WHEN)
    with pytest.raises(Invalid, match="give one of"):
        checkouts.check_out(stock, "carol", ["LAP-000001"], to_person=PERSON,
                            to_location="Utrecht", now=WHEN)
    with pytest.raises(Invalid, match="in the past"):
        checkouts.check_out(stock, "carol", ["LAP-000001"], to_person=PERSON,
                            expected_return=TODAY - timedelta(days=1), now=WHEN)
    with pytest.raises(Invalid, match="more than two years ahead"):
        checkouts.check_out(stock, "carol", ["LAP-000001"], to_person=PERSON,
                            expected_return=TODAY + timedelta(days=800), now=WHEN)
    with pytest.raises(Invalid, match="at most 64 characters"):
        checkouts.check_out(stock, "carol", ["LAP-000001"], to_person="x" * 65, now=WHEN)
    with pytest.raises(Invalid, match="cannot be checked out to itself"):
        checkouts.check_out(stock, "carol", ["LAP-000001"], to_item="LAP-000001", now=WHEN)
    with pytest.raises(Invalid, match="at most 500 items"):
        checkouts.check_out(stock, "carol", [f"LAP-{n:06d}" for n in range(501)],
                            to_person=PERSON, now=WHEN)
    assert checkouts.list_checkouts(stock) == []


def _stricter_model(db: Database) -> None:
    """A designer's version 2 asks for a description before confirming: the chore cannot give
    one, so the change stops there for a coordinator."""
    source = MODEL_FILE.read_text(encoding="utf-8").replace(
        "      - required_fields: {fields: [impact]}",
        "      - required_fields: {fields: [impact, description]}")
    saved = change_models.save_new_draft(db, source)
    change_models.publish(db, saved.code, saved.version)


def test_a_blocked_check_out_stays_pending_and_says_why(stock: Database) -> None:
    _stricter_model(stock)
    done = checkouts.check_out(stock, "carol", ["LAP-000001"], to_person=PERSON, now=WHEN)
    assert not done.reached and done.step == "assessment" and done.state == "checking"
    assert any("description" in reason for reason in done.blocked)
    assert core(stock, "LAP-000001")["owner"] is None  # not registered: the change waits
    row = checkouts.current_checkout(stock, "LAP-000001", today=TODAY)
    assert row is not None and row.state == checkouts.PENDING and row.change_key == done.key
    with pytest.raises(AlreadyCheckedOut, match="already being checked out to Iris van Dijk"):
        checkouts.check_out(stock, "carol", ["LAP-000001"], to_person="Tom Bos", now=WHEN)
    with pytest.raises(NotCheckedOut, match=f"its check-out {done.key} is not implemented"):
        checkouts.check_in(stock, "carol", ["LAP-000001"], now=WHEN)
    # A coordinator finishes the change by hand: from then on the item counts as out.
    changes.update_change(stock, done.key, "carol", {"description": "loan"}, now=WHEN)
    for trigger in ("confirm_standard", "hand_over", "implement"):
        changes.move_change(stock, done.key, trigger, "carol", now=WHEN)
    row = checkouts.current_checkout(stock, "LAP-000001", today=TODAY)
    assert row is not None and row.state == checkouts.OUT
    # A withdrawn check-out is void: the item can be checked out again.
    other = checkouts.check_out(stock, "carol", ["LAP-000002"], to_person=PERSON, now=WHEN)
    changes.move_change(stock, other.key, "withdraw", "carol", now=WHEN)
    assert checkouts.current_checkout(stock, "LAP-000002") is None


def test_overdue_and_my_check_outs_due_back(stock: Database) -> None:
    checkouts.check_out(stock, "carol", ["LAP-000001"], to_person=PERSON,
                        expected_return=date(2026, 3, 4), now=WHEN)
    checkouts.check_out(stock, "carol", ["LAP-000002"], to_person="Tom Bos",
                        expected_return=date(2026, 3, 20), now=WHEN)
    checkouts.check_out(stock, "carol", ["LAP-000003"], to_location="Lab", now=WHEN)
    later = date(2026, 3, 10)
    overdue = checkouts.list_checkouts(stock, today=later, overdue=True)
    assert [(r.item_key, r.overdue) for r in overdue] == [("LAP-000001", True)]
    assert checkouts.list_checkouts(stock, today=date(2026, 3, 4), overdue=True) == []
    due = checkouts.due(stock, requested_by="carol", until=date(2026, 3, 20), today=later)
    assert [r.item_key for r in due] == ["LAP-000001", "LAP-000002"]
    assert checkouts.due(stock, requested_by="sam", until=date(2026, 3, 20)) == []
    assert [r.item_key for r in checkouts.list_checkouts(stock, text="tom")] == ["LAP-000002"]


def test_a_reservation_that_overlaps_is_refused_by_name(stock: Database) -> None:
    booked = checkouts.reserve(stock, "carol", "lap-000003", person=PERSON,
                               starts_on=date(2026, 12, 10), ends_on=date(2026, 12, 12),
                               note="Sales fair", now=WHEN)
    assert (booked.item_key, booked.person, booked.created_by) == ("LAP-000003", PERSON, "carol")
    for first, last in ((date(2026, 12, 12), date(2026, 12, 14)),
                        (date(2026, 12, 8), date(2026, 12, 10)),
                        (date(2026, 12, 1), date(2026, 12, 31))):
        with pytest.raises(AlreadyBooked) as refused:
            checkouts.reserve(stock, "carol", "LAP-000003", person="Tom Bos", starts_on=first,
                              ends_on=last, now=WHEN)
        assert str(refused.value) == ("LAP-000003 is already booked for Iris van Dijk from "
                                      "2026-12-10 to 2026-12-12")
        assert refused.value.person == PERSON
    # The days next to it are free; a cancelled booking frees its days.
    checkouts.reserve(stock, "carol", "LAP-000003", person="Tom Bos",
                      starts_on=date(2026, 12, 13), ends_on=date(2026, 12, 13), now=WHEN)
    checkouts.cancel(stock, "sam", booked.id, now=WHEN)
    again = checkouts.reserve(stock, "carol", "LAP-000003", person="Tom Bos",
                              starts_on=date(2026, 12, 10), ends_on=date(2026, 12, 12), now=WHEN)
    assert [r.id for r in checkouts.upcoming(stock, item_key="LAP-000003", today=TODAY)] == \
        [again.id, again.id - 1]


def test_a_check_out_during_another_persons_booking_is_refused(stock: Database) -> None:
    checkouts.reserve(stock, "carol", "LAP-000001", person=PERSON, starts_on=date(2026, 3, 5),
                      ends_on=date(2026, 3, 6), now=WHEN)
    with pytest.raises(AlreadyBooked, match="booked for Iris van Dijk from 2026-03-05"):
        checkouts.check_out(stock, "carol", ["LAP-000001"], to_person="Tom Bos",
                            expected_return=date(2026, 3, 5), now=WHEN)
    with pytest.raises(AlreadyBooked):
        checkouts.check_out(stock, "carol", ["LAP-000001"], to_location="Lab",
                            expected_return=date(2026, 3, 8), now=WHEN)
    # Before the booking starts, or to the person it is booked for, it may go.
    assert checkouts.check_out(stock, "carol", ["LAP-000001"], to_person="iris van dijk",
                               expected_return=date(2026, 3, 6), now=WHEN).reached


def test_reservation_limits(stock: Database) -> None:
    def reserve(**kw: object) -> None:
        values = {"person": PERSON, "starts_on": date(2026, 4, 1), "ends_on": date(2026, 4, 2),
                  **kw}
        checkouts.reserve(stock, "carol", str(values.pop("key", "LAP-000001")), now=WHEN,
                          **values)  # type: ignore[arg-type]

    with pytest.raises(Invalid, match="ends_on: is before the first day"):
        reserve(ends_on=date(2026, 3, 31))
    with pytest.raises(Invalid, match="in the past"):
        reserve(starts_on=date(2026, 3, 1))
    with pytest.raises(Invalid, match="more than two years ahead"):
        reserve(ends_on=date(2028, 4, 2))
    with pytest.raises(Invalid, match="note: at most 500 characters"):
        reserve(note="n" * 501)
    with pytest.raises(Invalid, match="person: is required"):
        reserve(person=" ")
    with pytest.raises(StatusNotAllowed, match="LAP-000004 is retired"):
        reserve(key="LAP-000004")
    with pytest.raises(NotFound):
        reserve(key="LAP-000404")
    with pytest.raises(Invalid, match="name one item key"):
        reserve(key="LAP-000001 LAP-000002")
    reserve(starts_on=TODAY, ends_on=TODAY)  # today itself may be booked
    with pytest.raises(NotFound):
        checkouts.cancel(stock, "carol", 9999, now=WHEN)


def test_racing_bookings_and_check_outs_end_with_one_winner(stock: Database) -> None:
    """Six people book the same days, and six check the same item out, at once: the item's row
    is locked while each is decided, so exactly one of each wins and the others are refused by
    name."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    start = threading.Barrier(6)

    def book(n: int) -> str:
        start.wait()
        try:
            checkouts.reserve(stock, "carol", "LAP-000002", person=f"Person {n}",
                              starts_on=date(2026, 5, 1), ends_on=date(2026, 5, 3), now=WHEN)
        except AlreadyBooked as exc:
            return f"refused: {exc.person}"
        return "booked"

    with ThreadPoolExecutor(6) as pool:
        outcomes = list(pool.map(book, range(6)))
    assert outcomes.count("booked") == 1
    (winner,) = checkouts.upcoming(stock, item_key="LAP-000002", today=TODAY)
    assert sorted(o for o in outcomes if o != "booked") == [f"refused: {winner.person}"] * 5

    def check_out(n: int) -> str:
        start.wait()
        try:
            checkouts.check_out(stock, "carol", ["LAP-000003"], to_person=f"Person {n}",
                                now=WHEN)
        except AlreadyCheckedOut:
            return "refused"
        return "out"

    with ThreadPoolExecutor(6) as pool:
        outcomes = list(pool.map(check_out, range(6)))
    assert outcomes.count("out") == 1 and outcomes.count("refused") == 5
    assert len(checkouts.list_checkouts(stock, today=TODAY)) == 1
