"""Impact: which items and services depend on a set of items, following relations the way trouble
travels (a host failing hurts its VMs; a server failing hurts the service it supports)."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bir.items import Item
from bir.relations import Relation
from bir.vocabulary import RELATION_KINDS, Impact

MAX_DEPTH = 12
_TO_SOURCE = [k.code for k in RELATION_KINDS.values() if k.impact is Impact.TO_SOURCE]
_TO_TARGET = [k.code for k in RELATION_KINDS.values() if k.impact is Impact.TO_TARGET]


def _walk(session: Session, start: set[int], *, downstream: bool) -> set[int]:
    """Items reachable from ``start`` along impact edges (current relations), ``start`` included:
    downstream finds what depends on ``start``, upstream what ``start`` depends on. One query per
    level of the graph, not per item."""
    seen = set(start)
    frontier = set(start)
    for _ in range(MAX_DEPTH):
        if not frontier:
            break
        # Downstream, a TO_SOURCE edge is followed from its target to its source; upstream, back.
        near_to_source = Relation.target_id if downstream else Relation.source_id
        near_to_target = Relation.source_id if downstream else Relation.target_id
        rows = session.execute(
            select(Relation.kind, Relation.source_id, Relation.target_id).where(
                Relation.valid_to.is_(None),
                or_(
                    near_to_source.in_(frontier) & Relation.kind.in_(_TO_SOURCE),
                    near_to_target.in_(frontier) & Relation.kind.in_(_TO_TARGET),
                ),
            )
        )
        reached = set()
        for kind, source_id, target_id in rows:
            to_source = kind in _TO_SOURCE
            reached.add(source_id if to_source == downstream else target_id)
        frontier = reached - seen
        seen |= frontier
    return seen


def dependent_item_ids(session: Session, item_ids: set[int]) -> set[int]:
    return _walk(session, item_ids, downstream=True)


def impacted_services(session: Session, item_ids: set[int]) -> list[Item]:
    """Service items that depend on any of ``item_ids`` (a service itself counts as impacted)."""
    ids = dependent_item_ids(session, item_ids)
    if not ids:
        return []
    stmt = select(Item).where(Item.id.in_(ids), Item.class_code == "service").order_by(Item.key)
    return list(session.scalars(stmt))


def supporting_item_ids(session: Session, service_id: int) -> set[int]:
    """Items the service depends on, the service itself left out."""
    return _walk(session, {service_id}, downstream=False) - {service_id}
