"""What a change model version changes against another, readably: which states, transitions and
model settings were added, removed or changed (the YAML diff is the documents' own)."""

from __future__ import annotations

from usm.services.documents import compare_named, plain
from workflows.change_model import ChangeModelError, parse_change_model

MODEL_SETTINGS = ("name", "change_class", "description", "approvers", "change_set", "fields",
                  "initial")


def structural_changes(old_source: str, new_source: str) -> list[str]:
    """The changed states, transitions and settings, as a designer names them."""
    try:
        old = parse_change_model(old_source)
        new = parse_change_model(new_source)
    except ChangeModelError:
        return ["one of the versions no longer passes the checks; compare the YAML"]
    result = [f"{name} changed" for name in MODEL_SETTINGS
              if plain(getattr(old, name)) != plain(getattr(new, name))]
    result += compare_named("state", {s.name: s for s in old.states},
                            {s.name: s for s in new.states})
    result += compare_named("transition", {t.trigger: t for t in old.transitions},
                            {t.trigger: t for t in new.transitions})
    return result
