"""Register services: search the register now or as of a moment, read an item with its history and
relations, and see what supports each service."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bir import queries
from bir.attachments import attachment_events
from bir.base import to_money
from bir.class_versions import former_attribute_labels
from bir.classes import ClassCatalogue, ItemClass
from bir.errors import NotFound, NotYetRegistered
from bir.impact import impacted_services, support_links, supporting_item_ids
from bir.items import CONFIGURATION_FIELDS, CORE_FIELDS, FINANCIAL_FIELDS, Item
from bir.reference import field_labels
from usm.services import cursors
from usm.services.errors import Invalid
from usm.services.platform import Database
from usm.services.register.vocabulary import STATUSES
from usm.services.user_input import InputError, parse_moment
from workflows.models import Change, ChangeOperation
from workflows.skeleton import FINAL

NO_LONGER_IN_CLASS = "(no longer in the class)"

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
PAGE_SIZES = (25, 50, 100, 200)
SORTS = tuple(queries.SORT_COLUMNS)

MAX_FILTER_LENGTH = 200


class BadQuery(Invalid):
    """A search or a moment the register cannot answer as asked; the message tells the user why."""


@dataclass(frozen=True)
class ItemView:
    key: str
    class_code: str
    class_name: str
    version: int
    valid_from: datetime
    valid_to: datetime | None
    as_of: datetime | None
    core: dict[str, Any]
    configuration: dict[str, Any]
    financial: dict[str, Any]
    attributes: list[tuple[str, str, Any, str | None]]  # name, label, value, unit
    relations: list[queries.RelatedItem]
    services: list[tuple[str, str]]
    pending_changes: list[tuple[str, str, str]]
    # Labels of the attributes the class has or once had (for the history), by name.
    attribute_labels: dict[str, str] = field(default_factory=dict)
    # The reference data's label of the owner, location and cost centre the item names
    # ("Finance (CC-100)"): the register stores the code, people read the name.
    reference_labels: dict[str, str] = field(default_factory=dict)

    @property
    def is_service(self) -> bool:
        return queries.is_service_class(self.class_code)


@dataclass(frozen=True)
class HistoryRow:
    version: int
    valid_from: datetime
    valid_to: datetime | None
    change_key: str
    change_title: str
    changes: list[queries.FieldChange]
    currency: str | None = None  # the amounts' currency in this version
    previous_currency: str | None = None  # and in the version before it
    # "version": a new version of the record; "attachments": a change that attached or removed
    # files only (``changes`` holds ``attachment`` entries), the record's version unchanged.
    kind: str = "version"


@dataclass(frozen=True)
class ItemRow:
    key: str
    name: str
    class_code: str
    status: str
    owner: str | None
    location: str | None
    cost_centre: str | None
    class_name: str = ""
    purchase_cost: Decimal | None = None
    currency: str | None = None
    acquired_on: date | None = None


def _item_row(row: queries.SearchRow) -> ItemRow:
    r = row.record
    return ItemRow(r.key, r.name, r.class_code, r.status, r.owner, r.location, r.cost_centre,
                   row.class_name, r.purchase_cost, r.currency, r.acquired_on)


# -- one item ------------------------------------------------------------------------------------

def _item_key(key: str) -> str:
    """A key as the register spells it; ``NotFound`` for text no key can be (a NUL character,
    which PostgreSQL refuses outright)."""
    key = key.strip().upper()
    if "\x00" in key or len(key) > 32:
        raise NotFound(f"no item {key[:32]!r} in the register")
    return key


def item_view(db: Database, key: str, as_of: datetime | None = None) -> ItemView:
    """An item with its attributes grouped as users read them; ``as_of`` shows it as it was."""
    key = _item_key(key)
    with db.reading() as session:
        current = queries.get_item(session, key)
        record_source = queries.item_as_of(session, key, as_of) if as_of else current
        record = record_source.record()
        catalogue = ClassCatalogue.load(session)
        specs = catalogue.specs(record["class_code"])
        labels = attribute_labels(session, catalogue, record["class_code"])
        attributes = [
            (name, labels.get(name, f"{name} {NO_LONGER_IN_CLASS}"), value,
             specs[name].unit if name in specs else None)
            for name, value in sorted(record["attributes"].items())
        ]
        klass = catalogue.get(record["class_code"])
        return ItemView(
            key=current.key, class_code=record["class_code"],
            class_name=klass.name if klass else record["class_code"],
            version=record_source.version, valid_from=record_source.valid_from,
            valid_to=getattr(record_source, "valid_to", None), as_of=as_of,
            core={f: record[f] for f in CORE_FIELDS},
            configuration={f: record[f] for f in CONFIGURATION_FIELDS},
            financial={f: record[f] for f in FINANCIAL_FIELDS},
            attributes=attributes,
            relations=queries.relations_of(session, current.id, as_of),
            services=[(s.key, s.name)
                      for s in impacted_services(session, {current.id}, as_of)],
            pending_changes=[(c.key, c.title, c.step) for c in _open_changes(session, [key])],
            attribute_labels=labels,
            reference_labels=field_labels(session, record),
        )


def attribute_labels(session: Session, catalogue: ClassCatalogue, class_code: str
                     ) -> dict[str, str]:
    """Label of every attribute the class has or once had; one removed from the class (its value
    stays in the item's versions) is marked as no longer in the class."""
    specs = catalogue.specs(class_code)
    lineage = [c.code for c in catalogue.lineage(class_code)] or [class_code]
    labels = {name: f"{text} {NO_LONGER_IN_CLASS}"
              for name, text in former_attribute_labels(session, lineage).items()
              if name not in specs}
    labels.update({name: spec.label or name for name, spec in specs.items()})
    return labels


def item_history(db: Database, key: str) -> list[HistoryRow]:
    """Every version of an item, oldest first, with the change that made it."""
    key = _item_key(key)
    with db.reading() as session:
        entries = queries.item_history(session, key)
        events = attachment_events(session, entries[0].version.item_id)
        ids = {e.version.change_id for e in entries} | {event[0] for event in events}
        changes = {c.id: c for c in session.scalars(select(Change).where(Change.id.in_(ids)))}
        rows, previous = [], None
        for e in entries:
            rows.append(HistoryRow(
                e.version.version, e.version.valid_from, e.version.valid_to,
                changes[e.version.change_id].key, changes[e.version.change_id].title, e.changes,
                e.version.currency, previous))
            previous = e.version.currency
        return _with_attachments(rows, [e.version.change_id for e in entries], events, changes)


def _with_attachments(rows: list[HistoryRow], made_by: list[int],
                      events: list[tuple[int, datetime, str | None, str | None]],
                      changes: dict[int, Change]) -> list[HistoryRow]:
    """The files each change attached or removed, as ``attachment`` entries under that change:
    in its version's row when it also made one, else in a row of its own."""
    by_change = {change_id: index for index, change_id in enumerate(made_by)}
    own: dict[int, HistoryRow] = {}
    for change_id, at, removed, added in events:
        entry = queries.FieldChange("attachment", removed, added)
        if change_id in by_change:
            rows[by_change[change_id]].changes.append(entry)
            continue
        if change_id not in own:
            then = [row for row in rows if row.valid_from <= at] or rows[:1]
            own[change_id] = HistoryRow(then[-1].version, at, None, changes[change_id].key,
                                        changes[change_id].title, [], then[-1].currency,
                                        then[-1].currency, kind="attachments")
        own[change_id].changes.append(entry)
    return sorted([*rows, *own.values()], key=lambda row: (row.valid_from, row.kind != "version"))


@dataclass(frozen=True)
class OpenChange:
    key: str
    title: str
    step: str
    item_keys: tuple[str, ...]  # the items of interest that the change's set touches


def _open_changes(session: Session, item_keys: list[str]) -> list[OpenChange]:
    """Changes not yet implemented nor ended whose change set touches any of ``item_keys``."""
    if not item_keys:
        return []
    rows = session.execute(
        select(Change.key, Change.title, Change.step, ChangeOperation.item_key)
        .join(ChangeOperation, ChangeOperation.change_id == Change.id)
        .where(ChangeOperation.item_key.in_(item_keys),
               Change.step.not_in([s.value for s in FINAL]),
               Change.implemented_at.is_(None))
        .distinct().order_by(Change.key, ChangeOperation.item_key)
    )
    touched: dict[str, tuple[str, str, list[str]]] = {}
    for change_key, title, step, item_key in rows:
        touched.setdefault(change_key, (title, step, []))[2].append(item_key)
    return [OpenChange(k, title, step, tuple(keys)) for k, (title, step, keys) in touched.items()]


# -- search --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SearchQuery:
    """A register search as a user asks it. ``after``/``before`` are page cursors from a
    ``SearchPage``; ``service`` is the key of a service whose supporting items are wanted."""

    text: str | None = None
    class_code: str | None = None
    status: str | None = None
    owner: str | None = None
    location: str | None = None
    cost_centre: str | None = None
    service: str | None = None
    sort: str = "key"
    descending: bool = False
    after: str | None = None
    before: str | None = None
    limit: int = DEFAULT_PAGE_SIZE
    as_of: datetime | None = None

    @property
    def filtered(self) -> bool:
        """Whether any criterion narrows the result."""
        return any((self.text, self.class_code, self.status, self.owner, self.location,
                    self.cost_centre, self.service))

    def first_page(self) -> SearchQuery:
        return replace(self, after=None, before=None)


# Query parameter names, as a URL or an API call gives them.
SEARCH_PARAMETERS = ("q", "class", "status", "owner", "location", "cost_centre", "service", "sort",
                     "order", "after", "before", "limit", "as_of")


def search_query(params: Mapping[str, str]) -> SearchQuery:
    """Read a search from request parameters (see ``SEARCH_PARAMETERS``); empty ones are ignored.
    Raises ``BadQuery`` naming what is wrong. Whether a class or service exists is checked when
    the search runs."""
    def text(name: str) -> str | None:
        value = (params.get(name) or "").strip()
        if "\x00" in value:
            raise BadQuery(f"The {name.replace('_', ' ')} filter holds a NUL character.")
        if len(value) > MAX_FILTER_LENGTH:
            raise BadQuery(f"The {name.replace('_', ' ')} filter is longer than "
                           f"{MAX_FILTER_LENGTH} characters.")
        return value or None

    status = text("status")
    if status and status not in STATUSES:
        raise BadQuery(f"'{status}' is not a lifecycle status; use one of: {', '.join(STATUSES)}.")
    sort = text("sort") or "key"
    if sort not in SORTS:
        raise BadQuery(f"The register cannot be sorted by '{sort}'; sort by one of: "
                       f"{', '.join(SORTS)}.")
    order = (text("order") or "asc").lower()
    if order not in ("asc", "desc"):
        raise BadQuery(f"Sort order '{order}' is neither 'asc' (ascending) nor 'desc' "
                       "(descending).")
    raw_limit = text("limit")
    try:
        limit = int(raw_limit) if raw_limit else DEFAULT_PAGE_SIZE
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise BadQuery(f"Page size '{raw_limit}' is not a whole number from 1 to {MAX_PAGE_SIZE}.")
    after, before = text("after"), text("before")
    if after and before:
        raise BadQuery("A page link gives either 'after' or 'before', not both.")
    class_code = text("class")
    service = text("service")
    return SearchQuery(
        text=text("q"), class_code=class_code.lower() if class_code else None, status=status,
        owner=text("owner"), location=text("location"), cost_centre=text("cost_centre"),
        service=service.upper() if service else None, sort=sort, descending=order == "desc",
        after=after, before=before, limit=limit, as_of=parse_moment(params.get("as_of")))


BAD_CURSOR = "This page link is not valid for this sort order; start again from the first page."


def encode_cursor(query: SearchQuery, row: ItemRow) -> str:
    """An opaque page cursor: the sort and the row's (sort value, key)."""
    value = getattr(row, "class_code" if query.sort == "class" else query.sort)
    text = None if value is None else (value.isoformat() if isinstance(value, date) else str(value))
    return cursors.encode_cursor(query.sort, "desc" if query.descending else "asc", text, row.key)


def decode_cursor(query: SearchQuery, cursor: str) -> queries.Position:
    """The position a cursor of ``encode_cursor`` stands for; ``BadQuery`` if it is not one, or
    belongs to another sort order."""
    try:
        sort, order, text, key = cursors.decode_cursor(cursor, 4)
    except InputError:
        raise BadQuery(BAD_CURSOR) from None
    if (sort, order) != (query.sort, "desc" if query.descending else "asc") or key is None:
        raise BadQuery(BAD_CURSOR)
    value: Any = text
    try:
        if text is not None and sort == "purchase_cost":
            value = to_money(text)  # what the column can hold, or ValueError
        elif text is not None and sort == "acquired_on":
            value = date.fromisoformat(text)
    except (ValueError, ArithmeticError):  # to_money("1e400") fails in Decimal arithmetic
        raise BadQuery(BAD_CURSOR) from None
    if sort == "key":
        value = key
    return queries.Position(value, key)


@dataclass(frozen=True)
class SearchPage:
    query: SearchQuery
    rows: list[ItemRow]
    total: int  # all matches, on every page
    next_cursor: str | None
    previous_cursor: str | None
    service_name: str | None = None


def resolved_filter(session: Session, query: SearchQuery) -> tuple[queries.ItemFilter, str | None]:
    """The register filter ``query`` asks for, with its service resolved to the items supporting
    it (then or now), and the service's name. ``BadQuery`` for an unknown class or service."""
    if query.class_code and session.get(ItemClass, query.class_code) is None:
        raise BadQuery(f"There is no item class '{query.class_code}'.")
    item_ids, service_name = None, None
    if query.service:
        service = session.execute(
            select(Item.id, Item.name).where(Item.key == query.service,
                                             queries.service_condition(Item))).first()
        if service is None:
            raise BadQuery(f"There is no service {query.service} in the register.")
        item_ids = frozenset(supporting_item_ids(session, service.id, query.as_of))
        service_name = service.name
    flt = queries.ItemFilter(
        text=query.text, class_code=query.class_code, status=query.status, owner=query.owner,
        location=query.location, cost_centre=query.cost_centre, item_ids=item_ids)
    return flt, service_name


def search_items(db: Database, query: SearchQuery) -> SearchPage:
    """One page of the register (now or as of ``query.as_of``) matching ``query``, with the count of
    all matches and cursors to the next and previous pages. ``BadQuery`` for an unknown class,
    service or cursor."""
    after = decode_cursor(query, query.after) if query.after else None
    before = decode_cursor(query, query.before) if query.before else None
    with db.reading() as session:
        flt, service_name = resolved_filter(session, query)
        found, more = queries.search_items(
            session, flt, sort=query.sort, descending=query.descending, after=after, before=before,
            limit=query.limit, at=query.as_of)
        total = queries.count_items(session, flt, query.as_of)
    rows = [_item_row(r) for r in found]
    has_next = more if before is None else True
    has_previous = (after is not None) if before is None else more
    return SearchPage(
        query, rows, total,
        next_cursor=encode_cursor(query, rows[-1]) if rows and has_next else None,
        previous_cursor=encode_cursor(query, rows[0]) if rows and has_previous else None,
        service_name=service_name)


def list_items(db: Database, flt: queries.ItemFilter | None = None, *,
               after: str | None = None, limit: int = queries.PAGE_SIZE,
               as_of: datetime | None = None) -> tuple[list[ItemRow], int]:
    """A page of the register by key (now, or as of a moment) after the key ``after``, and the
    count of all matches."""
    position = queries.Position(after, after) if after else None
    with db.reading() as session:
        rows, _more = queries.search_items(session, flt, after=position, limit=limit, at=as_of)
        return [_item_row(r) for r in rows], queries.count_items(session, flt, as_of)


@dataclass(frozen=True)
class ClassChoice:
    code: str
    name: str
    depth: int  # 0 for a top class, 1 for its subclasses, ...


@dataclass(frozen=True)
class SearchChoices:
    """What a search form offers to pick from: current values only."""

    classes: list[ClassChoice]
    statuses: tuple[str, ...]
    owners: list[str]
    locations: list[str]
    cost_centres: list[str]
    services: list[tuple[str, str]]  # key, name


def search_choices(db: Database) -> SearchChoices:
    """The choices for a search form's filters, in one query."""
    with db.reading() as session:
        found = queries.search_choices(session)
    return SearchChoices(
        classes=[ClassChoice(code, name or code, code.count(".")) for code, name in found["class"]],
        statuses=STATUSES,
        owners=[v for v, _ in found["owner"]],
        locations=[v for v, _ in found["location"]],
        cost_centres=[v for v, _ in found["cost_centre"]],
        services=[(k, n or k) for k, n in found["service"]],
    )


# -- services ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ServiceSummary:
    key: str
    name: str
    status: str
    owner: str | None
    service_level: str | None
    customer: str | None
    supporting: int  # items the service depends on through the relation graph
    open_changes: int = 0  # open changes touching the service or a supporting item


def list_services(db: Database) -> list[ServiceSummary]:
    """Every service item with how many items support it and how many open changes touch them;
    a bounded number of queries however many services and items."""
    with db.reading() as session:
        services = list(session.scalars(
            select(Item).where(queries.service_condition(Item)).order_by(Item.key)))
        links = support_links(session, {s.id for s in services})
        ids = {i for s in services for i in (s.id, *links[s.id])}
        keys: dict[int, str] = {
            item_id: key
            for item_id, key in session.execute(select(Item.id, Item.key).where(Item.id.in_(ids)))}
        touched = [set(c.item_keys) for c in _open_changes(session, sorted(keys.values()))]
        summaries = []
        for s in services:
            mine = {keys[i] for i in (s.id, *links[s.id])}
            attributes = s.attributes or {}
            summaries.append(ServiceSummary(
                s.key, s.name, s.status, s.owner, attributes.get("service_level"),
                attributes.get("customer"), len(links[s.id]),
                sum(1 for change_keys in touched if change_keys & mine)))
        return summaries


@dataclass(frozen=True)
class SupportingItem:
    item: ItemRow
    path: list[tuple[str, str]]  # (relation read from the nearer item, key of the next item) hops

    @property
    def depth(self) -> int:
        return len(self.path)


@dataclass(frozen=True)
class ClassGroup:
    class_code: str
    class_name: str
    items: list[SupportingItem]


@dataclass(frozen=True)
class CostTotal:
    currency: str
    purchase: Decimal
    recurring_monthly: Decimal


@dataclass(frozen=True)
class ServiceView:
    service: ItemRow
    service_level: str | None
    customer: str | None
    as_of: datetime | None
    groups: list[ClassGroup]
    open_changes: list[OpenChange]
    costs: list[CostTotal] = field(default_factory=list)

    @property
    def supporting(self) -> int:
        return sum(len(g.items) for g in self.groups)


MONTHS_PER_PERIOD = {"monthly": 1, "quarterly": 3, "yearly": 12}


def service_view(db: Database, key: str, as_of: datetime | None = None) -> ServiceView:
    """A service and the items that support it through the relation graph, grouped by class, each
    with its path to the service; the open changes touching any of them; and cost totals. As of a
    moment, the service, its relations and its items are read as they were then."""
    key = _item_key(key)
    with db.reading() as session:
        current = queries.get_item(session, key)
        if not queries.is_service_class(current.class_code):
            raise NotFound(f"{key} is a {current.class_code} item, not a service")
        if as_of is not None:
            queries.item_as_of(session, key, as_of)  # NotYetRegistered before it existed
        links = support_links(session, {current.id}, as_of)[current.id]
        rows = queries.rows_by_id(session, {current.id, *links}, as_of)
        keys = {item_id: row.record.key for item_id, row in rows.items()}
        open_changes = _open_changes(session, sorted(keys.values())) if as_of is None else []
    by_class: dict[str, list[SupportingItem]] = defaultdict(list)
    for item_id, link in links.items():
        if item_id not in rows:
            continue
        path, step = [], link
        while step is not None:
            path.append((step.label, keys.get(step.via, "?")))
            step = links.get(step.via)
        by_class[rows[item_id].record.class_code].append(
            SupportingItem(_item_row(rows[item_id]), path))
    groups = [
        ClassGroup(code, items[0].item.class_name, sorted(items, key=lambda s: s.item.key))
        for code, items in sorted(by_class.items())
    ]
    service = rows[current.id]
    attributes = service.record.attributes or {}
    return ServiceView(_item_row(service), attributes.get("service_level"),
                       attributes.get("customer"), as_of, groups, open_changes,
                       _cost_totals([s.item.key for g in groups for s in g.items], rows))


def _cost_totals(keys: list[str], rows: dict[int, queries.SearchRow]) -> list[CostTotal]:
    """Purchase and monthly recurring cost of the supporting items, per currency, each item
    counted in full."""
    wanted = set(keys)
    purchase: dict[str, Decimal] = defaultdict(Decimal)
    monthly: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows.values():
        r = row.record
        if r.key not in wanted or not r.currency:
            continue
        if r.purchase_cost is not None:
            purchase[r.currency] += r.purchase_cost
        if r.recurring_cost is not None and r.recurring_period in MONTHS_PER_PERIOD:
            monthly[r.currency] += r.recurring_cost / MONTHS_PER_PERIOD[r.recurring_period]
    cent = Decimal("0.01")
    return [CostTotal(c, purchase[c].quantize(cent), monthly[c].quantize(cent))
            for c in sorted(set(purchase) | set(monthly))]


ItemFilter = queries.ItemFilter

__all__ = [
    "DEFAULT_PAGE_SIZE", "MAX_PAGE_SIZE", "PAGE_SIZES", "SEARCH_PARAMETERS", "SORTS", "STATUSES",
    "BadQuery", "ClassChoice", "ClassGroup", "CostTotal", "HistoryRow", "ItemFilter", "ItemRow",
    "ItemView", "NotFound", "NotYetRegistered", "OpenChange", "SearchChoices", "SearchPage",
    "SearchQuery", "ServiceSummary", "ServiceView", "SupportingItem", "decode_cursor",
    "encode_cursor", "item_history", "item_view", "list_items", "list_services",
    "search_choices", "search_items", "search_query", "service_view",
]
