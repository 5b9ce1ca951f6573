"""Register search, services and the item view at the service layer, on SQLite and PostgreSQL:
filters, sorting, keyset pagination, counts, as-of reads, the service view and bad input."""

from __future__ import annotations

import base64
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event, select

from bir import batches
from bir.impact import (
    dependent_item_ids,
    impacted_services,
    support_links,
    supporting_item_ids,
)
from bir.items import Item
from bir.queries import service_condition
from bir.vocabulary import RELATION_KINDS
from tests.support.helpers import at, implement_normal_change
from usm.services import changes, register
from usm.services.errors import Invalid
from usm.services.platform import Database
from usm.services.register import BadQuery, SearchQuery
from usm.services.register.export import ITEM_COLUMNS

# Laptops: serial, name, owner, location, cost centre, purchase cost, acquired on. Ties in every
# sortable column and empty values in most, so pagination must rely on the key tie-breaker.
LAPTOPS = [
    ("SN-A1", "Laptop alpha", "alice", "Utrecht", "CC-100", "1200.00", "2025-05-12"),
    ("SN-A2", "Laptop bravo", "bob", "Utrecht", "CC-100", "1200.00", "2025-05-12"),
    ("SN-A3", "Laptop charlie", None, "Amsterdam", "CC-200", "999.00", None),
    ("SN-A4", "Laptop delta", "alice", None, None, None, "2025-06-01"),
    ("SN-A5", "Laptop 100% echo", "carla", "Amsterdam", "CC-200", "1200.00", None),
    ("SN-A6", "Laptop fox_trot", None, None, None, None, None),
    ("SN-A7", "Laptop golf", "bob", "Utrecht", "CC-100", "999.00", "2024-12-31"),
    ("SN-A8", "laptop hotel", "alice", "Utrecht", "CC-300", "15.50", "2025-05-12"),
]


def _create(ref: str, klass: str, name: str, **fields: Any) -> dict[str, Any]:
    return {"op": "create_item", "ref": ref, "class": klass, "name": name, **fields}


def _relate(kind: str, source: str, target: str) -> dict[str, Any]:
    return {"op": "add_relation", "kind": kind, "source": source, "target": target}


def build_register(db: Database) -> dict[str, str]:
    """A small register, built through changes:

    - 2026-01-10: services E-mail (SVC-000001) and Payroll (SVC-000002), building BLD-000001,
      server SRV-000001 (located in the building), VM-000001 (runs on the server, supports
      E-mail), cloud instance CI-000001 (supports E-mail, 80.00 EUR a quarter) and the eight
      LAPTOPS (LAP-000001..8).
    - 2026-02-10: LAP-000001 handed to bob, LAP-000006 retired, a second VM (VM-000002) that
      supports Payroll and runs on the same server.
    - an open (registered, not implemented) change touching SRV-000001.
    Returns the keys of the changes by name.
    """
    ops = [
        _create("mail", "service", "E-mail", status="in_use", owner="Sam",
                attributes={"service_level": "gold", "customer": "All staff"}),
        _create("pay", "service", "Payroll", status="in_use", owner="Sam",
                attributes={"service_level": "silver"}),
        _create("hq", "building", "Head office", status="in_use"),
        _create("srv", "hardware.server", "esx-01", status="in_use", hostname="esx-01.example",
                serial_number="CZ-SERVER-1", purchase_cost="18000.00", currency="EUR",
                acquired_on="2025-03-14", cost_centre="CC-300", attributes={"cores": 32}),
        _create("vm", "virtual_machine", "vm-mail-01", status="in_use", hostname="vm-mail-01"),
        _create("ci", "cloud.instance", "mail-archive", status="in_use", currency="EUR",
                recurring_cost="80.00", recurring_period="quarterly",
                attributes={"provider": "azure", "instance_type": "D2s"}),
        _relate("located_in", "@srv", "@hq"),
        _relate("runs_on", "@vm", "@srv"),
        _relate("supports", "@vm", "@mail"),
        _relate("supports", "@ci", "@mail"),
    ]
    for i, (serial, name, owner, location, cost_centre, cost, acquired) in enumerate(LAPTOPS):
        fields: dict[str, Any] = {"serial_number": serial, "asset_tag": f"AT-{i + 1:04d}",
                                  "status": "in_use" if owner else "in_stock"}
        for field, value in (("owner", owner), ("location", location),
                             ("cost_centre", cost_centre), ("purchase_cost", cost),
                             ("acquired_on", acquired)):
            if value is not None:
                fields[field] = value
        if cost:
            fields["currency"] = "EUR"
        ops.append(_create(f"l{i}", "hardware.laptop", name, **fields))
    first = implement_normal_change(db, ops, at("2026-01-10"), title="Build the register")
    second = implement_normal_change(db, [
        {"op": "update_item", "item": "LAP-000001", "owner": "bob"},
        {"op": "set_status", "item": "LAP-000006", "status": "retired"},
        _create("vm2", "virtual_machine", "vm-payroll-01", status="in_use"),
        _relate("runs_on", "@vm2", "SRV-000001"),
        _relate("supports", "@vm2", "SVC-000002"),
    ], at("2026-02-10"), title="Hand over, retire, add payroll VM")
    pending = changes.register_change(
        db, "carol", model="normal-change", title="More memory for esx-01",
        operations=[{"op": "update_item", "item": "SRV-000001", "attributes": {"cores": 48}}],
        now=at("2026-02-20")).key
    return {"first": first, "second": second, "pending": pending}


@pytest.fixture
def sample(db: Database) -> dict[str, str]:
    return build_register(db)


def search(db: Database, **params: str) -> register.SearchPage:
    return register.search_items(db, register.search_query(params))


def keys(db: Database, **params: str) -> list[str]:
    return [row.key for row in search(db, limit="200", **params).rows]


LAPTOP_KEYS = [f"LAP-{i:06d}" for i in range(1, 9)]


# Filters


FILTER_CASES: list[tuple[dict[str, str], list[str]]] = [
    ({"q": "LAP-00000"}, LAPTOP_KEYS),
    ({"q": "lap-000003"}, ["LAP-000003"]),  # key, case ignored
    ({"q": "CHARLIE"}, ["LAP-000003"]),  # name, case ignored
    ({"q": "sn-a7"}, ["LAP-000007"]),  # serial number
    ({"q": "AT-0002"}, ["LAP-000002"]),  # asset tag
    ({"q": "esx-01.example"}, ["SRV-000001"]),  # host name
    ({"q": "100%"}, ["LAP-000005"]),  # % is a character, not a wildcard
    ({"q": "x_t"}, ["LAP-000006"]),  # so is _
    ({"q": "  golf  "}, ["LAP-000007"]),  # surrounding blanks ignored
    ({"class": "hardware.laptop"}, LAPTOP_KEYS),
    ({"class": "hardware"}, LAPTOP_KEYS + ["SRV-000001"]),  # subclasses included
    ({"class": "service"}, ["SVC-000001", "SVC-000002"]),
    ({"status": "in_stock"}, ["LAP-000003"]),
    ({"status": "retired"}, ["LAP-000006"]),
    ({"owner": "alice"}, ["LAP-000004", "LAP-000008"]),
    ({"owner": "bob"}, ["LAP-000001", "LAP-000002", "LAP-000007"]),
    ({"location": "Amsterdam"}, ["LAP-000003", "LAP-000005"]),
    ({"cost_centre": "CC-300"}, ["LAP-000008", "SRV-000001"]),
    ({"service": "SVC-000001"}, ["BLD-000001", "CI-000001", "SRV-000001", "VM-000001"]),
    ({"service": "svc-000002"}, ["BLD-000001", "SRV-000001", "VM-000002"]),
    ({"service": "SVC-000001", "class": "hardware"}, ["SRV-000001"]),
    ({"owner": "bob", "location": "Utrecht", "cost_centre": "CC-100", "q": "golf"},
     ["LAP-000007"]),
    ({"owner": "nobody"}, []),
]


def test_each_filter_keeps_only_matching_items(db: Database, sample: dict[str, str]) -> None:
    # One register for all cases: building it is the slow part.
    for params, expected in FILTER_CASES:
        page = search(db, limit="200", **params)
        assert [r.key for r in page.rows] == expected, params
        assert page.total == len(expected), params
        assert page.query.filtered


def test_no_filter_lists_the_whole_register_with_class_names(db: Database,
                                                             sample: dict[str, str]) -> None:
    page = search(db, limit="200")
    assert page.total == 15 and len(page.rows) == 15 and not page.query.filtered
    laptop = next(r for r in page.rows if r.key == "LAP-000001")
    assert laptop.class_name == "Laptop" and laptop.purchase_cost == Decimal("1200.00")
    assert laptop.currency == "EUR" and laptop.acquired_on == date(2025, 5, 12)


def test_the_count_is_of_all_matches_not_of_the_page(db: Database, sample: dict[str, str]) -> None:
    page = search(db, limit="3", **{"class": "hardware"})
    assert len(page.rows) == 3 and page.total == 9
    assert page.next_cursor and page.previous_cursor is None


# Sorting and keyset pagination


def _expected_order(rows: list[register.ItemRow], sort: str, descending: bool) -> list[str]:
    """Sorted by the column, empty values last in both directions, ties by key in the same
    direction as the column."""
    column = "class_code" if sort == "class" else sort
    present = [r for r in rows if getattr(r, column) is not None]
    empty = [r for r in rows if getattr(r, column) is None]
    present.sort(key=lambda r: (getattr(r, column), r.key), reverse=descending)
    empty.sort(key=lambda r: r.key, reverse=descending)
    return [r.key for r in present + empty]


SORT_ORDERS = [(sort, order) for sort in register.SORTS for order in ("asc", "desc")]


def test_every_column_sorts_both_ways_with_empty_values_last(
        db: Database, sample: dict[str, str]) -> None:
    everything = search(db, limit="200").rows
    for sort, order in SORT_ORDERS:
        page = search(db, limit="200", sort=sort, order=order)
        assert [r.key for r in page.rows] == _expected_order(everything, sort, order == "desc"), (
            sort, order)


def _walk_forward(db: Database, params: dict[str, str]
                  ) -> tuple[list[list[str]], register.SearchPage]:
    """The keys of every page, following the next cursors; and the last page."""
    pages, cursor = [], None
    while True:
        page = search(db, **params, **({"after": cursor} if cursor else {}))
        pages.append([r.key for r in page.rows])
        cursor = page.next_cursor
        if cursor is None:
            return pages, page
        assert len(pages) < 50, "pagination does not end"


def test_keyset_pages_cover_every_row_once_both_ways(db: Database,
                                                     sample: dict[str, str]) -> None:
    for sort, order in SORT_ORDERS:
        params = {"sort": sort, "order": order, "limit": "3"}
        full = keys(db, sort=sort, order=order)

        forward, last = _walk_forward(db, params)

        # No gaps, no duplicates, in order.
        assert [k for page in forward for k in page] == full, params
        assert len(forward) == 5 and all(len(page) == 3 for page in forward), params

        # Back from the last page with the previous cursors: the same pages in reverse.
        backward, page = [], last
        while page.previous_cursor:
            page = search(db, **params, before=page.previous_cursor)
            backward.append([r.key for r in page.rows])
        assert list(reversed(backward)) == forward[:-1], params
        assert page.next_cursor is not None  # the first page, reached backwards, links forward


def test_the_export_streams_the_rows_the_pages_show_in_the_same_order(
        db: Database, sample: dict[str, str]) -> None:
    """The export reads the register in one streamed query, not page by page; every sort, both
    directions, now and as of a moment, with a filter, it must list exactly what the pages list."""
    for sort, order in SORT_ORDERS:
        for extra in ({}, {"as_of": "2026-01-31T12:00"}, {"class": "hardware", "as_of": "2026-02-11"}):
            params = {"sort": sort, "order": order, **extra}
            sheet = register.items_sheet(db, register.search_query(params))
            exported = [row[0] for row in sheet.rows]
            assert exported == keys(db, **params), params
    then = register.items_sheet(db, register.search_query({"as_of": "2026-01-31T12:00"}))
    first = next(row for row in then.rows if row[0] == "LAP-000001")
    assert first[ITEM_COLUMNS.index("owner")] == "alice"  # bob got it only on 2026-02-10


def test_pagination_with_filters_and_as_of(db: Database, sample: dict[str, str]) -> None:
    params = {"class": "hardware", "sort": "owner", "limit": "2", "as_of": "2026-01-31"}
    pages, _last = _walk_forward(db, params)
    flat = [k for page in pages for k in page]
    assert flat == keys(db, **{k: v for k, v in params.items() if k != "limit"})
    assert sorted(flat) == LAPTOP_KEYS + ["SRV-000001"]


def test_a_cursor_past_the_end_gives_an_empty_page(db: Database, sample: dict[str, str]) -> None:
    query = register.search_query({"sort": "name"})
    row = register.ItemRow("ZZZ-999999", "zzz", "hardware.laptop", "in_use", None, None, None)
    page = register.search_items(db, SearchQuery(sort="name", after=register.encode_cursor(
        query, row)))
    assert page.rows == [] and page.total == 15 and page.next_cursor is None


# As of a moment


def test_search_as_of_reads_the_register_as_it_stood(db: Database, sample: dict[str, str]) -> None:
    then = search(db, limit="200", as_of="2026-01-31T12:00")
    assert then.total == 14  # VM-000002 came later
    assert "VM-000002" not in [r.key for r in then.rows]
    assert keys(db, as_of="2026-01-31", owner="alice") == ["LAP-000001", "LAP-000004",
                                                            "LAP-000008"]
    assert keys(db, owner="alice") == ["LAP-000004", "LAP-000008"]
    assert keys(db, as_of="2026-01-31", status="retired") == []
    assert keys(db, as_of="2026-01-09") == []  # before anything was registered
    # The service filter follows the relations as they were then.
    assert keys(db, as_of="2026-01-31", service="SVC-000002") == []
    assert keys(db, as_of="2026-02-11", service="SVC-000002") == ["BLD-000001", "SRV-000001",
                                                                  "VM-000002"]
    assert then.rows[0].class_name  # class names as of a moment too


# Bad input: a message, never a crash


@pytest.mark.parametrize("params, message", [
    ({"sort": "colour"}, "cannot be sorted by 'colour'"),
    ({"order": "up"}, "neither 'asc'"),
    ({"limit": "0"}, "from 1 to 200"),
    ({"limit": "201"}, "from 1 to 200"),
    ({"limit": "ten"}, "from 1 to 200"),
    ({"status": "broken"}, "not a lifecycle status"),
    ({"as_of": "yesterday"}, "YYYY-MM-DD"),
    ({"as_of": "2026-02-30"}, "YYYY-MM-DD"),
    ({"as_of": "2026-01-01T10:00+25:00"}, "YYYY-MM-DD"),
    ({"after": "x", "before": "y"}, "not both"),
    ({"owner": "x" * 201}, "longer than 200"),
    ({"q": "a\x00b"}, "NUL character"),
])
def test_bad_parameters_are_refused_with_a_message(params: dict[str, str], message: str) -> None:
    with pytest.raises(Invalid, match=message.replace("(", r"\(")) as refused:
        register.search_query(params)
    if "as_of" in params:  # read as every moment is read, naming the parameter
        assert [e.field for e in refused.value.errors] == ["as_of"]


def test_as_of_honours_an_offset() -> None:
    query = register.search_query({"as_of": "2026-01-01T10:00+02:00"})
    assert query.as_of == datetime(2026, 1, 1, 8, 0, tzinfo=UTC)


BAD_SEARCHES = [
    ({"class": "hardware.toaster"}, "no item class 'hardware.toaster'"),
    ({"service": "SVC-999999"}, "no service SVC-999999"),
    ({"service": "LAP-000001"}, "no service LAP-000001"),  # an item, but not a service
    ({"after": "not-a-cursor"}, "not valid"),
    ({"before": "bm90IGpzb24"}, "not valid"),  # base64 of 'not json'
    ({"after": "WyJrZXkiLCAiYXNjIiwgbnVsbF0"}, "not valid"),  # JSON, wrong shape
]


def test_bad_searches_are_refused_with_a_message(db: Database, sample: dict[str, str]) -> None:
    for params, message in BAD_SEARCHES:
        with pytest.raises(BadQuery, match=message):
            search(db, **params)


def test_a_cursor_of_another_sort_order_is_refused(db: Database, sample: dict[str, str]) -> None:
    cursor = search(db, sort="name", limit="2").next_cursor
    assert cursor
    assert search(db, sort="name", limit="2", after=cursor).rows
    for other in ({"sort": "owner"}, {"sort": "name", "order": "desc"}):
        with pytest.raises(BadQuery, match="not valid for this sort order"):
            search(db, limit="2", after=cursor, **other)


def test_a_tampered_cursor_value_is_refused(db: Database, sample: dict[str, str]) -> None:
    query = register.search_query({"sort": "purchase_cost"})
    row = register.ItemRow("LAP-000001", "x", "hardware.laptop", "in_use", None, None, None)
    good = register.encode_cursor(query, row)
    assert register.decode_cursor(query, good).value is None
    for value in ("lots", "NaN", "1e400", "0.001"):
        bad = base64.urlsafe_b64encode(json.dumps(
            ["purchase_cost", "asc", value, "LAP-000001"]).encode()).decode()
        with pytest.raises(BadQuery):
            register.decode_cursor(query, bad)


# Filter choices


def test_search_choices_come_from_the_register(db: Database, sample: dict[str, str]) -> None:
    choices = register.search_choices(db)
    by_code = {c.code: c for c in choices.classes}
    assert by_code["hardware.laptop"].name == "Laptop" and by_code["hardware.laptop"].depth == 1
    assert by_code["hardware"].depth == 0
    assert choices.owners == ["Sam", "alice", "bob", "carla"]
    assert choices.locations == ["Amsterdam", "Utrecht"]
    assert choices.cost_centres == ["CC-100", "CC-200", "CC-300"]
    assert choices.services == [("SVC-000001", "E-mail"), ("SVC-000002", "Payroll")]
    assert "in_use" in choices.statuses and "disposed" in choices.statuses


def test_search_choices_of_an_empty_register(db: Database) -> None:
    choices = register.search_choices(db)
    assert choices.classes and choices.owners == [] and choices.services == []


# Services


def test_services_list_counts_supporting_items_and_open_changes(
        db: Database, sample: dict[str, str]) -> None:
    services = register.list_services(db)
    assert [(s.key, s.name, s.supporting, s.open_changes) for s in services] == [
        ("SVC-000001", "E-mail", 4, 1),  # VM, cloud instance, server, building; SRV change open
        ("SVC-000002", "Payroll", 3, 1),
    ]
    assert services[0].service_level == "gold" and services[0].customer == "All staff"


def test_service_view_groups_supporting_items_by_class_with_their_paths(
        db: Database, sample: dict[str, str]) -> None:
    view = register.service_view(db, "svc-000001")

    assert view.service.key == "SVC-000001" and view.service_level == "gold"
    assert [(g.class_name, [s.item.key for s in g.items]) for g in view.groups] == [
        ("Building", ["BLD-000001"]),
        ("Cloud instance", ["CI-000001"]),
        ("Server", ["SRV-000001"]),
        ("Virtual machine", ["VM-000001"]),
    ]
    paths = {s.item.key: s.path for g in view.groups for s in g.items}
    assert paths["VM-000001"] == [("supports service", "SVC-000001")]
    assert paths["SRV-000001"] == [("hosts", "VM-000001"), ("supports service", "SVC-000001")]
    assert paths["BLD-000001"] == [("houses", "SRV-000001"), ("hosts", "VM-000001"),
                                   ("supports service", "SVC-000001")]
    assert view.supporting == 4
    assert [(c.key, c.item_keys) for c in view.open_changes] == [(sample["pending"],
                                                                 ("SRV-000001",))]
    # Purchase in full; the quarterly 80.00 of the cloud instance is 26.67 a month.
    assert [(c.currency, c.purchase, c.recurring_monthly) for c in view.costs] == [
        ("EUR", Decimal("18000.00"), Decimal("26.67"))]


def test_service_view_as_of_follows_the_relations_of_that_moment(
        db: Database, sample: dict[str, str]) -> None:
    assert register.service_view(db, "SVC-000002", at("2026-01-31")).groups == []
    later = register.service_view(db, "SVC-000002", at("2026-02-11"))
    assert [s.item.key for g in later.groups for s in g.items] == ["BLD-000001", "SRV-000001",
                                                                  "VM-000002"]
    assert later.open_changes == []  # open changes are a matter of now


def test_keys_no_item_can_have_are_not_found(db: Database) -> None:
    for key in ("LAP\x00", "X" * 40):
        with pytest.raises(register.NotFound):
            register.item_view(db, key)
        with pytest.raises(register.NotFound):
            register.service_view(db, key)


def test_service_view_of_an_unknown_key_or_a_non_service_is_not_found(
        db: Database, sample: dict[str, str]) -> None:
    with pytest.raises(register.NotFound, match="no item SVC-999999"):
        register.service_view(db, "SVC-999999")
    with pytest.raises(register.NotFound, match="not a service"):
        register.service_view(db, "LAP-000001")
    with pytest.raises(register.NotYetRegistered):
        register.service_view(db, "SVC-000001", at("2025-12-31"))


def test_support_links_of_many_services_match_each_walk(db: Database,
                                                        sample: dict[str, str]) -> None:
    with db.reading() as session:
        ids = {k: session.query(Item.id).filter(Item.key == k).scalar()
               for k in ("SVC-000001", "SVC-000002")}
        together = support_links(session, set(ids.values()))
        for service_id in ids.values():
            assert set(together[service_id]) == supporting_item_ids(session, service_id)


def test_walks_read_a_frontier_larger_than_one_lookup_in_slices(
        db: Database, sample: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """A change touching 100,000 items walks a frontier that no single IN may hold (PostgreSQL
    takes 65,535 parameters): sliced, the walk reaches the same items by the same links."""
    with db.reading() as session:
        ids = set(session.scalars(select(Item.id)))
        services = {i for i, in session.execute(select(Item.id).where(service_condition(Item)))}
        whole = (support_links(session, services), dependent_item_ids(session, ids),
                 [s.key for s in impacted_services(session, ids)])
        monkeypatch.setattr(batches, "BATCH", 1)
        widest = [0]

        def count(conn, cursor, statement, parameters, *args) -> None:  # type: ignore[no-untyped-def]
            widest[0] = max(widest[0], len(parameters or ()))

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            sliced = (support_links(session, services), dependent_item_ids(session, ids),
                      [s.key for s in impacted_services(session, ids)])
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
    assert sliced == whole
    kinds = len(RELATION_KINDS)
    assert widest[0] <= kinds + 4 < len(ids), "no statement holds the whole frontier"
    assert whole[2] == ["SVC-000001", "SVC-000002"]
    assert sorted(len(links) for links in whole[0].values()) == [3, 4]  # Payroll, E-mail


# Item view


def test_item_view_relations_read_both_ways_with_class_names(db: Database,
                                                             sample: dict[str, str]) -> None:
    view = register.item_view(db, "SRV-000001")
    relations = {(r.label, r.key, r.class_name, r.outgoing) for r in view.relations}
    assert relations == {
        ("located in", "BLD-000001", "Building", True),
        ("hosts", "VM-000001", "Virtual machine", False),
        ("hosts", "VM-000002", "Virtual machine", False),
    }
    assert view.services == [("SVC-000001", "E-mail"), ("SVC-000002", "Payroll")]
    assert view.pending_changes == [(sample["pending"], "More memory for esx-01",
                                     "registration")]

    then = register.item_view(db, "SRV-000001", at("2026-01-31"))
    assert {r.key for r in then.relations} == {"BLD-000001", "VM-000001"}
    assert then.services == [("SVC-000001", "E-mail")]


def test_item_history_names_the_change_of_each_version(db: Database,
                                                       sample: dict[str, str]) -> None:
    history = register.item_history(db, "LAP-000001")
    assert [(h.version, h.change_key) for h in history] == [(1, sample["first"]),
                                                           (2, sample["second"])]


def test_list_items_still_pages_by_key(db: Database, sample: dict[str, str]) -> None:
    rows, total = register.list_items(db, register.ItemFilter(class_code="hardware.laptop"),
                                      after="LAP-000006", limit=5)
    assert [r.key for r in rows] == ["LAP-000007", "LAP-000008"] and total == 8
