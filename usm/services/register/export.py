"""Downloads of the register: a whole search result (now or as of a moment), an item's history and
a list of changes, as ``exports.Sheet`` tables for CSV or XLSX.

Results are streamed from one query as plain rows, so exporting a large register keeps one batch
in memory. The item columns are the ones ``usm import --format csv`` reads back, so an export
re-imported finds no differences.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from bir import queries
from bir.items import RECORD_FIELDS
from usm.services.changes import ChangeFilter, all_changes
from usm.services.platform import Database, Sheet
from usm.services.register import search as register

ITEM_COLUMNS = ("key", "class", *RECORD_FIELDS, "attributes")
HISTORY_COLUMNS = ("key", "version", "valid_from", "valid_to", "change", "change_title", "field",
                   "old_value", "new_value")
CHANGE_COLUMNS = ("key", "title", "model", "model_version", "change_class", "step", "state",
                  "coordinator", "requester", "updated_at", "step_entered_at", "due_at",
                  "overdue")


def _item_values(row: Any) -> list[Any]:
    attributes = {k: v for k, v in (row.attributes or {}).items() if v is not None}
    return [row.key, row.class_code, *(getattr(row, f) for f in RECORD_FIELDS),
            json.dumps(attributes, sort_keys=True, ensure_ascii=False) if attributes else None]


def _item_rows(db: Database, query: register.SearchQuery) -> Iterator[list[Any]]:
    with db.reading() as session:
        flt, _service = register.resolved_filter(session, query)
        for row in queries.snapshot_rows(session, flt, sort=query.sort,
                                         descending=query.descending, at=query.as_of):
            yield _item_values(row)


def items_sheet(db: Database, query: register.SearchQuery) -> Sheet:
    """Every item matching ``query`` (its filters, sort and moment; not its page), one row each.
    Checks the query first, so an unknown class or service is ``BadQuery`` before any download."""
    query = replace(query, after=None, before=None)
    with db.reading() as session:
        register.resolved_filter(session, query)
    title = "Register" if query.as_of is None else f"Register {query.as_of:%Y-%m-%d %H.%M}"
    return Sheet(title, ITEM_COLUMNS, _item_rows(db, query))


def _text(value: Any) -> Any:
    return json.dumps(value, sort_keys=True) if isinstance(value, dict | list) else value


def history_sheet(db: Database, key: str) -> Sheet:
    """Every version of an item, one row per field it changed; ``NotFound`` for an unknown key."""
    history = register.item_history(db, key)
    rows = [[key.strip().upper(), h.version, h.valid_from, h.valid_to, h.change_key,
             h.change_title, c.field, _text(c.old), _text(c.new)]
            for h in history for c in h.changes]
    return Sheet(f"History {key.strip().upper()}", HISTORY_COLUMNS, rows)


def changes_sheet(db: Database, flt: ChangeFilter) -> Sheet:
    """Every change the filter keeps (all pages), newest first."""
    rows = ([c.key, c.title, c.model, c.model_version, c.change_class, c.step, c.state_label,
             c.coordinator, c.requester, c.updated_at, c.step_entered_at, c.due_at, c.overdue]
            for c in all_changes(db, flt))
    return Sheet("Changes", CHANGE_COLUMNS, rows)


__all__ = ["CHANGE_COLUMNS", "HISTORY_COLUMNS", "ITEM_COLUMNS", "changes_sheet", "history_sheet",
           "items_sheet"]
