"""Comparing two versions of a document readably: which named entries (states, transitions,
attributes) were added, removed or changed, field by field."""

from __future__ import annotations

from typing import Any


def compare_named(kind: str, old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Entries added, removed and changed (field by field) between two name-keyed mappings."""
    result = []
    for name in new:
        if name not in old:
            result.append(f"{kind} '{name}' added")
            continue
        before, after = plain(old[name]), plain(new[name])
        changed = [field for field in after if before.get(field) != after.get(field)]
        if changed:
            details = ", ".join(f"{field}: {_show(before.get(field))} → {_show(after.get(field))}"
                                for field in changed)
            result.append(f"{kind} '{name}' changed ({details})")
    result += [f"{kind} '{name}' removed" for name in old if name not in new]
    return result


def plain(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def _show(value: Any) -> str:
    if isinstance(value, list) and value and all(isinstance(v, dict) and "name" in v
                                                 for v in value):
        return "[" + ", ".join(_guard(v) for v in value) + "]"
    return "—" if value in (None, [], {}) else str(value)


def _guard(value: dict[str, Any]) -> str:
    params = value.get("params") or {}
    args = ", ".join(f"{k}={v}" for k, v in params.items())
    return f"{value['name']}({args})" if args else str(value["name"])
