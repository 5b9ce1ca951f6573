"""The designer's structured form, written back as YAML: the common edits (a state's step and time
target, a transition's source, destination, roles and guards) applied to a definition's text.

The result is only a proposal: it is saved through ``definition_versions.update_draft``, which
checks it against the skeleton like any typed YAML. Values the form cannot read as numbers are
passed through as written, so that check names the state or transition they belong to.
YAML comments do not survive a form edit (the text is loaded and dumped again).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import yaml

from usm.services.documents import dump_yaml
from workflows.change_model import ChangeModelError, ChangeModelSpec

# The guards without parameters, offered as checkboxes.
FLAG_GUARDS = ("has_change_set", "window_planned", "within_window", "outcome_recorded")


@dataclass(frozen=True)
class TransitionForm:
    """One transition as the form sends it (text as typed)."""

    trigger: str
    label: str = ""
    sources: list[str] = field(default_factory=list)
    dest: str = ""
    roles: list[str] = field(default_factory=list)
    auto: bool = False
    required_fields: str = ""  # comma separated
    approvals: str = ""
    cost_at_most: str = ""
    risk_at_most: str = ""
    flags: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class StateForm:
    name: str
    step: str
    label: str = ""
    time_target_hours: str = ""


def set_transition(source: str, form: TransitionForm, *, original: str | None = None) -> str:
    """The text with the transition ``original`` replaced by ``form`` (added when ``original`` is
    None or unknown)."""
    data = _load(source)
    entry: dict[str, Any] = {"trigger": form.trigger.strip()}
    if form.label.strip():
        entry["label"] = form.label.strip()
    sources = [s for s in form.sources if s]
    entry["source"] = sources[0] if len(sources) == 1 else sources
    entry["dest"] = form.dest
    if form.auto:
        entry["auto"] = True
    else:
        entry["roles"] = list(form.roles)
    guards = _guards(form)
    if guards:
        entry["guards"] = guards
    transitions = data.setdefault("transitions", [])
    at = next((i for i, t in enumerate(transitions)
               if isinstance(t, dict) and original and t.get("trigger") == original), None)
    if at is None:
        transitions.append(entry)
    else:
        transitions[at] = entry
    return dump_yaml(data)


def set_states(source: str, time_targets: Mapping[str, str], new_state: StateForm | None = None
               ) -> str:
    """The text with each named state's time target set (blank removes it), plus a new state."""
    data = _load(source)
    states = data.setdefault("states", [])
    for state in states:
        if isinstance(state, dict) and state.get("name") in time_targets:
            value = time_targets[state["name"]].strip()
            if value:
                state["time_target_hours"] = _number(value)
            else:
                state.pop("time_target_hours", None)
    if new_state is not None and new_state.name.strip():
        entry: dict[str, Any] = {"name": new_state.name.strip(), "step": new_state.step}
        if new_state.label.strip():
            entry["label"] = new_state.label.strip()
        if new_state.time_target_hours.strip():
            entry["time_target_hours"] = _number(new_state.time_target_hours.strip())
        states.append(entry)
    return dump_yaml(data)


def remove_transition(source: str, trigger: str) -> str:
    """The text without the transition ``trigger``; the save's checks then name any state its
    loss leaves unreachable or stuck."""
    data = _load(source)
    transitions = data.get("transitions") or []
    kept = [t for t in transitions if not (isinstance(t, dict) and t.get("trigger") == trigger)]
    if len(kept) == len(transitions):
        raise ChangeModelError([f"transition '{trigger}': there is no such transition to remove"])
    data["transitions"] = kept
    return dump_yaml(data)


def remove_state(source: str, name: str) -> tuple[str, list[str]]:
    """The text without the state ``name`` and its arrows, as when a node is deleted from a
    diagram: transitions to it go, it is dropped from the sources of the others, and a transition
    left without a source goes too. Returns the text and the triggers removed with the state."""
    data = _load(source)
    states = data.get("states") or []
    kept = [s for s in states if not (isinstance(s, dict) and s.get("name") == name)]
    if len(kept) == len(states):
        raise ChangeModelError([f"state '{name}': there is no such state to remove"])
    if data.get("initial") == name:
        raise ChangeModelError([f"state '{name}': changes start there (initial), so it cannot be "
                               "removed; make another state the initial one first"])
    removed: list[str] = []
    transitions: list[Any] = []
    for transition in data.get("transitions") or []:
        if not isinstance(transition, dict):
            transitions.append(transition)
            continue
        sources = _names(transition.get("source"))
        left = [s for s in sources if s != name]
        if transition.get("dest") == name or not left:
            removed.append(str(transition.get("trigger")))
            continue
        if len(left) < len(sources):
            transition["source"] = left[0] if len(left) == 1 else left
        transitions.append(transition)
    data["states"] = kept
    data["transitions"] = transitions
    return dump_yaml(data), removed


def _names(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _guards(form: TransitionForm) -> list[Any]:
    guards: list[Any] = []
    names = [n.strip() for n in form.required_fields.split(",") if n.strip()]
    if names:
        guards.append({"required_fields": {"fields": names}})
    if form.approvals.strip():
        guards.append({"approvals": {"count": _number(form.approvals.strip())}})
    if form.cost_at_most.strip():
        guards.append({"cost_at_most": {"amount": _number(form.cost_at_most.strip())}})
    if form.risk_at_most.strip():
        guards.append({"risk_at_most": {"level": form.risk_at_most.strip()}})
    guards.extend(flag for flag in FLAG_GUARDS if flag in form.flags)
    return guards


def _number(text: str) -> Any:
    try:
        value = Decimal(text)
    except InvalidOperation:
        return text
    if not value.is_finite():
        return text
    return int(value) if value == value.to_integral_value() else float(value)


def _load(source: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(source)
    except yaml.YAMLError as exc:
        raise ChangeModelError([f"the YAML does not load, so the form cannot edit it: {exc}"]) \
            from exc
    if not isinstance(data, dict):
        raise ChangeModelError(["the YAML is not a mapping, so the form cannot edit it"])
    return data


def transition_forms(definition: ChangeModelSpec) -> list[TransitionForm]:
    """Each transition of a parsed definition as the form shows it, guards split into fields."""
    forms = []
    for t in definition.transitions:
        params = {g.name: g.params for g in t.guards}
        forms.append(TransitionForm(
            trigger=t.trigger, label=t.label or "", sources=list(t.source), dest=t.dest,
            roles=list(t.roles), auto=t.auto,
            required_fields=", ".join(params.get("required_fields", {}).get("fields", [])),
            approvals=str(params.get("approvals", {}).get("count", "")),
            cost_at_most=str(params.get("cost_at_most", {}).get("amount", "")),
            risk_at_most=str(params.get("risk_at_most", {}).get("level", "")),
            flags=[f for f in FLAG_GUARDS if f in params]))
    return forms
