"""Bulk actions on the register: set the status, the owner or the location of a selection of
items, or retire them, as ONE change for the whole selection.

A selection is either keys a person ticked (at most ``MAX_KEYS``) or a register search (the same
filters as the search page, never a past view): "all N matching" is a filter, not N keys, so a
selection of 100,000 items costs a query string to send. The change set is built by walking the
filter in keyset pages of plain rows (``bir.queries.walk_items``) and handed to
``usm.services.changes.carry_through``: the register changes only through the change's
implementation, and every step the change passes is in its step log. A selection with items that
cannot take the action (a status move ``bir.vocabulary.STATUS_MOVES`` forbids, an unknown key)
registers nothing; the refusal names them and counts them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from bir import queries
from bir.base import utcnow
from bir.batches import batches
from bir.errors import FieldError, ValidationFailed
from bir.items import Item
from bir.vocabulary import STATUS_MOVES, LifecycleStatus
from usm.services.changes import CHORE_WINDOW, Carried, carry_through, chore_details
from usm.services.platform import Database
from usm.services.register.search import (
    SearchQuery,
    resolved_filter,
    search_query,
)
from usm.services.register.vocabulary import STATUSES

MAX_KEYS = 500  # items a person ticks one by one; more is "all matching this filter"
FORM_MAX_ITEMS = 60  # rows the change form takes (web.changes' MAX_ROWS)
MAX_ITEMS = 1_000_000  # items one bulk change may touch
MAX_NAMED = 20  # items a refusal names; the rest are counted
MAX_VALUE = {"owner": 64, "location": 120}  # what the register's columns hold

STANDARD_MODEL = "standard-change"
RETIREMENT_MODEL = "asset-retirement"
ACTIONS = ("status", "owner", "location", "retire")
# The search parameters a filter selection keeps: what narrows it, never a page, sort or moment.
FILTER_PARAMETERS = ("q", "class", "status", "owner", "location", "cost_centre", "service")


@dataclass(frozen=True)
class Selection:
    """The items a bulk action is for: ``keys`` ticked one by one, or every item ``query``
    (a register search, now) finds."""

    keys: tuple[str, ...] = ()
    query: SearchQuery | None = None

    @property
    def by_filter(self) -> bool:
        return self.query is not None

    def params(self) -> dict[str, str]:
        """The selection as request parameters (``keys`` is a list): what a confirmation page
        posts again."""
        if self.query is None:
            return {}
        q = self.query
        values = {"q": q.text, "class": q.class_code, "status": q.status, "owner": q.owner,
                  "location": q.location, "cost_centre": q.cost_centre, "service": q.service}
        return {name: value for name, value in values.items() if value}


def select_keys(keys: Iterable[str]) -> Selection:
    """The items named by ``keys`` (upper-cased, blanks and repeats dropped); ``ValidationFailed``
    on ``keys`` for none, or for more than ``MAX_KEYS``."""
    seen: dict[str, None] = {}
    for raw in keys:
        key = (raw or "").strip().upper()
        if key:
            seen.setdefault(key, None)
    if not seen:
        raise ValidationFailed([FieldError("keys", "select at least one item")])
    if len(seen) > MAX_KEYS:
        raise ValidationFailed([FieldError(
            "keys", f"{len(seen):,} items are ticked; at most {MAX_KEYS} can be named one by one: "
                    "select all items matching a filter instead")])
    if any(len(key) > 32 or "\x00" in key for key in seen):
        raise ValidationFailed([FieldError("keys", "names text that is not an item key")])
    return Selection(keys=tuple(seen))


def select_matching(params: Mapping[str, str]) -> Selection:
    """Every item the register search ``params`` finds now (the search page's parameters; a page,
    sort or page size in them is ignored). ``ValidationFailed`` on ``as_of`` for a past view:
    a bulk action changes the register as it is now, never as it was."""
    if (params.get("as_of") or "").strip():
        raise ValidationFailed([FieldError(
            "as_of", "a bulk action changes the register as it is now: leave the past view "
                     "(as of) first")])
    wanted = {name: params[name] for name in FILTER_PARAMETERS if params.get(name)}
    return Selection(query=search_query(wanted))


@dataclass(frozen=True)
class Bulk:
    """What to do to each selected item: ``action`` (one of ``ACTIONS``) with its ``value`` (the
    status, owner or location; ``retired`` for retire)."""

    action: str
    value: str

    @property
    def model(self) -> str:
        return RETIREMENT_MODEL if self.action == "retire" else STANDARD_MODEL

    @property
    def field(self) -> str:
        return "status" if self.action in ("status", "retire") else self.action

    def describe(self, count: int) -> str:
        """``1,234 items: status -> in_use``: the change's impact and the heart of its title."""
        noun = "item" if count == 1 else "items"
        return f"{count:,} {noun}: {self.field} -> {self.value}"


def bulk_action(action: str | None, value: str | None = None) -> Bulk:
    """An action as a form or an API call gives it; ``ValidationFailed`` naming ``action`` or
    ``value``."""
    action = (action or "").strip()
    value = (value or "").strip()
    if action not in ACTIONS:
        raise ValidationFailed([FieldError(
            "action", f"choose one of: {', '.join(ACTIONS)}")])
    if action == "retire":
        return Bulk(action, LifecycleStatus.RETIRED.value)
    if action == "status" and value not in STATUSES:
        raise ValidationFailed([FieldError(
            "value", f"choose the status to set, one of: {', '.join(STATUSES)}")])
    if not value:
        raise ValidationFailed([FieldError("value", f"give the {action} to set")])
    if len(value) > MAX_VALUE.get(action, 64) or "\x00" in value:
        raise ValidationFailed([FieldError(
            "value", f"an {action} is at most {MAX_VALUE.get(action, 64)} characters")])
    return Bulk(action, value)


@dataclass(frozen=True)
class BulkPlan:
    """What a bulk action would do, read from the register now: how many items the selection
    holds, how many the change would touch, how many already have the value (left out), and the
    items that cannot take it (the first ``MAX_NAMED`` named, all counted)."""

    selection: Selection
    bulk: Bulk
    selected: int
    unchanged: int
    refused: tuple[str, ...]
    refused_count: int
    operations: list[dict[str, Any]] = field(repr=False, compare=False)

    @property
    def count(self) -> int:
        """Items the change would touch."""
        return len(self.operations)

    @property
    def model(self) -> str:
        return self.bulk.model

    @property
    def ok(self) -> bool:
        return not self.refused_count and bool(self.operations)

    def problems(self) -> list[FieldError]:
        """Why this plan cannot be registered (empty when it can)."""
        if self.refused_count:
            more = self.refused_count - len(self.refused)
            named = [FieldError("selection", reason) for reason in self.refused]
            if more:
                named.append(FieldError("selection", f"and {more:,} more"))
            return [FieldError("selection", (
                f"{self.refused_count:,} of {self.selected:,} selected items cannot take "
                f"{self.bulk.field} {self.bulk.value}; nothing was registered: narrow the "
                "selection")), *named]
        if not self.operations:
            reason = (f"all {self.selected:,} selected items already have {self.bulk.field} "
                      f"{self.bulk.value}" if self.selected else "the selection holds no items")
            return [FieldError("selection", f"nothing to change: {reason}")]
        return []


def _rows(session: Session, selection: Selection) -> Iterator[Row[Any]]:
    fields = ("status", "owner", "location")
    if selection.query is None:
        for batch in batches(sorted(selection.keys)):
            yield from session.execute(
                select(Item.key, *(getattr(Item, f) for f in fields))
                .where(Item.key.in_(batch)).order_by(Item.key))
        return
    flt, _name = resolved_filter(session, selection.query)
    yield from queries.walk_items(session, flt, *fields)


def _plan(session: Session, selection: Selection, bulk: Bulk) -> BulkPlan:
    operations: list[dict[str, Any]] = []
    refused: list[str] = []
    refused_count = unchanged = selected = 0
    target = LifecycleStatus(bulk.value) if bulk.field == "status" else None
    found: set[str] = set()
    for row in _rows(session, selection):
        selected += 1
        if selected > MAX_ITEMS:
            raise ValidationFailed([FieldError(
                "selection", f"a bulk change touches at most {MAX_ITEMS:,} items: narrow the "
                             "filter")])
        if not selection.by_filter:
            found.add(row.key)
        current = getattr(row, bulk.field)
        if current == bulk.value:
            unchanged += 1
            continue
        if target is not None:
            allowed = STATUS_MOVES[LifecycleStatus(current)]
            if target not in allowed:
                refused_count += 1
                if len(refused) < MAX_NAMED:
                    refused.append(f"{row.key} cannot move from {current} to {target} (allowed: "
                                   f"{', '.join(sorted(allowed)) or 'none, a final status'})")
                continue
            operations.append({"op": "set_status", "item": row.key, "status": bulk.value})
        else:
            operations.append({"op": "update_item", "item": row.key, bulk.field: bulk.value})
    for key in selection.keys:
        if key not in found:
            refused_count += 1
            if len(refused) < MAX_NAMED:
                refused.append(f"no item {key} in the register")
    return BulkPlan(selection, bulk, len(selection.keys) if selection.keys else selected,
                    unchanged, tuple(refused), refused_count, operations)


def plan_bulk(db: Database, selection: Selection, bulk: Bulk) -> BulkPlan:
    """What ``bulk`` would do to ``selection`` now (reads only): the confirmation a person sees
    before the one click that registers the change."""
    with db.reading() as session:
        return _plan(session, selection, bulk)


@dataclass(frozen=True)
class BulkResult:
    """The change a bulk action registered, where it stands, and how many items it touches."""

    carried: Carried
    count: int
    unchanged: int
    model: str

    @property
    def key(self) -> str:
        return self.carried.key


def run_bulk(db: Database, username: str, selection: Selection, bulk: Bulk, *,
             now: datetime | None = None) -> BulkResult:
    """Register ONE change that makes ``bulk`` for every item of ``selection`` (those already
    with the value left out) and carry it, as ``username``, as far as its model allows: a
    standard change to closed; a retirement stops where the service owner or the coordinator
    must act (``Carried.blocked`` says what). ``ValidationFailed`` naming the items that cannot
    take the action records nothing."""
    at = now or utcnow()
    plan = plan_bulk(db, selection, bulk)
    problems = plan.problems()
    if problems:
        raise ValidationFailed(problems)
    summary = bulk.describe(plan.count)
    details: dict[str, Any] = dict(description=_description(selection, plan))
    if bulk.model == STANDARD_MODEL:
        details.update(chore_details(summary, at))
    else:  # a retirement: no cost given, its model asks for the disposal details
        details.update(impact=summary, risk="low", planned_start=at,
                       planned_end=at + CHORE_WINDOW,
                       fields={"retirement_reason": "end_of_life"})
    carried = carry_through(db, username, model=bulk.model, title=f"Bulk change: {summary}",
                            operations=plan.operations, now=at, **details)
    return BulkResult(carried, plan.count, plan.unchanged, bulk.model)


def _description(selection: Selection, plan: BulkPlan) -> str:
    if selection.query is None:
        chosen = "items selected one by one on the register page"
    else:
        shown = ", ".join(f"{k}={v}" for k, v in selection.params().items())
        chosen = f"every item matching the register filter {shown or '(none: all items)'}"
    left = f"; {plan.unchanged:,} already had it and are left out" if plan.unchanged else ""
    return f"Bulk action on {chosen}{left}."


def selected_keys(db: Database, selection: Selection, limit: int) -> list[str]:
    """The keys of the selected items, by key, for a screen that takes items one by one (the
    change form, a check-out); ``ValidationFailed`` when the selection holds more than ``limit``
    (it says what to use instead) or none."""
    if not selection.by_filter:
        if len(selection.keys) > limit:
            raise ValidationFailed([_too_many(len(selection.keys), limit)])
        return list(selection.keys)
    keys: list[str] = []
    with db.reading() as session:
        flt, _name = resolved_filter(session, selection.query)  # type: ignore[arg-type]
        for row in queries.walk_items(session, flt, page=limit + 1):
            keys.append(row.key)
            if len(keys) > limit:
                raise ValidationFailed([_too_many(queries.count_items(session, flt), limit)])
    if not keys:
        raise ValidationFailed([FieldError("selection", "the selection holds no items")])
    return keys


def _too_many(count: int, limit: int) -> FieldError:
    return FieldError("selection", (
        f"the selection holds {count:,} items and this form takes at most {limit}: use a bulk "
        "action (status, owner, location, retire), or send the change set as a file or a stream "
        "to POST /api/v1/changes"))


__all__ = [
    "ACTIONS", "FILTER_PARAMETERS", "FORM_MAX_ITEMS", "MAX_ITEMS", "MAX_KEYS", "Bulk",
    "BulkPlan", "BulkResult", "Selection", "bulk_action", "plan_bulk", "run_bulk",
    "select_keys", "select_matching", "selected_keys",
]
