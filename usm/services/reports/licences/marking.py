"""Marking a software product's licensing (free, open source, bundled: no licence needed; or
commercial) is an ordinary register edit: this registers the normal change that makes it, which
then goes through the CHM steps like any change (the service owner authorises it). Nothing in
the register changes before that change is implemented.

The change updates ``licensing`` on every software product item of the product (matched as the
licence position matches products), so items that disagreed agree afterwards; when the catalogue
has no item of the product yet, the change registers one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select

from bir.errors import FieldError, ValidationFailed
from bir.items import Item
from usm.services import changes
from usm.services.changes import ChangeSummary
from usm.services.platform import Database
from usm.services.reports.licences.inventory import (
    LICENSING,
    NO_LICENCE_NEEDED,
    PRODUCT_CLASS,
    product_key,
)

MODEL = "normal-change"
MAX_PRODUCT = 255


def product_items(db: Database, product: str) -> list[str]:
    """The keys of the software product items of ``product`` in the register now."""
    wanted = product_key(product)
    with db.reading() as session:
        rows = session.execute(select(Item.key, Item.attributes).where(
            or_(Item.class_code == PRODUCT_CLASS, Item.class_code.like(f"{PRODUCT_CLASS}.%")))
            .order_by(Item.key)).all()
    return [key for key, attrs in rows if wanted and product_key(
        str((attrs or {}).get("product") or "")) == wanted]


def register_licensing_change(db: Database, username: str, product: str, licensing: str,
                              vendor: str | None = None, now: datetime | None = None
                              ) -> ChangeSummary:
    """Register the normal change that sets ``product``'s licensing (one of ``LICENSING``).

    ``ValidationFailed`` names the field when the product is empty or too long, or the licensing
    is not one the class allows."""
    shown = " ".join((product or "").split())
    problems = []
    if not shown:
        problems.append(FieldError("product", "is required"))
    elif len(shown) > MAX_PRODUCT:
        problems.append(FieldError("product", f"is longer than {MAX_PRODUCT} characters"))
    if licensing not in LICENSING:
        problems.append(FieldError("licensing", f"must be one of {', '.join(LICENSING)}, not "
                                                f"'{str(licensing)[:20]}'"))
    if problems:
        raise ValidationFailed(problems)
    keys = product_items(db, shown)
    operations: list[dict[str, Any]] = [
        {"op": "update_item", "item": key, "attributes": {"licensing": licensing}}
        for key in keys]
    if not keys:
        attributes = {"product": shown, "licensing": licensing}
        if vendor:
            attributes["vendor"] = vendor
        operations = [{"op": "create_item", "ref": "product", "class": PRODUCT_CLASS,
                       "name": shown, "status": "in_use", "attributes": attributes}]
    words = licensing.replace("_", " ")
    if licensing in NO_LICENCE_NEEDED:
        title = f"Mark {shown[:120]} as needing no licence ({words})"
        reason = ("installations of a product that needs no licence are not a shortfall in the "
                  "licence position")
    else:
        title = f"Mark {shown[:120]} as needing a licence ({words})"
        reason = "installations of a product that needs a licence count in the licence position"
    done = f"Updates {', '.join(keys)}." if keys else "Registers the product in the catalogue."
    return changes.register_change(
        db, username, model=MODEL, title=title, operations=operations, source="rim", now=now,
        reason=reason, description=f"Licensing of the software product {shown}: {words}. {done}")


__all__ = ["MODEL", "product_items", "register_licensing_change"]
