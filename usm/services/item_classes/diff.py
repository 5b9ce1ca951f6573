"""What a class version changes against the published version of its class: the YAML as a
unified diff and, readably, the settings and attributes added, removed or changed (per property),
with how many items keep a value of each removed attribute."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bir.class_versions import ItemClassVersion
from bir.classes import ClassSpec
from bir.items import Item
from usm.services.documents import compare_named
from usm.services.item_classes.checks import items_of_subtree
from usm.services.item_classes.versions import class_yaml, stored_version
from usm.services.platform import Database


@dataclass(frozen=True)
class ClassDiff:
    code: str
    version: int
    base_version: int | None  # the published version compared against; None if there is none
    unified: list[str]
    changes: list[str]  # e.g. "attribute 'cores' changed (type: string → integer)"

    @property
    def identical(self) -> bool:
        return self.base_version is not None and not self.unified



def diff_against_published(db: Database, code: str, version: int) -> ClassDiff:
    """Compare ``version`` with the published version of the same class (other than itself)."""
    with db.reading() as session:
        row = stored_version(session, code, version)
        base = session.scalar(select(ItemClassVersion).where(
            ItemClassVersion.code == code, ItemClassVersion.status == "published",
            ItemClassVersion.version != version))
        new = ClassSpec.model_validate(row.spec)
        old = ClassSpec.model_validate(base.spec) if base else None
        base_version = base.version if base else None
        keeping = _items_holding(session, code, old, new)
    if old is None:
        return ClassDiff(code, version, None, [], ["a new class: nothing is published yet"])
    unified = [line.rstrip("\n") for line in difflib.unified_diff(
        class_yaml(old).splitlines(keepends=True), class_yaml(new).splitlines(keepends=True),
        fromfile=f"{code} v{base_version} (published)", tofile=f"{code} v{version}")]
    return ClassDiff(code, version, base_version, unified, class_changes(old, new, keeping))


def class_changes(old: ClassSpec, new: ClassSpec, keeping: dict[str, int] | None = None
                  ) -> list[str]:
    """What changed, as a designer names it: settings, then attributes added, changed, removed."""
    keeping = keeping or {}
    result = [f"{name.replace('_', ' ')} changed: {getattr(old, name)} → {getattr(new, name)}"
              for name in ("name", "key_prefix", "abstract", "description")
              if getattr(old, name) != getattr(new, name)]
    for line in compare_named("attribute", {a.name: a for a in old.attributes},
                              {a.name: a for a in new.attributes}):
        name = line.split("'")[1]
        if line.endswith("removed") and keeping.get(name):
            line += (f" ({keeping[name]} item(s) keep their value, shown as no longer in the "
                     "class until a change clears it)")
        result.append(line)
    return result


def _items_holding(session: Session, code: str, old: ClassSpec | None, new: ClassSpec
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
