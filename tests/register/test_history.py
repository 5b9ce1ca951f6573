"""The register keeps every version: as-of reads return what was registered at that moment."""

from __future__ import annotations

import pytest

from bir.errors import NotFound
from tests.support.helpers import at, implement_normal_change, laptop
from usm.services import register
from usm.services.platform import Database


def test_as_of_read_returns_values_before_a_later_change(db: Database) -> None:
    implement_normal_change(db, [laptop("a", "SN-1", purchase_cost="999.00", currency="EUR",
                                        owner="alice")], at("2026-01-10"))
    implement_normal_change(db, [{"op": "update_item", "item": "LAP-000001", "owner": "bob",
                                  "location": "Utrecht"}], at("2026-02-10"))

    before = register.item_view(db, "LAP-000001", as_of=at("2026-01-31", 0))
    now = register.item_view(db, "LAP-000001")

    assert before.core["owner"] == "alice" and before.core["location"] is None
    assert before.version == 1
    assert now.core["owner"] == "bob" and now.core["location"] == "Utrecht"
    assert now.version == 2
    assert str(now.financial["purchase_cost"]) == "999.00"


def test_item_did_not_exist_before_its_creating_change(db: Database) -> None:
    implement_normal_change(db, [laptop("a", "SN-1")], at("2026-01-10"))
    with pytest.raises(NotFound, match="not registered yet"):
        register.item_view(db, "LAP-000001", as_of=at("2026-01-09"))


def test_history_lists_each_version_with_the_change_that_made_it(db: Database) -> None:
    first = implement_normal_change(db, [laptop("a", "SN-1", owner="alice")], at("2026-01-10"))
    second = implement_normal_change(
        db, [{"op": "update_item", "item": "LAP-000001", "owner": "bob"}], at("2026-02-10"))

    history = register.item_history(db, "LAP-000001")

    assert [(h.version, h.change_key) for h in history] == [(1, first), (2, second)]
    assert history[0].valid_to == at("2026-02-10") and history[1].valid_to is None
    assert [(c.field, c.old, c.new) for c in history[1].changes] == [("owner", "alice", "bob")]
