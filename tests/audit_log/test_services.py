"""The audit log: each audited action writes exactly one row, in the same transaction as the
action (a refused or failed action leaves none, and a failed row undoes the action); filters,
pages and the export."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.conftest import PASSWORD
from tests.support.helpers import at
from usm.accounts import ApiToken, User
from usm.services import accounts, audit_log
from usm.services.audit_log import CLI, WEB, AuditQuery, AuditRow, Origin
from usm.services.errors import ValidationFailed
from usm.services.platform import Database, export
from usm.services.user_input import InputError


def _rows(db: Database, **filters: object) -> list[AuditRow]:
    return audit_log.audit_entries(db, AuditQuery(limit=500, **filters)).rows  # type: ignore[arg-type]


def _actions(db: Database) -> Counter[str]:
    return Counter(row.action for row in _rows(db))


ADMIN = Origin("ada", address="192.0.2.1", via=WEB)


def _user_id(db: Database, username: str) -> int:
    with db.reading() as session:
        found = session.scalar(select(User.id).where(User.username == username))
    assert found is not None
    return found


def test_every_account_action_writes_one_row(db: Database) -> None:
    accounts.add_user(db, "dana", PASSWORD, ["service_owner"], origin=ADMIN)
    accounts.update_user(db, "dana", display_name="Dana D", roles=["change_coordinator"],
                         active=True, acting_user="ada", origin=ADMIN)
    accounts.set_language(db, "dana", "nl", origin=Origin("dana", via=WEB))
    accounts.set_language(db, "dana", "nl", origin=Origin("dana", via=WEB))  # no change: no row
    secret = accounts.open_session(db, _user_id(db, "dana"), address="192.0.2.9")
    accounts.end_session(db, secret, address="192.0.2.9")
    accounts.end_all_sessions(db, "dana", ADMIN)
    made = accounts.create_token(db, "dana", "script", origin=Origin("dana", via=WEB))
    accounts.authenticate_token(db, made.secret, now=at("2026-06-01", 10))
    accounts.authenticate_token(db, made.secret, now=at("2026-06-01", 10) + timedelta(seconds=30))
    accounts.revoke_token(db, made.token.id, origin=Origin("dana", via=WEB))
    accounts.revoke_token(db, made.token.id)  # already revoked: nothing happens, no row
    accounts.reset_password(db, "dana", "another-password-1", origin=ADMIN)
    accounts.update_user(db, "dana", display_name="Dana D", roles=["change_coordinator"],
                         active=False, acting_user="ada", origin=ADMIN)
    accounts.update_user(db, "dana", display_name="Dana D", roles=["change_coordinator"],
                         active=True, acting_user="ada", origin=ADMIN)
    accounts.sign_in_failed(db, "dana", "192.0.2.9")

    assert _actions(db) == Counter({
        "user.created": 5, "user.renamed": 1, "user.roles_changed": 1, "settings.language": 1,
        "sign_in": 1, "sign_out": 1, "sessions.ended": 1, "token.created": 1, "token.used": 1,
        "token.revoked": 1, "user.password_reset": 1, "user.deactivated": 1,
        "user.activated": 1, "sign_in.failed": 1})  # 4 test users and dana were created
    roles = _rows(db, action="user.roles_changed")[0]
    assert (roles.actor, roles.acting_as, roles.target, roles.address, roles.via) == (
        "ada", None, "dana", "192.0.2.1", WEB)
    assert roles.details == {"before": ["service_owner"], "after": ["change_coordinator"]}
    assert _rows(db, action="sign_in")[0].details == {"source": "local"}
    assert _rows(db, action="user.password_reset")[0].details == {
        "sessions_ended": 0, "tokens_revoked": 0}
    failed = _rows(db, action="sign_in.failed")[0]
    assert (failed.actor, failed.address) == ("dana", "192.0.2.9")


def test_a_deactivation_records_what_it_ended(db: Database) -> None:
    accounts.create_token(db, "carol", "script")
    accounts.open_session(db, _user_id(db, "carol"))
    accounts.open_session(db, _user_id(db, "carol"))

    accounts.update_user(db, "carol", display_name="Carol", roles=["change_coordinator"],
                         active=False, acting_user="ada")

    (row,) = _rows(db, action="user.deactivated")
    assert row.details == {"sessions_ended": 2, "tokens_revoked": 1}
    assert (row.actor, row.via) == ("ada", CLI)


def test_a_refused_action_leaves_no_row(db: Database) -> None:
    before = _actions(db)
    with pytest.raises(ValidationFailed):
        accounts.update_user(db, "ada", display_name="Ada", roles=["administrator"],
                             active=False, acting_user="ada")  # may not deactivate herself
    with pytest.raises(ValidationFailed):
        accounts.reset_password(db, "sam", "short")
    assert _actions(db) == before


def test_the_row_is_written_in_the_same_transaction_as_the_action(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """A row that cannot be written undoes the action: no password reset goes unrecorded."""
    token = accounts.create_token(db, "sam", "script")
    secret = accounts.open_session(db, _user_id(db, "sam"))
    import usm.services.accounts.users as users

    def failing(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("the audit log is unavailable")

    monkeypatch.setattr(users, "record", failing)
    with pytest.raises(RuntimeError):
        accounts.reset_password(db, "sam", "another-password-1", origin=ADMIN)

    assert accounts.authenticate(db, "sam", PASSWORD) is not None, "the password is unchanged"
    assert accounts.session_user(db, secret) is not None, "the session still works"
    assert accounts.authenticate_token(db, token.secret) is not None, "the token still works"
    assert "user.password_reset" not in _actions(db)


def test_writes_while_acting_as_another_user_record_both(db: Database) -> None:
    origin = Origin("ada", acting_as="carol", address="192.0.2.1", via="api")
    with audit_log.acting_as(origin, "POST /api/v1/example"):
        accounts.set_language(db, "carol", "nl", origin=origin)  # one write transaction
        accounts.list_users(db)  # a read: nothing recorded
        with pytest.raises(ValidationFailed), db.transaction():
            raise ValidationFailed([])  # rolled back: nothing recorded
    accounts.set_language(db, "carol", "en")  # outside: no act_as row

    (acted,) = _rows(db, action="act_as")
    assert (acted.actor, acted.acting_as, acted.target, acted.via) == (
        "ada", "carol", "POST /api/v1/example", "api")
    language = _rows(db, action="settings.language")
    assert [(r.actor, r.acting_as) for r in language] == [("carol", None), ("ada", "carol")]


def test_filters_pages_and_input_errors(db: Database) -> None:
    with db.transaction() as session:
        for n in range(7):
            audit_log.record(session, Origin("carol" if n % 2 else "sam", via=WEB),
                             "sign_in", f"#{n}", at=at("2026-03-01") + timedelta(days=n))
        audit_log.record(session, Origin("ada", acting_as="carol", via="api"), "act_as", "x",
                         at=at("2026-03-10"))

    carols = _rows(db, actor="carol")
    assert [r.target for r in carols] == ["x", "#5", "#3", "#1"], "newest first, as actor or not"
    query = audit_log.audit_query({"action": "sign_in", "from": "2026-03-02", "to": "2026-03-04",
                                   "limit": "2"})
    first = audit_log.audit_entries(db, query)
    assert [r.target for r in first.rows] == ["#3", "#2"] and first.next_cursor
    second = audit_log.audit_entries(db, audit_log.audit_query({
        "action": "sign_in", "from": "2026-03-02", "to": "2026-03-04", "limit": "2",
        "cursor": first.next_cursor}))
    assert [r.target for r in second.rows] == ["#1"] and second.next_cursor is None

    for args, field in (({"action": "nope"}, "action"), ({"from": "yesterday"}, "from"),
                        ({"to": "2026-13-01"}, "to"), ({"cursor": "garbage"}, "cursor"),
                        ({"limit": "0"}, "limit")):
        with pytest.raises(InputError) as caught:
            audit_log.audit_query(args)
        assert caught.value.field == field


def test_the_export_holds_every_entry_and_neutralises_formulas(db: Database) -> None:
    accounts.sign_in_failed(db, "=HYPERLINK(\"http://x\")", "192.0.2.5")
    with db.transaction() as session:
        for n in range(1205):  # more than one batch of the export
            audit_log.record(session, Origin("sam", via=WEB), "token.used", f"#{n}")

    body, _media = export("csv", audit_log.audit_sheet(db, AuditQuery()))
    lines = body.decode("utf-8-sig").splitlines()
    assert lines[0] == "id,at,actor,acting_as,action,target,details,address,via"
    assert len(lines) == 1 + 1205 + 1 + 4  # header, uses, the failure, 4 test users created
    failure = next(line for line in lines if "sign_in.failed" in line)
    assert "'=HYPERLINK" in failure and ",=HYPERLINK" not in failure and \
        ',"=HYPERLINK' not in failure, "a spreadsheet does not run it"
    sams = audit_log.audit_sheet(db, AuditQuery(actor="sam", action="token.used"))
    assert len(list(sams.rows)) == 1205


def test_the_token_in_use_is_recorded_at_most_once_a_minute(db: Database) -> None:
    made = accounts.create_token(db, "carol", "agent", now=at("2026-06-01"))
    for seconds in (0, 20, 59, 60, 61, 130):
        accounts.authenticate_token(db, made.secret,
                                    now=at("2026-06-01", 10) + timedelta(seconds=seconds))
    uses = _rows(db, action="token.used")
    assert len(uses) == 3  # at 0, 60 and 130 seconds
    assert {(u.actor, u.acting_as, u.via) for u in uses} == {("carol", None, "api")}
    with db.reading() as session:
        assert session.scalar(select(ApiToken.last_used_at)) == at("2026-06-01", 10) + timedelta(
            seconds=130)
