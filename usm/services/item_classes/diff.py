"""What a class version changes against another, readably: the settings and attributes added,
removed or changed (per property), with how many items keep a value of each removed attribute
(the YAML diff is the documents' own)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bir.classes import ClassSpec
from bir.items import Item
from usm.services.documents import compare_named
from usm.services.item_classes.checks import items_of_subtree


def class_changes(old: ClassSpec, new: ClassSpec, keeping: dict[str, int] | None = None
                  ) -> list[str]:
    """What changed, as a designer names it: settings, then attributes added, changed, removed."""
    keeping = keeping or {}
    result = [f"{name.replace('_', ' ')} changed: {getattr(old, name)} → {getattr(new, name)}"
              for name in ("name", "key_prefix", "abstract", "description", "depreciation")
              if getattr(old, name) != getattr(new, name)]
    for line in compare_named("attribute", {a.name: a for a in old.attributes},
                              {a.name: a for a in new.attributes}):
        name = line.split("'")[1]
        if line.endswith("removed") and keeping.get(name):
            line += (f" ({keeping[name]} item(s) keep their value, shown as no longer in the "
                     "class until a change clears it)")
        result.append(line)
    return result


def items_holding(session: Session, code: str, old: ClassSpec | None, new: ClassSpec
                   ) -> dict[str, int]:
    if old is None:
        return {}
    removed = {a.name for a in old.attributes} - {a.name for a in new.attributes}
    counts: dict[str, int] = {}
    if not removed:
        return counts
    for (attributes,) in session.execute(select(Item.attributes).where(
            items_of_subtree(code))):
        for name in removed & set(attributes or {}):
            counts[name] = counts.get(name, 0) + 1
    return counts
