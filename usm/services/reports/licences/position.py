"""The effective licence position (software asset management) per product and metric, as of any
day: what is entitled, what the register shows consumed, the surplus or shortfall, and what the
shortfall would cost.

The rules, which the report page repeats for its readers:

- The register is read as it stood at the end of the chosen day (UTC).
- An installation counts while its status is in use or maintenance; retired, disposed (or not
  yet deployed) installations are listed but not counted.
- An installation belongs to the position of the entitlement its ``licensed_by`` relation names.
  Without one, it belongs to its product's position when the product's entitlements all have one
  metric; otherwise (several metrics, or no entitlement at all) it is counted per device. Products
  match case-insensitively, trimmed.
- A software product (class software.product, matched by its ``product`` attribute as above)
  whose ``licensing`` is free, open_source or bundled needs no licence: its positions (kind
  ``no_licence_needed``) list the installations and count what they consume, but never show a
  shortfall or a shortfall cost, whatever the entitlements. Licensing is a fact about the
  software, so a software product item of any status says it; when several items of one product
  disagree (or one says nothing), the product needs a licence and the position says why.
- A product nobody is entitled to (no entitlement of any metric, in any status) and not marked
  as needing no licence is *installed without any entitlement* (kind ``unlicensed``): a line of
  its own, per device, in which every counted unit is a shortfall. It stays in the shortfalls
  (an installation without a licence is exactly what a vendor's audit looks for), but kept apart
  from the positions that hold entitlements and run short, so that a discovery import of a
  machine's free tools reads as a list to sort out (register an entitlement, or mark the
  product), not as a bill. It has no unit price, so it adds nothing to the shortfall cost.
- Every other position (kind ``entitled``) is one whose product holds entitlements.
- Consumption per metric: *device* and *subscription*: distinct devices with a counted
  installation; *user*: distinct owners of those devices, a device without owner counted as one
  user (and flagged); *core*: the sum of the cores of those devices (attribute ``cores``, or
  ``vcpus`` for virtual machines and cloud instances), a device without a core count flagged and
  not guessed; *site*: distinct locations of those devices, a device without location flagged
  and not counted; *concurrent*: the register cannot observe concurrent use, so the counted
  installations are the upper bound. An installation related to no device counts as one unit
  for device, subscription, user and concurrent (flagged), and nothing for core and site.
- Entitled: the sum of the quantities of the position's entitlements in stock, in use or in
  maintenance (planned, ordered, retired and disposed ones entitle nothing). A subscription
  entitles only while term_start <= day <= term_end; other metrics are perpetual, their term
  (support) does not limit them.
- Cost of a shortfall: shortfall x the highest unit price among the position's entitlements
  (a prudent estimate: the dearest price already paid), in their currency. Without a price, or
  with prices in several currencies, the cost is not computed and the position says why.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

from bir.errors import NotFound
from usm.services.platform import Database
from usm.services.reports.licences.inventory import (
    NO_LICENCE_NEEDED,
    Device,
    Entitlement,
    Installation,
    LicenceRegister,
    Product,
    product_key,
    read_licence_register,
)
from usm.services.user_input import day_end

METRICS = ("device", "user", "core", "subscription", "site", "concurrent")
METRIC_RULES = {
    "device": "Distinct devices with a counted installation",
    "user": "Distinct owners of those devices; a device without owner counts as one user",
    "core": "Sum of the cores (or vCPUs) of those devices; a device without a core count is "
            "flagged, not guessed",
    "subscription": "As per device; entitled only while the day lies within the term",
    "site": "Distinct locations of those devices; a device without location is flagged",
    "concurrent": "Counted installations: an upper bound, the register cannot observe "
                  "concurrent use",
}
__all__ = ["ENTITLED", "KINDS", "NO_LICENCE", "UNLICENSED", "NotFound", "licence_position",
           "product_position"]
COUNTED_INSTALLATION_STATUSES = frozenset({"in_use", "maintenance"})
ENTITLING_STATUSES = frozenset({"in_stock", "in_use", "maintenance"})
DEFAULT_METRIC = "device"
# What a position is (Position.kind): see the rules above.
ENTITLED = "entitled"
UNLICENSED = "unlicensed"
NO_LICENCE = "no_licence_needed"
KINDS = (ENTITLED, UNLICENSED, NO_LICENCE)


@dataclass(frozen=True)
class EntitlementLine:
    entitlement: Entitlement
    entitled: int  # what it adds to the position on the day
    note: str | None  # why it adds nothing, or less than its quantity


@dataclass(frozen=True)
class InstallationLine:
    installation: Installation
    counted: bool
    notes: tuple[str, ...]


@dataclass(frozen=True)
class Position:
    product: str
    product_key: str
    vendor: str | None
    metric: str
    entitled: int
    consumed: int
    unit_price: Decimal | None
    currency: str | None
    shortfall_cost: Decimal | None
    counted_units: tuple[str, ...]  # what the consumption counted: devices, owners, hosts, sites
    notes: tuple[str, ...]
    entitlements: tuple[EntitlementLine, ...]
    installations: tuple[InstallationLine, ...]
    kind: str = ENTITLED  # ENTITLED, UNLICENSED or NO_LICENCE
    licensing: str | None = None  # the product's licensing as its software product says
    product_items: tuple[str, ...] = ()  # keys of the product's software product items
    licensing_note: str | None = None  # why the items' licensing does not count (they disagree)

    @property
    def needs_licence(self) -> bool:
        return self.kind != NO_LICENCE

    @property
    def balance(self) -> int:
        """Surplus (positive) or shortfall (negative)."""
        return self.surplus - self.shortfall

    @property
    def shortfall(self) -> int:
        return max(0, self.consumed - self.entitled) if self.needs_licence else 0

    @property
    def installed(self) -> int:
        """Counted installations (in use or maintenance)."""
        return sum(1 for line in self.installations if line.counted)

    @property
    def surplus(self) -> int:
        return max(0, self.entitled - self.consumed)

    @property
    def flagged(self) -> int:
        """Counted installations with a note (a device without owner, cores or location, no
        link to an entitlement, ...): what to check before trusting the figure."""
        return sum(1 for line in self.installations if line.counted and line.notes)


@dataclass(frozen=True)
class CostTotal:
    currency: str | None
    amount: Decimal


@dataclass(frozen=True)
class LicenceReport:
    day: date
    at: datetime
    positions: list[Position]
    shortfall_costs: list[CostTotal]

    @property
    def shortfalls(self) -> list[Position]:
        """Positions in shortfall, the ones installed without any entitlement included."""
        return [p for p in self.positions if p.shortfall]

    @property
    def entitled_positions(self) -> list[Position]:
        return [p for p in self.positions if p.kind == ENTITLED]

    @property
    def unlicensed(self) -> list[Position]:
        """Installed without any entitlement (and not marked as needing no licence)."""
        return [p for p in self.positions if p.kind == UNLICENSED]

    @property
    def needing_no_licence(self) -> list[Position]:
        return [p for p in self.positions if p.kind == NO_LICENCE]


@dataclass(frozen=True)
class ProductLicences:
    product: str
    vendor: str | None
    report: LicenceReport
    positions: list[Position]

    @property
    def licensing(self) -> str | None:
        return self.positions[0].licensing

    @property
    def needs_licence(self) -> bool:
        return self.positions[0].needs_licence

    @property
    def product_items(self) -> tuple[str, ...]:
        return self.positions[0].product_items


def licence_position(db: Database, day: date | None = None) -> LicenceReport:
    """The licence position of every product and metric as of the end of ``day`` (today by
    default)."""
    day = day or datetime.now(UTC).date()
    with db.reading() as session:
        register = read_licence_register(session, day_end(day))
    return positions_of(register, day)


def product_position(db: Database, product: str, day: date | None = None) -> ProductLicences:
    """One product's positions (one per metric) with the entitlements and installations behind
    them; ``NotFound`` when the register knows no such product on that day."""
    report = licence_position(db, day)
    wanted = product_key(product)
    positions = [p for p in report.positions if p.product_key == wanted]
    if not wanted or not positions:
        shown = " ".join(product.split())[:80]
        raise NotFound(f"no licence entitlement or installation of '{shown}' in the register "
                       f"on {report.day.isoformat()}")
    return ProductLicences(positions[0].product, positions[0].vendor, report, positions)


@dataclass(frozen=True)
class _Licensing:
    """What a product's software product items say about its licensing."""

    value: str | None  # None: not registered, or the items disagree
    items: tuple[str, ...]
    note: str | None

    @property
    def needs_licence(self) -> bool:
        return self.value not in NO_LICENCE_NEEDED


NOT_REGISTERED = _Licensing(None, (), None)


def _licensing_by_product(products: list[Product]) -> dict[str, _Licensing]:
    by_key: dict[str, list[Product]] = defaultdict(list)
    for p in products:
        by_key[p.product_key].append(p)
    result = {}
    for key, items in by_key.items():
        items.sort(key=lambda p: p.key)
        keys = tuple(p.key for p in items)
        values = {p.licensing for p in items}
        if len(values) == 1:
            result[key] = _Licensing(next(iter(values)), keys, None)
            continue
        said = ", ".join(f"{p.key} ({_words(p.licensing) if p.licensing else 'not registered'})"
                         for p in items)
        result[key] = _Licensing(None, keys, f"its software products disagree on licensing "
                                             f"({said}): counted as needing a licence")
    return result


def _words(code: str) -> str:
    return code.replace("_", " ")


@dataclass
class _Bucket:
    entitlements: list[Entitlement] = field(default_factory=list)
    installations: list[tuple[Installation, list[str]]] = field(default_factory=list)


def positions_of(register: LicenceRegister, day: date) -> LicenceReport:
    """The positions computed from what ``read_licence_register`` read (pure: no database)."""
    buckets: dict[tuple[str, str], _Bucket] = defaultdict(_Bucket)
    entitlements = {e.key: e for e in register.entitlements}
    metrics_of: dict[str, set[str]] = defaultdict(set)
    for e in register.entitlements:
        buckets[(e.product_key, e.metric)].entitlements.append(e)
        metrics_of[e.product_key].add(e.metric)
    for inst in register.installations:
        where, notes = _position_of(inst, entitlements, metrics_of)
        counted = inst.status in COUNTED_INSTALLATION_STATUSES
        # A position exists for entitlements or counted installations; a retired installation
        # of a product nobody holds entitlements for is history, not a position.
        if counted or where in buckets:
            buckets[where].installations.append((inst, notes))
    licensing = _licensing_by_product(register.products)
    positions = [_position(key, metric, bucket, day, licensing.get(key, NOT_REGISTERED),
                           entitled_product=key in metrics_of)
                 for (key, metric), bucket in buckets.items()]
    positions.sort(key=lambda p: (p.product_key, METRICS.index(p.metric)
                                  if p.metric in METRICS else len(METRICS), p.metric))
    return LicenceReport(day, day_end(day), positions, _totals(positions))


def _position_of(inst: Installation, entitlements: dict[str, Entitlement],
                 metrics_of: dict[str, set[str]]) -> tuple[tuple[str, str], list[str]]:
    notes: list[str] = []
    linked = [entitlements[k] for k in inst.licensed_by if k in entitlements]
    if linked:
        chosen = linked[0]
        if chosen.product_key != inst.product_key:
            notes.append(f"licensed by {chosen.key}, an entitlement for {chosen.product}")
        if len({(e.product_key, e.metric) for e in linked}) > 1:
            notes.append(f"licensed by several positions; counted under {chosen.key}")
        return (chosen.product_key, chosen.metric), notes
    metrics = metrics_of.get(inst.product_key, set())
    if len(metrics) == 1:
        notes.append("not linked to an entitlement (matched by product)")
        return (inst.product_key, next(iter(metrics))), notes
    if metrics:
        notes.append("not linked to an entitlement and the product has several metrics: "
                     "counted per device")
    else:
        notes.append("no entitlement for this product")
    return (inst.product_key, DEFAULT_METRIC), notes


def _position(key: str, metric: str, bucket: _Bucket, day: date, licensing: _Licensing, *,
              entitled_product: bool) -> Position:
    lines = tuple(_entitlement_line(e, day) for e in sorted(bucket.entitlements,
                                                          key=lambda e: e.key))
    entitled = sum(line.entitled for line in lines)
    counted = [(inst, notes) for inst, notes in bucket.installations
               if inst.status in COUNTED_INSTALLATION_STATUSES]
    consumed, units, unit_notes = _consumption(metric, [inst for inst, _ in counted])
    installation_lines = []
    for inst, notes in sorted(bucket.installations, key=lambda pair: pair[0].key):
        is_counted = inst.status in COUNTED_INSTALLATION_STATUSES
        own = list(notes) + (unit_notes.get(inst.key, []) if is_counted else
                             [f"status {inst.status.replace('_', ' ')}: not counted"])
        installation_lines.append(InstallationLine(inst, is_counted, tuple(own)))
    first = bucket.entitlements[0] if bucket.entitlements else bucket.installations[0][0]
    vendor = next((x.vendor for x in [*bucket.entitlements,
                                      *(i for i, _ in bucket.installations)] if x.vendor), None)
    notes: list[str] = []
    if metric == "concurrent":
        notes.append("the register cannot observe concurrent use: installations are the "
                     "upper bound")
    if not bucket.entitlements:
        notes.append("no entitlement for this product and metric")
    if licensing.note:
        notes.append(licensing.note)
    if not licensing.needs_licence:
        kind = NO_LICENCE
        notes.append(f"needs no licence ({_words(licensing.value or '')}, "
                     f"{', '.join(licensing.items)}): not a shortfall")
    else:
        kind = ENTITLED if entitled_product else UNLICENSED
    shortfall = max(0, consumed - entitled) if licensing.needs_licence else 0
    price, currency, cost, cost_note = _shortfall_cost(bucket.entitlements, shortfall)
    if cost_note:
        notes.append(cost_note)
    return Position(
        product=" ".join(first.product.split()) or "(no product)", product_key=key,
        vendor=vendor, metric=metric, entitled=entitled, consumed=consumed, unit_price=price,
        currency=currency, shortfall_cost=cost, counted_units=tuple(units), notes=tuple(notes),
        entitlements=lines, installations=tuple(installation_lines), kind=kind,
        licensing=licensing.value, product_items=licensing.items, licensing_note=licensing.note)


def _entitlement_line(e: Entitlement, day: date) -> EntitlementLine:
    if e.status not in ENTITLING_STATUSES:
        return EntitlementLine(e, 0, f"status {e.status.replace('_', ' ')}: entitles nothing")
    if e.quantity is None:
        return EntitlementLine(e, 0, "no quantity registered")
    if e.metric == "subscription":
        if e.term_start is not None and day < e.term_start:
            return EntitlementLine(e, 0, f"term starts {e.term_start.isoformat()}")
        if e.term_end is not None and day > e.term_end:
            return EntitlementLine(e, 0, f"term ended {e.term_end.isoformat()}")
        if e.term_start is None or e.term_end is None:
            return EntitlementLine(e, e.quantity, "subscription without a complete term: "
                                                  "counted as running")
    return EntitlementLine(e, e.quantity, None)


def _distinct_devices(installations: Iterable[Installation]) -> dict[str, Device]:
    return {d.key: d for inst in installations for d in inst.devices}


def _consumption(metric: str, installations: list[Installation]
                 ) -> tuple[int, list[str], dict[str, list[str]]]:
    """What the counted installations consume under ``metric``: the count, the units counted
    (for the auditor), and notes per installation key."""
    notes: dict[str, list[str]] = defaultdict(list)
    loose = [inst for inst in installations if not inst.devices]
    devices = _distinct_devices(installations)
    for inst in installations:
        for d in inst.devices:
            if d.status not in COUNTED_INSTALLATION_STATUSES:
                notes[inst.key].append(f"device {d.key} is {d.status.replace('_', ' ')}")
    if metric == "concurrent":
        return len(installations), [i.key for i in installations], notes
    if metric in ("core", "site"):
        for inst in loose:
            notes[inst.key].append("installed on no device: nothing to count")
    else:
        for inst in loose:
            notes[inst.key].append("installed on no device: counted as one")
    loose_units = [f"{i.key} (no device)" for i in loose]
    if metric == "user":
        owners = sorted({d.owner for d in devices.values() if d.owner})
        ownerless = sorted(k for k, d in devices.items() if not d.owner)
        _flag(notes, installations, set(ownerless), "device {key} has no owner: counted as one "
                                                     "user")
        units = owners + [f"{k} (no owner)" for k in ownerless] + loose_units
        return len(owners) + len(ownerless) + len(loose), units, notes
    if metric == "core":
        known = {k: d.cores for k, d in devices.items() if d.cores is not None}
        _flag(notes, installations, set(devices) - set(known),
              "device {key} has no core count: not counted")
        units = [f"{k}: {cores} cores" for k, cores in sorted(known.items())]
        return sum(known.values()), units, notes
    if metric == "site":
        sites = sorted({d.location for d in devices.values() if d.location})
        _flag(notes, installations, {k for k, d in devices.items() if not d.location},
              "device {key} has no location: not counted")
        return len(sites), sites, notes
    return len(devices) + len(loose), sorted(devices) + loose_units, notes


def _flag(notes: dict[str, list[str]], installations: list[Installation], keys: set[str],
          text: str) -> None:
    for inst in installations:
        for d in inst.devices:
            if d.key in keys:
                notes[inst.key].append(text.format(key=d.key))


def _shortfall_cost(entitlements: list[Entitlement], shortfall: int
                    ) -> tuple[Decimal | None, str | None, Decimal | None, str | None]:
    """(unit price, currency, cost, why no cost): the highest unit price of the position."""
    priced = [e for e in entitlements if e.unit_price is not None]
    currencies = {e.currency for e in priced}
    if len(currencies) > 1:
        names = ", ".join(sorted(c or "no currency" for c in currencies))
        return None, None, None, (f"unit prices in several currencies ({names}): "
                                  "shortfall cost not computed")
    if not priced:
        return None, None, None, ("no unit price registered: shortfall cost unknown"
                                  if shortfall else None)
    dearest = max(priced, key=lambda e: e.unit_price or Decimal(0))
    price = dearest.unit_price or Decimal(0)
    return price, dearest.currency, price * shortfall, None


def _totals(positions: list[Position]) -> list[CostTotal]:
    sums: dict[str | None, Decimal] = defaultdict(Decimal)
    for p in positions:
        if p.shortfall and p.shortfall_cost is not None:
            sums[p.currency] += p.shortfall_cost
    return [CostTotal(c, sums[c]) for c in sorted(sums, key=lambda c: (c is None, c or ""))]
