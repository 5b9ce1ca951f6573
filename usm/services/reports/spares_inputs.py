"""What the spares report measures in the register, each figure with the changes it came from.

Read as the register stood at a moment (the end of the as-of day), for a pool (an item class,
subclasses included, at one location or at every location):

- the first registration of an item of the pool, which starts its observation;
- failures recorded from incidents (``usm.incidents``): devices that were of the pool when they
  failed, as an incident tool or a coordinator recorded it. Measured, so where a pool has any,
  they are what the report counts;
- failures inferred: devices of the pool an implemented change took out of use because they broke
  or were lost (in use to maintenance, a repair; in use to retired by a change whose
  ``retirement_reason`` is ``failure`` or ``lost_or_stolen``). Retirements from use without such a
  reason (planned end of life, other, or no reason recorded) are kept apart, to be shown, not
  counted;
- deliveries: devices of the pool's class (wherever they were delivered: the whole class
  replenishes from the same suppliers) that entered stock, grouped by the change that delivered
  them. A device's order moment is when it first had status ``ordered``; one created straight
  in stock by a hardware receipt takes the ``ordered_on`` and ``delivered_on`` dates the receipt
  records. Moves into stock by other changes without an order before them (a first registration
  of existing stock, a device handed back) are not deliveries;
- agreed levels: the ``spares_service_level`` of the services the pool's devices support.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from bir.items import ItemVersion
from bir.queries import service_condition, valid_at
from bir.relations import Relation
from bir.vocabulary import LifecycleStatus
from usm.incidents import Failure
from workflows.models import Change, ChangeModel

RECEIPT_MODEL = "hardware-receipt"
ORDERED_ON, DELIVERED_ON = "ordered_on", "delivered_on"  # hardware-receipt fields
RETIREMENT_REASON = "retirement_reason"  # asset-retirement field
REPLACED_FROM = LifecycleStatus.IN_USE.value
REPAIR = LifecycleStatus.MAINTENANCE.value
RETIRED = LifecycleStatus.RETIRED.value
REPLACED_TO = (REPAIR, RETIRED)
# The retirement reasons the asset-retirement model asks for; those that leave a user without a
# device, each needing one from stock, are the failures.
REASONS = ("failure", "end_of_life", "lost_or_stolen", "other")
FAILURE_REASONS = frozenset({"failure", "lost_or_stolen"})
SUPPORTS = "supports"
AGREED_LEVEL = "spares_service_level"  # attribute of the service class
SECONDS_PER_DAY = Decimal(86400)
POOL_STATUSES = (LifecycleStatus.IN_USE.value, LifecycleStatus.IN_STOCK.value)


@dataclass(frozen=True)
class Pool:
    class_code: str
    location: str | None
    moment: datetime  # the register is read as it stood then

    def conditions(self, model: Any) -> list[Any]:
        """The SQL conditions 'this version is of the pool's class and location'."""
        found = [in_class(model, self.class_code)]
        if self.location:
            found.append(model.location == self.location)
        return found


def in_class(model: Any, code: str) -> Any:
    return or_(model.class_code == code, model.class_code.like(f"{code}.%"))


def retirement_reason(fields: dict[str, Any] | None) -> str | None:
    """The reason a change records for a retirement: one of ``REASONS`` however it was typed
    (``End of life`` is end_of_life), else the text as recorded; None when none is."""
    value = (fields or {}).get(RETIREMENT_REASON)
    if not isinstance(value, str) or not value.strip():
        return None
    code = "_".join(value.strip().lower().replace("-", " ").split())
    return code if code in REASONS else value.strip()


def _day(value: Any) -> date | None:
    if isinstance(value, date):
        return value if not isinstance(value, datetime) else value.date()
    try:
        return date.fromisoformat(str(value).strip()) if value else None
    except ValueError:
        return None


# -- failures -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Replacement:
    """A device of the pool that a change took out of use."""

    item_key: str
    item_name: str
    change_key: str
    at: datetime
    to_status: str
    reason: str | None = None  # the retirement reason the change records (see retirement_reason)

    @property
    def is_failure(self) -> bool:
        """A repair, or a retirement recorded as a failure or a loss: a user needs a spare."""
        return self.to_status == REPAIR or self.reason in FAILURE_REASONS


def taken_out_of_use(session: Session, pool: Pool, since: datetime) -> list[Replacement]:
    """Every move of a device of the pool from in use to maintenance or retired in
    ``(since, moment]``, oldest first, each with the reason its change records."""
    before, after = aliased(ItemVersion), aliased(ItemVersion)
    moved = (
        select(after.key, after.name, Change.key, after.valid_from, after.status, Change.fields)
        .join(before, (before.item_id == after.item_id)
              & (before.version == after.version - 1))
        .join(Change, Change.id == after.change_id)
        .where(before.status == REPLACED_FROM, after.status.in_(REPLACED_TO),
               *pool.conditions(before), after.valid_from > since,
               after.valid_from <= pool.moment)
        .order_by(after.valid_from, after.key))
    return [Replacement(key, name, change, moment, status,
                        retirement_reason(fields) if status == RETIRED else None)
            for key, name, change, moment, status, fields in session.execute(moved)]


@dataclass(frozen=True)
class RecordedFailure:
    """A failure of a device of the pool recorded from an incident."""

    item_key: str
    item_name: str
    at: datetime
    incident_reference: str
    outcome: str  # replaced / repaired
    recorded_by: str


def recorded_failures(session: Session, pool: Pool, since: datetime) -> list[RecordedFailure]:
    """The failures recorded from incidents in ``(since, moment]`` of devices that were of the
    pool (its class and location) at the moment they failed, oldest first."""
    version = aliased(ItemVersion)
    rows = session.execute(
        select(Failure.item_key, version.name, Failure.at, Failure.incident_reference,
               Failure.outcome, Failure.recorded_by)
        .join(version, and_(version.key == Failure.item_key, version.valid_from <= Failure.at,
                            or_(version.valid_to.is_(None), version.valid_to > Failure.at)))
        .where(*pool.conditions(version), Failure.at > since, Failure.at <= pool.moment)
        .order_by(Failure.at, Failure.item_key, Failure.id))
    return [RecordedFailure(*row) for row in rows]


def first_registered(pool: Pool) -> Any:
    """A scalar subquery: the first moment an item of the pool was in the register."""
    return (select(func.min(ItemVersion.valid_from))
            .where(*pool.conditions(ItemVersion), ItemVersion.valid_from <= pool.moment)
            .scalar_subquery())


# -- deliveries -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Delivery:
    """Devices one change brought into stock that one order (change, or receipt dates) covers."""

    change_key: str
    title: str
    registered_at: datetime  # when the register took them into stock
    devices: int
    ordered: datetime | date | None  # the order moment, or the order date on the receipt
    delivered: datetime | date | None  # the moment in stock, or the receipt's delivery date
    order_change_key: str | None = None  # the change that registered them as ordered

    @property
    def from_receipt(self) -> bool:
        """Whether the dates are the ones the receipt records (no order in the register)."""
        return self.order_change_key is None

    @property
    def problem(self) -> str | None:
        """Why no lead time is measured: no_order_date, no_delivery_date or delivered_first."""
        if self.ordered is None:
            return "no_order_date"
        if self.delivered is None:
            return "no_delivery_date"
        return "delivered_first" if self.delivered < self.ordered else None  # type: ignore[operator]

    @property
    def days(self) -> Decimal | None:
        """Order to delivery in days (two moments: to the second; two dates: whole days)."""
        if self.problem is not None:
            return None
        span = self.delivered - self.ordered  # type: ignore[operator]
        return Decimal(span.days) + Decimal(span.seconds) / SECONDS_PER_DAY


def delivered(session: Session, class_code: str, moment: datetime) -> list[Delivery]:
    """The deliveries of the class registered up to ``moment``, oldest first."""
    stocked = _first(LifecycleStatus.IN_STOCK, class_code, moment)
    ordered = _first(LifecycleStatus.ORDERED, class_code, moment)
    stock_version, order_version = aliased(ItemVersion), aliased(ItemVersion)
    grouped = (
        select(stock_version.change_id.label("delivery_id"),
               order_version.change_id.label("order_id"),
               func.min(stock_version.valid_from).label("stocked_at"),
               func.min(order_version.valid_from).label("ordered_at"),
               func.count().label("devices"))
        .join(stocked, (stocked.c.item_id == stock_version.item_id)
              & (stocked.c.version == stock_version.version))
        .outerjoin(ordered, ordered.c.item_id == stock_version.item_id)
        .outerjoin(order_version, (order_version.item_id == ordered.c.item_id)
                   & (order_version.version == ordered.c.version))
        .group_by(stock_version.change_id, order_version.change_id)
        .subquery())
    delivery, order = aliased(Change), aliased(Change)
    rows = session.execute(
        select(delivery.key, delivery.title, delivery.fields, grouped.c.stocked_at,
               grouped.c.devices, grouped.c.ordered_at, order.key)
        .select_from(grouped)
        .join(delivery, delivery.id == grouped.c.delivery_id)
        .join(ChangeModel, ChangeModel.id == delivery.definition_id)
        .outerjoin(order, order.id == grouped.c.order_id)
        .where(or_(grouped.c.order_id.is_not(None), ChangeModel.code == RECEIPT_MODEL))
        .order_by(grouped.c.stocked_at, delivery.key, order.key))
    found = []
    for key, title, fields, stocked_at, devices, ordered_at, order_key in rows:
        if order_key is not None:
            found.append(Delivery(key, title, stocked_at, devices, ordered_at, stocked_at,
                                  order_key))
        else:
            fields = fields or {}
            found.append(Delivery(key, title, stocked_at, devices, _day(fields.get(ORDERED_ON)),
                                  _day(fields.get(DELIVERED_ON))))
    return found


def _first(status: LifecycleStatus, class_code: str, moment: datetime) -> Any:
    """Per item of the class: its first version with ``status`` (up to ``moment``)."""
    return (select(ItemVersion.item_id, func.min(ItemVersion.version).label("version"))
            .where(ItemVersion.status == status.value, in_class(ItemVersion, class_code),
                   ItemVersion.valid_from <= moment)
            .group_by(ItemVersion.item_id)
            .subquery())


# -- agreed service levels ------------------------------------------------------------------------

@dataclass(frozen=True)
class AgreedLevel:
    """The spares service level a service the pool's devices support records."""

    service_key: str
    service_name: str
    percent: Decimal
    usable: bool  # within the range the calculation accepts


def agreed_levels(session: Session, pool: Pool, limits: tuple[Decimal, Decimal]
                  ) -> list[AgreedLevel]:
    """The services that devices of the pool (in use or in stock) support, with the level each
    records, by key; services without a recorded level are left out."""
    device = aliased(ItemVersion)
    supported = exists().where(
        Relation.kind == SUPPORTS, Relation.target_id == ItemVersion.item_id,
        valid_at(Relation, pool.moment), device.item_id == Relation.source_id,
        valid_at(device, pool.moment), device.status.in_(POOL_STATUSES),
        *pool.conditions(device))
    rows = session.execute(
        select(ItemVersion.key, ItemVersion.name, ItemVersion.attributes)
        .where(valid_at(ItemVersion, pool.moment), service_condition(ItemVersion), supported)
        .order_by(ItemVersion.key))
    levels = []
    for key, name, attributes in rows:
        value = (attributes or {}).get(AGREED_LEVEL)
        try:
            percent = Decimal(str(value)) if value not in (None, "") else None
        except InvalidOperation:
            percent = None
        if percent is not None and percent.is_finite():
            levels.append(AgreedLevel(key, name, percent,
                                      limits[0] <= percent <= limits[1]))
    return levels


__all__ = ["FAILURE_REASONS", "REASONS", "RECEIPT_MODEL", "REPLACED_FROM", "REPLACED_TO", "AgreedLevel",
           "Delivery", "Pool", "RecordedFailure", "Replacement", "agreed_levels", "delivered",
           "first_registered", "recorded_failures", "retirement_reason", "taken_out_of_use"]
