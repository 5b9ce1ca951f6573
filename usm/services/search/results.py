"""Search everywhere at once: the items of the register, the changes and the people, each group
matched by the product's one free-text rule (``bir.matching``) and cut at a few hits with the
count of all, and an exact key that names one item or change.

The item group is the register search with the same text (``bir.queries``, sorted by key), so
its "see all" lands on exactly these items. Which groups a caller gets is their ``SearchScope``:
the web and the API derive it from the user's roles, so nobody is shown what they cannot open.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import func, over, select
from sqlalchemy.orm import Session

from bir import queries
from bir.items import Item
from bir.matching import matches_text, search_words
from usm.accounts import User
from usm.services.errors import Invalid
from usm.services.platform import Database
from workflows.models import Change

DEFAULT_LIMIT = 10
MAX_LIMIT = 50
MAX_TEXT_LENGTH = 200
ITEM, CHANGE = "item", "change"
USER, OWNER = "user", "owner"


class BadSearch(Invalid):
    """Search text no search can take (too long, or a NUL character); the message says which."""

    field = "q"


@dataclass(frozen=True)
class SearchScope:
    """The groups a caller may see: register items (and the people who own them), changes, and
    the product's users."""

    items: bool = False
    changes: bool = False
    users: bool = False


@dataclass(frozen=True)
class Target:
    """The one item or change an exact key names."""

    kind: str  # ITEM or CHANGE
    key: str


@dataclass(frozen=True)
class ItemHit:
    key: str
    name: str
    class_code: str
    class_name: str
    status: str
    owner: str | None
    location: str | None
    manufacturer: str | None
    model: str | None
    serial_number: str | None
    asset_tag: str | None
    hostname: str | None


@dataclass(frozen=True)
class ChangeHit:
    key: str
    title: str
    step: str
    change_class: str


@dataclass(frozen=True)
class PersonHit:
    """A user of the product (``USER``: ``username``, ``roles``, ``active``) or an owner as items
    name them (``OWNER``: ``items`` they own)."""

    kind: str
    name: str
    username: str | None = None
    roles: tuple[str, ...] = ()
    active: bool = True
    items: int = 0


Hit = TypeVar("Hit")


@dataclass(frozen=True)
class Group(Generic[Hit]):
    hits: list[Hit]
    total: int  # all matches, of which ``hits`` are the first

    @property
    def more(self) -> bool:
        return self.total > len(self.hits)


@dataclass(frozen=True)
class SearchResults:
    """What ``text`` found; a group is None when the scope leaves it out."""

    text: str
    exact: Target | None
    items: Group[ItemHit] | None
    changes: Group[ChangeHit] | None
    people: Group[PersonHit] | None

    @property
    def found(self) -> int:
        return sum(g.total for g in (self.items, self.changes, self.people) if g is not None)


def search_text(raw: str | None) -> str:
    """Search text as typed, without surrounding blanks; ``BadSearch`` for text no search takes."""
    text = (raw or "").strip()
    if "\x00" in text:
        raise BadSearch("The search holds a NUL character.")
    if len(text) > MAX_TEXT_LENGTH:
        raise BadSearch(f"The search is longer than {MAX_TEXT_LENGTH} characters.")
    return text


def exact_target(db: Database, raw: str | None, scope: SearchScope) -> Target | None:
    """The item, else the change, whose key is exactly ``raw`` (case ignored), among those the
    scope shows; None when there is none."""
    text = search_text(raw)
    with db.reading() as session:
        return _exact(session, text, scope)


def _exact(session: Session, text: str, scope: SearchScope) -> Target | None:
    if len(text.split()) != 1:
        return None
    key = text.upper()
    if scope.items and session.scalar(select(Item.key).where(Item.key == key)):
        return Target(ITEM, key)
    if scope.changes and session.scalar(select(Change.key).where(Change.key == key)):
        return Target(CHANGE, key)
    return None


def search_everywhere(db: Database, raw: str | None, scope: SearchScope,
                      limit: int = DEFAULT_LIMIT) -> SearchResults:
    """The first ``limit`` hits of each group in ``scope`` with the count of all, and the exact
    key ``raw`` names if any. Text without words finds nothing. ``BadSearch`` for text no search
    takes."""
    text = search_text(raw)
    limit = max(1, min(limit, MAX_LIMIT))
    if not search_words(text):
        empty = _empty_groups(scope)
        return SearchResults(text, None, *empty)
    with db.reading() as session:
        return SearchResults(
            text, _exact(session, text, scope),
            items=_items(session, text, limit) if scope.items else None,
            changes=_changes(session, text, limit) if scope.changes else None,
            people=_people(session, text, limit, scope) if scope.items or scope.users else None)


def _empty_groups(scope: SearchScope) -> tuple[Any, Any, Any]:
    def empty(shown: bool) -> Group[Any] | None:
        return Group([], 0) if shown else None
    return empty(scope.items), empty(scope.changes), empty(scope.items or scope.users)


def _items(session: Session, text: str, limit: int) -> Group[ItemHit]:
    flt = queries.ItemFilter(text=text)
    rows, more = queries.search_items(session, flt, limit=limit)
    hits = []
    for row in rows:
        r = row.record
        hits.append(ItemHit(r.key, r.name, r.class_code, row.class_name or r.class_code, r.status,
                            r.owner, r.location, r.manufacturer, r.model, r.serial_number,
                            r.asset_tag, r.hostname))
    total = queries.count_items(session, flt) if more else len(hits)
    return Group(hits, total)


def _changes(session: Session, text: str, limit: int) -> Group[ChangeHit]:
    """Changes whose key or title holds every word, newest first."""
    rows = session.execute(
        select(Change.key, Change.title, Change.step, Change.change_class,
               over(func.count()).label("total"))
        .where(matches_text([Change.key, Change.title], text))
        .order_by(Change.id.desc()).limit(limit)).all()
    return Group([ChangeHit(r.key, r.title, r.step, r.change_class) for r in rows],
                 rows[0].total if rows else 0)


def _people(session: Session, text: str, limit: int, scope: SearchScope) -> Group[PersonHit]:
    """Users by user name or display name (``scope.users``), then owners of current items
    (``scope.items``), each sorted by name."""
    hits: list[PersonHit] = []
    total = 0
    if scope.users:
        users = session.execute(
            select(User.username, User.display_name, User.roles, User.active,
                   over(func.count()).label("total"))
            .where(matches_text([User.username, User.display_name], text))
            .order_by(User.username).limit(limit)).all()
        hits += [PersonHit(USER, u.display_name, u.username, tuple(u.roles or ()), u.active)
                 for u in users]
        total += users[0].total if users else 0
    if scope.items:
        owners = session.execute(
            select(Item.owner, func.count().label("items"), over(func.count()).label("total"))
            .where(Item.owner.is_not(None), matches_text([Item.owner], text))
            .group_by(Item.owner).order_by(Item.owner).limit(limit)).all()
        hits += [PersonHit(OWNER, o.owner, items=o.items) for o in owners]
        total += owners[0].total if owners else 0
    return Group(hits[:limit], total)


__all__ = [
    "CHANGE", "DEFAULT_LIMIT", "ITEM", "MAX_LIMIT", "MAX_TEXT_LENGTH", "OWNER", "USER",
    "BadSearch", "ChangeHit", "Group", "ItemHit", "PersonHit", "SearchResults", "SearchScope",
    "Target", "exact_target", "search_everywhere", "search_text",
]
