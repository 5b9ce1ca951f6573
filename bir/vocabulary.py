"""Closed vocabularies of the register: lifecycle statuses, depreciation methods, relation types."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class LifecycleStatus(StrEnum):
    """Where a component is in its lifecycle: plan/request, order, receive, deploy, operate, retire,
    dispose."""

    PLANNED = "planned"
    ORDERED = "ordered"
    IN_STOCK = "in_stock"
    IN_USE = "in_use"
    MAINTENANCE = "maintenance"
    RETIRED = "retired"
    DISPOSED = "disposed"


# Which status moves a change may make; anything else is refused with the allowed targets named.
STATUS_MOVES: dict[LifecycleStatus, frozenset[LifecycleStatus]] = {
    LifecycleStatus.PLANNED: frozenset(
        {LifecycleStatus.ORDERED, LifecycleStatus.IN_STOCK, LifecycleStatus.IN_USE,
         LifecycleStatus.RETIRED}
    ),
    LifecycleStatus.ORDERED: frozenset(
        {LifecycleStatus.IN_STOCK, LifecycleStatus.IN_USE, LifecycleStatus.RETIRED}
    ),
    LifecycleStatus.IN_STOCK: frozenset(
        {LifecycleStatus.IN_USE, LifecycleStatus.MAINTENANCE, LifecycleStatus.RETIRED}
    ),
    LifecycleStatus.IN_USE: frozenset(
        {LifecycleStatus.IN_STOCK, LifecycleStatus.MAINTENANCE, LifecycleStatus.RETIRED}
    ),
    LifecycleStatus.MAINTENANCE: frozenset(
        {LifecycleStatus.IN_USE, LifecycleStatus.IN_STOCK, LifecycleStatus.RETIRED}
    ),
    LifecycleStatus.RETIRED: frozenset({LifecycleStatus.DISPOSED, LifecycleStatus.IN_STOCK}),
    LifecycleStatus.DISPOSED: frozenset(),
}


class DepreciationMethod(StrEnum):
    NONE = "none"
    STRAIGHT_LINE = "straight_line"
    DECLINING_BALANCE = "declining_balance"


class RecurringPeriod(StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    YEARLY = "yearly"


class Impact(StrEnum):
    """Which way trouble travels along an edge, for impact analysis."""

    TO_SOURCE = "to_source"  # the target failing hurts the source (a VM runs on a host)
    TO_TARGET = "to_target"  # the source failing hurts the target (a server supports a service)
    NONE = "none"


@dataclass(frozen=True)
class RelationKind:
    code: str
    label: str
    inverse_label: str
    impact: Impact


RELATION_KINDS: dict[str, RelationKind] = {
    k.code: k
    for k in (
        RelationKind("runs_on", "runs on", "hosts", Impact.TO_SOURCE),
        RelationKind("installed_on", "installed on", "has installed", Impact.TO_SOURCE),
        RelationKind("depends_on", "depends on", "is needed by", Impact.TO_SOURCE),
        RelationKind("connected_to", "connected to", "connected from", Impact.TO_SOURCE),
        RelationKind("part_of", "part of", "consists of", Impact.TO_TARGET),
        RelationKind("licensed_by", "licensed by", "licenses", Impact.NONE),
        RelationKind("supports", "supports service", "is supported by", Impact.TO_TARGET),
        RelationKind("located_in", "located in", "houses", Impact.TO_SOURCE),
        RelationKind("assigned_to", "assigned to", "holds", Impact.NONE),
    )
}
