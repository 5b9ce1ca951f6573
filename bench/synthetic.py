"""A synthetic register: a realistic mix of item classes with financial and configuration
attributes, software installed on the devices, as change-set operations and as the raw rows the
same items make (for the baseline)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

# (class, share of the register, key prefix, class-specific attributes)
CLASS_MIX: tuple[tuple[str, int, dict[str, Any]], ...] = (
    ("hardware.laptop", 35, {"cores": 8, "keyboard_layout": "us"}),
    ("hardware.desktop", 15, {"cores": 4}),
    ("hardware.server", 5, {"cores": 32, "rack_units": 2}),
    ("hardware.monitor", 10, {}),
    ("client.phone", 10, {"os": "android"}),
    ("software.installation", 20, {"product": "Office", "vendor": "Contoso"}),
    ("cloud.instance", 5, {"provider": "aws", "instance_type": "m5.large"}),
)
HOSTS = {"hardware.laptop", "hardware.desktop", "hardware.server"}
LOCATIONS = tuple(f"Site {n:02d}" for n in range(20))
COST_CENTRES = tuple(f"CC-{n:03d}" for n in range(50))
STATUSES = ("in_use",) * 7 + ("in_stock",) * 2 + ("maintenance",)


def class_of(n: int) -> str:
    """The class of item number ``n``: the mix repeats every 100 items."""
    slot = n % 100
    for code, share, _ in CLASS_MIX:
        if slot < share:
            return code
        slot -= share
    raise AssertionError("the mix adds up to 100")


def _fields(n: int, code: str) -> dict[str, Any]:
    attributes = next(a for c, _, a in CLASS_MIX if c == code)
    fields: dict[str, Any] = {
        "name": f"{code.split('.')[-1].capitalize()} {n:07d}",
        "status": STATUSES[n % len(STATUSES)],
        "owner": f"user{n % 5000:04d}",
        "location": LOCATIONS[n % len(LOCATIONS)],
        "cost_centre": COST_CENTRES[n % len(COST_CENTRES)],
        "attributes": dict(attributes),
    }
    if code.startswith(("hardware.", "client.")):
        fields.update({
            "serial_number": f"SN{n:09d}", "manufacturer": ("Dell", "HP", "Lenovo")[n % 3],
            "model": f"Model {n % 40}", "purchase_cost": str(Decimal(400 + n % 2000)),
            "currency": "EUR", "acquired_on": (date(2022, 1, 1) + timedelta(days=n % 1400)).isoformat(),
            "depreciation_method": "straight_line", "depreciation_months": 48,
        })
    if code in HOSTS or code == "cloud.instance":
        fields["hostname"] = f"host{n:07d}"
    return fields


def create_operations(first: int, count: int) -> list[dict[str, Any]]:
    """Change-set operations creating items ``first`` .. ``first + count - 1``; each software
    installation is installed on the nearest device before it in the same change."""
    ops: list[dict[str, Any]] = []
    relations: list[dict[str, Any]] = []
    last_host: int | None = None
    for n in range(first, first + count):
        code = class_of(n)
        ops.append({"op": "create_item", "ref": f"i{n}", "class": code, **_fields(n, code)})
        if code in HOSTS:
            last_host = n
        elif code == "software.installation" and last_host is not None:
            relations.append({"op": "add_relation", "kind": "installed_on", "source": f"@i{n}",
                              "target": f"@i{last_host}"})
    return ops + relations


@dataclass
class RawRows:
    """What the same items are as rows: items, their first versions and their relations."""

    items: list[dict[str, Any]]
    versions: list[dict[str, Any]]
    relations: list[dict[str, Any]]


def _python_value(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name == "acquired_on":
        return date.fromisoformat(value)
    if name == "purchase_cost":
        return Decimal(value)
    return value


def raw_rows(operations: list[dict[str, Any]], keys: list[str], *, change_id: int,
             at: datetime, first_id: int, record_fields: tuple[str, ...]) -> RawRows:
    """The rows that ``operations`` make, with ids from ``first_id`` and the given keys."""
    creates = [op for op in operations if op["op"] == "create_item"]
    ids = {f"@{op['ref']}": first_id + i for i, op in enumerate(creates)}
    items, versions = [], []
    for i, (op, key) in enumerate(zip(creates, keys, strict=True)):
        record = {f: _python_value(f, op.get(f)) for f in record_fields}
        record.update(class_code=op["class"], attributes=op["attributes"], key=key, version=1,
                      valid_from=at)
        items.append({**record, "id": first_id + i, "created_change_id": change_id,
                      "last_change_id": change_id})
        versions.append({**record, "id": first_id + i, "item_id": first_id + i, "valid_to": None,
                         "change_id": change_id})
    relations = [{"kind": op["kind"], "source_id": ids[op["source"]],
                  "target_id": ids[op["target"]], "attributes": {}, "valid_from": at,
                  "valid_to": None, "change_id": change_id, "ended_change_id": None}
                 for op in operations if op["op"] == "add_relation"]
    return RawRows(items, versions, relations)
