"""Where an audit looked: a physical audit covers one location (and, when it says so, some
classes), so an item registered elsewhere is no business of its "not seen". A file import has
no scope: it covers the classes its rows name, wherever their items are.

A scope travels with a stored upload's options (``scope_location``, ``scope_classes``), so every
screen and the API reconcile that upload within it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, or_

from bir.items import Item


@dataclass(frozen=True)
class AuditScope:
    """The items registered at ``location``, of ``classes`` (each with its subclasses) when any
    are given, else of every class."""

    location: str
    classes: tuple[str, ...] = ()

    def items_in(self, stmt: Select[Any]) -> Select[Any]:
        """``stmt`` (over ``Item``) kept to the items of this scope."""
        stmt = stmt.where(Item.location == self.location)
        if self.classes:
            stmt = stmt.where(or_(*(or_(Item.class_code == code,
                                        Item.class_code.like(f"{code}.%"))
                                    for code in self.classes)))
        return stmt

    def describe(self) -> str:
        classes = f" ({', '.join(self.classes)})" if self.classes else ""
        return f"at {self.location}{classes}"

    def as_options(self) -> dict[str, str]:
        """The scope as an upload's options keep it."""
        return {"scope_location": self.location, "scope_classes": ",".join(self.classes)}

    @classmethod
    def from_options(cls, options: Mapping[str, str]) -> AuditScope | None:
        """The scope an upload's options keep; ``None`` for an upload without one."""
        location = options.get("scope_location")
        if not location:
            return None
        classes = tuple(c for c in (options.get("scope_classes") or "").split(",") if c)
        return cls(location, classes)
