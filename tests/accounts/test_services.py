"""User services: creating users, changing their roles and access, resetting passwords, and the
rules that keep the product administrable. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from bir.errors import FieldError, ValidationFailed
from tests.conftest import PASSWORD
from usm.services.accounts import (
    ROLES,
    UnknownUser,
    UserNotFound,
    actor_for,
    add_user,
    authenticate,
    list_users,
    new_user_errors,
    reset_password,
    update_user,
    user_by_username,
)
from usm.services.platform import Database
from workflows.skeleton import ROLES as SKELETON_ROLES

NEW_PASSWORD = "a-new-long-password"


def _fields(exc: pytest.ExceptionInfo[ValidationFailed]) -> dict[str, str]:
    return {e.field: e.message for e in exc.value.errors}


def _snapshot(db: Database) -> list[tuple[str, str, tuple[str, ...], bool]]:
    return [(u.username, u.display_name, tuple(u.roles), u.active) for u in list_users(db)]


def _actor_roles(db: Database, username: str) -> set[str]:
    with db.reading() as session:
        return set(actor_for(session, username).roles)


def test_role_labels_are_the_skeletons() -> None:
    assert ROLES == SKELETON_ROLES
    assert ROLES["process_designer"] == "Process designer"


def test_list_users_gives_names_roles_and_status(db: Database) -> None:
    users = list_users(db)

    assert [u.username for u in users] == ["ada", "carol", "pat", "sam"]
    ada = users[0]
    assert ada.roles == ["administrator"] and ada.role_labels == ["Administrator"]
    assert ada.active and ada.display_name == "Ada"


def test_add_user_creates_an_active_user_who_can_sign_in(db: Database) -> None:
    add_user(db, "dana", NEW_PASSWORD, ["service_owner", "change_coordinator", "service_owner"],
             display_name="  Dana Visser ")

    dana = user_by_username(db, "dana")
    assert dana.display_name == "Dana Visser"
    assert dana.roles == ["change_coordinator", "service_owner"]  # sorted, no duplicates
    assert dana.active
    assert authenticate(db, "dana", NEW_PASSWORD) is not None


def test_add_user_defaults_the_display_name_to_the_username(db: Database) -> None:
    add_user(db, "eve", NEW_PASSWORD, ["service_owner"])
    assert user_by_username(db, "eve").display_name == "eve"


def test_add_user_names_every_bad_field_and_writes_nothing(db: Database) -> None:
    before = _snapshot(db)

    with pytest.raises(ValidationFailed) as exc:
        add_user(db, "Not Valid", "short", ["superuser"], display_name="x" * 121)

    fields = _fields(exc)
    assert set(fields) == {"username", "password", "roles", "display_name"}
    assert "lower-case" in fields["username"]
    assert "at least 10" in fields["password"]
    assert "superuser" in fields["roles"]
    assert "120" in fields["display_name"]
    assert _snapshot(db) == before


def test_add_user_needs_a_role_and_a_new_username(db: Database) -> None:
    with pytest.raises(ValidationFailed) as exc:
        add_user(db, "carol", NEW_PASSWORD, [])

    fields = _fields(exc)
    assert fields["username"] == "carol already exists"
    assert fields["roles"] == "give at least one role"


def test_new_user_errors_lists_the_same_problems_without_writing(db: Database) -> None:
    before = _snapshot(db)

    assert new_user_errors(db, "dana", NEW_PASSWORD, ["service_owner"]) == []
    problems = new_user_errors(db, "sam", "short", [])

    assert {p.field for p in problems} == {"username", "password", "roles"}
    assert all(isinstance(p, FieldError) for p in problems)
    assert _snapshot(db) == before


def test_update_user_changes_name_roles_and_access(db: Database) -> None:
    row = update_user(db, "sam", display_name="Sam Jansen",
                      roles=["service_owner", "process_designer"], active=True,
                      acting_user="ada")

    assert row.display_name == "Sam Jansen"
    assert row.roles == ["process_designer", "service_owner"]
    assert user_by_username(db, "sam") == row
    assert _actor_roles(db, "sam") == {"process_designer", "service_owner"}


def test_update_user_refuses_bad_values_and_changes_nothing(db: Database) -> None:
    before = _snapshot(db)

    with pytest.raises(ValidationFailed) as exc:
        update_user(db, "sam", display_name="  ", roles=[], active=False, acting_user="ada")

    assert set(_fields(exc)) == {"display_name", "roles"}
    assert _snapshot(db) == before


def test_a_deactivated_user_cannot_sign_in_or_act_until_reactivated(db: Database) -> None:
    update_user(db, "carol", display_name="Carol", roles=["change_coordinator"], active=False,
                acting_user="ada")

    assert authenticate(db, "carol", PASSWORD) is None
    with db.reading() as session, pytest.raises(UnknownUser):
        actor_for(session, "carol")
    assert not user_by_username(db, "carol").active

    update_user(db, "carol", display_name="Carol", roles=["change_coordinator"], active=True,
                acting_user="ada")
    assert authenticate(db, "carol", PASSWORD) is not None


def test_nobody_deactivates_themselves_or_drops_their_own_administrator_role(
        db: Database) -> None:
    add_user(db, "root", NEW_PASSWORD, ["administrator"])
    before = _snapshot(db)

    with pytest.raises(ValidationFailed) as exc:
        update_user(db, "ada", display_name="Ada", roles=["administrator"], active=False,
                    acting_user="ada")
    assert "your own account" in _fields(exc)["active"]

    with pytest.raises(ValidationFailed) as exc:
        update_user(db, "ada", display_name="Ada", roles=["service_owner"], active=True,
                    acting_user="ada")
    assert "your own administrator role" in _fields(exc)["roles"]
    assert _snapshot(db) == before


def test_the_last_active_administrator_stays(db: Database) -> None:
    add_user(db, "root", NEW_PASSWORD, ["administrator"])
    # With two administrators, one may take the other's role away.
    update_user(db, "ada", display_name="Ada", roles=["service_owner"], active=True,
                acting_user="root")

    before = _snapshot(db)
    with pytest.raises(ValidationFailed) as exc:
        update_user(db, "root", display_name="Root", roles=["change_coordinator"], active=True,
                    acting_user="carol")
    assert _fields(exc) == {"roles": "root is the last active administrator; make someone else "
                                     "an administrator first"}
    with pytest.raises(ValidationFailed) as exc:
        update_user(db, "root", display_name="Root", roles=["administrator"], active=False,
                    acting_user="carol")
    assert "last active administrator" in _fields(exc)["active"]
    assert _snapshot(db) == before


def test_a_deactivated_administrator_does_not_count(db: Database) -> None:
    add_user(db, "root", NEW_PASSWORD, ["administrator"])
    update_user(db, "ada", display_name="Ada", roles=["administrator"], active=False,
                acting_user="root")

    with pytest.raises(ValidationFailed) as exc:
        update_user(db, "root", display_name="Root", roles=["administrator"], active=False,
                    acting_user="ada")
    assert "last active administrator" in _fields(exc)["active"]


def test_reset_password_replaces_the_old_one(db: Database) -> None:
    reset_password(db, "sam", NEW_PASSWORD)

    assert authenticate(db, "sam", NEW_PASSWORD) is not None
    assert authenticate(db, "sam", PASSWORD) is None


def test_reset_password_refuses_a_short_one_and_keeps_the_old(db: Database) -> None:
    with pytest.raises(ValidationFailed) as exc:
        reset_password(db, "sam", "short")

    assert list(_fields(exc)) == ["password"]
    assert authenticate(db, "sam", PASSWORD) is not None


def test_unknown_users_are_named(db: Database) -> None:
    with pytest.raises(UserNotFound, match="nobody"):
        user_by_username(db, "nobody")
    with pytest.raises(UserNotFound):
        update_user(db, "nobody", display_name="N", roles=["service_owner"], active=True,
                    acting_user="ada")
    with pytest.raises(UserNotFound):
        reset_password(db, "nobody", NEW_PASSWORD)
