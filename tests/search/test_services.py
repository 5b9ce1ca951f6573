"""The search across items, changes and people at the service layer, on SQLite and PostgreSQL: the
one matching rule (every word, in any field searched, ignoring case, literally), the register
search using it too, the groups a scope shows, limits and totals, the exact key, bad input."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.helpers import at, counted, implement_normal_change, laptop
from usm.services import changes, register, search
from usm.services.platform import Database
from usm.services.search import SearchScope, Target

EVERYTHING = SearchScope(items=True, changes=True, users=True)
REGISTER_READER = SearchScope(items=True)

# serial -> fields; the laptops become LAP-000001.. in this order.
LAPTOPS: dict[str, dict[str, Any]] = {
    "SN-D1": {"owner": "Joost de Vries", "manufacturer": "Dell", "model": "Latitude 7440",
              "location": "Utrecht", "asset_tag": "AT-0001", "hostname": "wks-joost"},
    "SN-H1": {"owner": "Anna Bakker", "manufacturer": "HP", "model": "EliteBook 840",
              "location": "Amsterdam"},
    "SN-D2": {"owner": "Anna Bakker", "manufacturer": "Dell", "model": "Precision 5680",
              "location": "Utrecht"},
    "SN-P1": {"name": "Laptop 100% charged"},
    "SN-P2": {"name": "Laptop fox_trot"},
}
JOOST, HP, PRECISION, PERCENT, UNDERSCORE = (f"LAP-{i:06d}" for i in range(1, 6))


def build_search_register(db: Database) -> dict[str, str]:
    """The LAPTOPS, registered by an implemented change "Hand out Dell laptops" (CHG-000001), and
    an open change "Replace docking stations" (CHG-000002)."""
    ops = [laptop(f"l{i}", serial, status="in_use", **fields)
           for i, (serial, fields) in enumerate(LAPTOPS.items())]
    first = implement_normal_change(db, ops, at("2026-03-02"), title="Hand out Dell laptops")
    second = changes.register_change(db, "carol", model="normal-change",
                                     title="Replace docking stations", operations=[
                                         {"op": "update_item", "item": JOOST, "location": "Zeist"}],
                                     now=at("2026-03-03")).key
    return {"first": first, "second": second}


@pytest.fixture
def sample(db: Database) -> dict[str, str]:
    return build_search_register(db)


def item_keys(db: Database, text: str) -> list[str]:
    found = search.search_everywhere(db, text, REGISTER_READER, limit=search.MAX_LIMIT).items
    assert found is not None
    return [hit.key for hit in found.hits]


WORD_CASES = [
    ("Joost", [JOOST]),  # owner
    ("dell", [JOOST, PRECISION]),  # manufacturer, case ignored
    ("Latitude", [JOOST]),  # model
    ("LATITUDE 7440", [JOOST]),
    ("utrecht", [JOOST, PRECISION]),  # location
    ("wks-joost", [JOOST]),  # host name
    ("at-0001", [JOOST]),  # asset tag
    ("sn-h1", [HP]),  # serial number
    ("lap-000002", [HP]),  # key
    ("fox", [UNDERSCORE]),  # name
    ("Dell Latitude", [JOOST]),  # every word, each in a field of its own
    ("dell anna", [PRECISION]),
    ("  anna   utrecht  ", [PRECISION]),  # blanks anywhere ignored
    ("dell hp", []),  # no item is both
    ("latitudes", []),
    ("%", [PERCENT]),  # % is a character, not a wildcard
    ("100%", [PERCENT]),
    ("_", [UNDERSCORE]),  # so is _
    ("x_t", [UNDERSCORE]),
    ("d_ll", []),
]


def test_items_match_every_word_in_any_field_ignoring_case(db: Database,
                                                           sample: dict[str, str]) -> None:
    for text, expected in WORD_CASES:
        assert item_keys(db, text) == expected, text


def test_the_register_search_matches_by_the_same_rule(db: Database,
                                                      sample: dict[str, str]) -> None:
    """The header's "see all" is the register search with the same text: the same items, in
    the same order, counted the same."""
    for text, expected in WORD_CASES:
        page = register.search_items(db, register.search_query({"q": text}))
        assert [row.key for row in page.rows] == expected, text
        assert page.total == len(expected), text
        rows, total = register.list_items(db, register.ItemFilter(text=text))  # API and CLI
        assert [row.key for row in rows] == expected and total == len(expected), text


def test_each_group_is_cut_at_the_limit_with_the_count_of_all(db: Database,
                                                              sample: dict[str, str]) -> None:
    found = search.search_everywhere(db, "laptop", EVERYTHING, limit=2)

    assert found.items is not None and found.changes is not None and found.people is not None
    assert [hit.key for hit in found.items.hits] == [JOOST, HP]  # by key, as the register sorts
    assert found.items.total == 5 and found.items.more
    assert [hit.title for hit in found.changes.hits] == ["Hand out Dell laptops"]
    assert found.changes.total == 1 and not found.changes.more
    assert found.found == 6

    owners = search.search_everywhere(db, "e", REGISTER_READER, limit=1).people
    assert owners is not None and owners.total == 2 and len(owners.hits) == 1  # Anna Bakker, Joost de Vries


def test_an_item_hit_carries_what_it_was_found_by(db: Database, sample: dict[str, str]) -> None:
    found = search.search_everywhere(db, "joost", REGISTER_READER).items
    assert found is not None
    hit = found.hits[0]
    assert (hit.key, hit.name, hit.class_name, hit.status) == (JOOST, "Laptop SN-D1", "Laptop",
                                                                "in_use")
    assert (hit.owner, hit.manufacturer, hit.model, hit.location, hit.hostname) == (
        "Joost de Vries", "Dell", "Latitude 7440", "Utrecht", "wks-joost")


def test_changes_match_key_and_title_newest_first(db: Database, sample: dict[str, str]) -> None:
    def titles(text: str) -> list[str]:
        group = search.search_everywhere(db, text, SearchScope(changes=True)).changes
        assert group is not None
        return [hit.title for hit in group.hits]

    assert titles("DOCKING") == ["Replace docking stations"]
    assert titles("chg-00000") == ["Replace docking stations", "Hand out Dell laptops"]
    assert titles("dell hand") == ["Hand out Dell laptops"]
    assert titles("dell docking") == []
    hit = search.search_everywhere(db, "docking", EVERYTHING).changes.hits[0]  # type: ignore[union-attr]
    assert (hit.key, hit.step, hit.change_class) == (sample["second"], "registration", "normal")


def test_people_are_users_for_administrators_and_owners_for_register_readers(
        db: Database, sample: dict[str, str]) -> None:
    def people(text: str, scope: SearchScope) -> list[tuple[str, str, str | None, int]]:
        group = search.search_everywhere(db, text, scope).people
        assert group is not None
        return [(p.kind, p.name, p.username, p.items) for p in group.hits]

    users = SearchScope(users=True)
    assert people("ADA", users) == [(search.USER, "Ada", "ada", 0)]  # display name or user name
    assert people("anna", REGISTER_READER) == [(search.OWNER, "Anna Bakker", None, 2)]
    assert people("de vries", REGISTER_READER) == [(search.OWNER, "Joost de Vries", None, 1)]
    assert people("anna", users) == []  # an owner is not a user
    assert people("ada", REGISTER_READER) == []  # nor a user an owner
    assert people("a", EVERYTHING)[0] == (search.USER, "Ada", "ada", 0)  # users, then owners
    user = search.search_everywhere(db, "carol", users).people.hits[0]  # type: ignore[union-attr]
    assert user.roles == ("change_coordinator",) and user.active


def test_a_group_outside_the_scope_is_left_out_not_empty(db: Database,
                                                         sample: dict[str, str]) -> None:
    designer = search.search_everywhere(db, "dell", REGISTER_READER)
    assert designer.items is not None and designer.changes is None
    assert designer.people is not None  # owners
    administrator = search.search_everywhere(db, "dell", SearchScope(users=True))
    assert administrator.items is None and administrator.changes is None
    assert administrator.people is not None and administrator.found == 0
    assert search.search_everywhere(db, "dell", SearchScope()).people is None


def test_an_exact_key_names_its_item_or_change_within_the_scope(
        db: Database, sample: dict[str, str]) -> None:
    assert search.exact_target(db, " lap-000001 ", EVERYTHING) == Target(search.ITEM, JOOST)
    assert search.exact_target(db, sample["second"].lower(), EVERYTHING) == Target(
        search.CHANGE, sample["second"])
    assert search.exact_target(db, sample["second"], REGISTER_READER) is None  # no changes
    assert search.exact_target(db, JOOST, SearchScope(changes=True)) is None
    assert search.exact_target(db, "LAP-00000", EVERYTHING) is None  # part of a key
    assert search.exact_target(db, f"{JOOST} dell", EVERYTHING) is None
    assert search.exact_target(db, "", EVERYTHING) is None
    assert search.search_everywhere(db, "lap-000001", EVERYTHING).exact == Target(search.ITEM,
                                                                                  JOOST)


def test_text_without_words_finds_nothing_and_bad_text_is_refused(
        db: Database, sample: dict[str, str]) -> None:
    blank = search.search_everywhere(db, "   ", EVERYTHING)
    assert blank.text == "" and blank.found == 0 and blank.items is not None
    assert blank.items.hits == [] and blank.changes is not None
    with pytest.raises(search.BadSearch, match="NUL"):
        search.search_everywhere(db, "a\x00b", EVERYTHING)
    with pytest.raises(search.BadSearch, match="longer than 200"):
        search.exact_target(db, "x" * 201, EVERYTHING)


def test_a_search_takes_a_bounded_number_of_statements(db: Database,
                                                       sample: dict[str, str]) -> None:
    with counted(db) as statements:
        search.search_everywhere(db, "laptop", EVERYTHING, limit=2)
    # exact item and change, the items page and count, changes, users, owners
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) <= 7
