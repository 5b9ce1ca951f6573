"""Which items get labels: those named by key (an item's page, a list of keys) or every item a
register search finds, at most ``MAX_LABELS`` in one print run."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace

from sqlalchemy import select

from bir.errors import FieldError, Invalid, NotFound, shown
from bir.items import Item
from usm.services import register
from usm.services.labels.layout import MAX_LABELS, TooManyLabels
from usm.services.labels.pdf import ItemLabel
from usm.services.platform import Database

# Keys as a person or a link lists them: separated by commas, spaces or new lines.
_SEPARATORS = re.compile(r"[\s,;]+")
MAX_KEY_LENGTH = 32  # the register's key column
LOOKUP = 1000  # keys per query (PostgreSQL takes at most 65,535 parameters)


def parse_keys(texts: Iterable[str]) -> list[str]:
    """Item keys from ``texts`` (each may list several), upper-cased, each once, in the order
    given. ``Invalid`` for none, a key longer than any key, or more than ``MAX_LABELS``."""
    keys = list(dict.fromkeys(part.upper() for text in texts
                              for part in _SEPARATORS.split(text) if part))
    if not keys:
        raise Invalid([FieldError("keys", "name at least one item key")])
    too_long = next((k for k in keys if len(k) > MAX_KEY_LENGTH), None)
    if too_long is not None:
        raise Invalid([FieldError("keys", f"{shown(too_long)} is not an item key (at most "
                                          f"{MAX_KEY_LENGTH} characters)")])
    if len(keys) > MAX_LABELS:
        raise TooManyLabels(len(keys))
    return keys


def labels_for_keys(db: Database, keys: Iterable[str]) -> list[ItemLabel]:
    """A label for each item of ``keys`` (see ``parse_keys``), in that order; ``NotFound`` naming
    a key the register does not hold."""
    wanted = parse_keys(keys)
    found: dict[str, ItemLabel] = {}
    with db.reading() as session:
        for start in range(0, len(wanted), LOOKUP):
            rows = session.execute(select(Item.key, Item.name, Item.serial_number)
                                   .where(Item.key.in_(wanted[start:start + LOOKUP])))
            found.update((key, ItemLabel(key, name, serial)) for key, name, serial in rows)
    unknown = [k for k in wanted if k not in found]
    if unknown:
        more = f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""
        raise NotFound(f"there is no item {unknown[0]} in the register{more}")
    return [found[k] for k in wanted]


def labels_for_search(db: Database, query: register.SearchQuery) -> list[ItemLabel]:
    """A label for every item ``query`` finds now (its filters and sort; not its page, nor an
    "as of": labels go on the items as they are), ``TooManyLabels`` past ``MAX_LABELS``."""
    sheet = register.items_sheet(db, replace(query, as_of=None))
    key, name, serial = (register.ITEM_COLUMNS.index(c) for c in ("key", "name", "serial_number"))
    labels: list[ItemLabel] = []
    rows = iter(sheet.rows)
    try:
        for row in rows:
            if len(labels) == MAX_LABELS:
                raise TooManyLabels()
            labels.append(ItemLabel(row[key], row[name], row[serial]))
    finally:
        getattr(rows, "close", lambda: None)()  # ends the streamed query at once
    return labels
