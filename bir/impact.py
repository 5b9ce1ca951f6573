"""Impact: which items and services depend on a set of items, following relations the way trouble
travels (a host failing hurts its VMs; a server failing hurts the service it supports)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bir.batches import batches
from bir.items import Item
from bir.queries import service_condition, valid_at
from bir.relations import Relation
from bir.vocabulary import RELATION_KINDS, Impact

MAX_DEPTH = 12
_TO_SOURCE = [k.code for k in RELATION_KINDS.values() if k.impact is Impact.TO_SOURCE]
_TO_TARGET = [k.code for k in RELATION_KINDS.values() if k.impact is Impact.TO_TARGET]


@dataclass(frozen=True)
class Link:
    """How a walk reached an item: over a relation of ``kind`` with ``via``, the item one step
    nearer the start. ``item_is_source`` says on which end of the relation the reached item is."""

    via: int
    kind: str
    item_is_source: bool

    @property
    def label(self) -> str:
        """The relation read from the reached item's side: "runs on", or the inverse "hosts"."""
        kind = RELATION_KINDS[self.kind]
        return kind.label if self.item_is_source else kind.inverse_label


def _walk(session: Session, starts: dict[int, set[int]], *, downstream: bool,
          at: datetime | None = None) -> dict[int, dict[int, Link | None]]:
    """For each group of start items, the items reachable from it along impact edges (relations
    valid now, or at ``at``), each with the link it was first reached by (``None`` for a start).

    Downstream finds what depends on the start, upstream what the start depends on. The groups are
    walked together: one query per level of the graph and slice of its frontier (5,000 items),
    however many groups."""
    reached: dict[int, dict[int, Link | None]] = {
        group: dict.fromkeys(ids) for group, ids in starts.items()}
    frontiers = {group: set(ids) for group, ids in starts.items()}
    period = Relation.valid_to.is_(None) if at is None else valid_at(Relation, at)
    # Downstream, a TO_SOURCE edge is followed from its target to its source; upstream, back.
    near_to_source = Relation.target_id if downstream else Relation.source_id
    near_to_target = Relation.source_id if downstream else Relation.target_id
    for _ in range(MAX_DEPTH):
        frontier = set().union(*frontiers.values())
        if not frontier:
            break
        # near item -> (far item, kind, far item is the relation's source)
        edges: dict[int, list[tuple[int, str, bool]]] = defaultdict(list)
        # A relation matches one slice only: its kind decides which end is looked up.
        for part in batches(sorted(frontier)):
            rows = session.execute(
                select(Relation.kind, Relation.source_id, Relation.target_id).where(
                    period,
                    or_(
                        near_to_source.in_(part) & Relation.kind.in_(_TO_SOURCE),
                        near_to_target.in_(part) & Relation.kind.in_(_TO_TARGET),
                    ),
                )
            )
            for kind, source_id, target_id in rows:
                far_is_source = (kind in _TO_SOURCE) == downstream
                near, far = (target_id, source_id) if far_is_source else (source_id, target_id)
                edges[near].append((far, kind, far_is_source))
        for group, current in frontiers.items():
            seen = reached[group]
            following: set[int] = set()
            for near in sorted(current):
                for far, kind, far_is_source in sorted(edges.get(near, ())):
                    if far not in seen:
                        seen[far] = Link(near, kind, far_is_source)
                        following.add(far)
            frontiers[group] = following
    return reached


def dependent_item_ids(session: Session, item_ids: set[int], at: datetime | None = None
                       ) -> set[int]:
    return set(_walk(session, {0: set(item_ids)}, downstream=True, at=at)[0])


def impacted_services(session: Session, item_ids: set[int], at: datetime | None = None
                      ) -> list[Item]:
    """Service items that depend on any of ``item_ids`` (a service itself counts as impacted),
    through the relations valid now or at ``at``."""
    ids = sorted(dependent_item_ids(session, item_ids, at))
    found = [service for part in batches(ids) for service in session.scalars(
        select(Item).where(Item.id.in_(part), service_condition(Item)))]
    return sorted(found, key=lambda service: service.key)


def supporting_item_ids(session: Session, service_id: int, at: datetime | None = None) -> set[int]:
    """Items the service depends on (through relations valid now, or at ``at``), the service
    itself left out."""
    return set(support_links(session, {service_id}, at)[service_id])


def support_links(session: Session, service_ids: set[int], at: datetime | None = None
                  ) -> dict[int, dict[int, Link]]:
    """For each service, the items it depends on with the link that first reached each (the
    shortest path back to the service follows the ``via`` links). All services in one walk."""
    walked = _walk(session, {s: {s} for s in service_ids}, downstream=False, at=at)
    return {
        service: {item: link for item, link in links.items() if link is not None}
        for service, links in walked.items()
    }
