"""Column mappings: which column of an import file fills which field of an item.

A mapping is YAML (see the shipped ones in ``mappings/``):

    name: Snipe-IT asset export
    columns: {"Asset Tag": asset_tag, "Asset Name": [name, hostname], Category: class}
    values: {class: {Laptops: hardware.laptop}, status: {Deployed: in_use}}
    defaults: {currency: EUR}
    ignore_unknown: true        # other tools' exports carry columns the BIR has no use for

A target is ``key``, ``class``, a field of the item (``serial_number``, ``purchase_cost``, ...),
``attributes.<name>`` for a class attribute, ``attributes`` for a JSON object of them, or
``installed_on`` (the device a software installation is on). The plain ``csv``/``json`` formats
use ``IDENTITY``: columns named as the targets, as ``usm export items`` writes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bir.items import RECORD_FIELDS
from bir.yaml_input import YamlLimitExceeded, load_yaml
from usm.services.errors import Invalid

SHIPPED = Path(__file__).resolve().parent / "mappings"
PLAIN_TARGETS = ("key", "class", *RECORD_FIELDS, "attributes", "installed_on")


class MappingError(Invalid):
    """A mapping file that cannot be used; the message names the entry."""


@dataclass(frozen=True)
class ColumnMapping:
    name: str
    columns: dict[str, tuple[str, ...]]  # source column -> targets
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # target -> source -> value
    defaults: dict[str, Any] = field(default_factory=dict)
    ignore_unknown: bool = False

    def targets(self, column: str) -> tuple[str, ...] | None:
        """The targets a column fills; ``attributes.<name>`` columns map to themselves."""
        found = self.columns.get(column)
        if found is None and column.startswith("attributes.") and not self.ignore_unknown:
            return (column,)
        return found

    def translate(self, target: str, value: Any) -> Any:
        table = self.values.get(target)
        if table and isinstance(value, str):
            return table.get(value, table.get(value.lower(), value))
        return value


def _valid_target(target: str) -> bool:
    return target in PLAIN_TARGETS or (target.startswith("attributes.") and len(target) > 11)


def parse_mapping(data: Any, where: str) -> ColumnMapping:
    if not isinstance(data, dict) or not isinstance(data.get("columns"), dict):
        raise MappingError(f"{where}: a mapping needs 'columns: {{source column: target}}'")
    columns: dict[str, tuple[str, ...]] = {}
    for source, target in data["columns"].items():
        targets = tuple(target) if isinstance(target, list) else (target,)
        bad = [t for t in targets if not isinstance(t, str) or not _valid_target(t)]
        if bad:
            raise MappingError(f"{where}: columns.{source}: {bad[0]!r} is not a field of an item")
        columns[str(source)] = targets
    values = data.get("values") or {}
    if not isinstance(values, dict) or not all(isinstance(v, dict) for v in values.values()):
        raise MappingError(f"{where}: 'values' maps a target to {{source value: value}}")
    return ColumnMapping(
        name=str(data.get("name") or where), columns=columns,
        values={t: {str(k): str(v) for k, v in table.items()} for t, table in values.items()},
        defaults=dict(data.get("defaults") or {}), ignore_unknown=bool(data.get("ignore_unknown")))


def load_mapping(path: Path) -> ColumnMapping:
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except YamlLimitExceeded as exc:
        raise MappingError(f"{path.name}: not a valid mapping file: {exc}") from exc
    except (OSError, yaml.YAMLError) as exc:
        raise MappingError(f"{path.name}: {exc}") from exc
    except ValueError as exc:  # not UTF-8, or a scalar YAML resolves but cannot build (2001-13-01)
        raise MappingError(f"{path.name}: not a valid mapping file: {exc}") from exc
    except RecursionError as exc:
        raise MappingError(f"{path.name}: not a valid mapping file: nested too deeply") from exc
    return parse_mapping(data, path.name)


def shipped_mapping(name: str) -> ColumnMapping:
    """A mapping shipped with the product: ``snipeit`` or ``netbox``."""
    return load_mapping(SHIPPED / f"{name}.yaml")


IDENTITY = ColumnMapping("BIR columns", {t: (t,) for t in PLAIN_TARGETS})
