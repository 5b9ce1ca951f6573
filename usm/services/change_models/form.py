"""The designer's structured form, written back as YAML: the common edits (a state's step and time
target, a new state with the transitions into and out of it, a transition's source, destination,
roles and guards) applied to a definition's text.

The result is only a proposal: it is saved through ``definition_versions.update_draft``, which
checks it against the skeleton like any typed YAML. Values the form cannot read as numbers are
passed through as written, so that check names the state or transition they belong to.
The text is edited in place (a round trip that keeps comments, order and layout), so what the
form did not touch reads exactly as the designer wrote it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from usm.services.documents import dump_edited, load_for_edit
from workflows.change_model import NAME, ChangeModelError, ChangeModelSpec
from workflows.skeleton import FINAL

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
    """A new state as the form sends it, with the transitions that connect it: a state nothing
    leads to is unreachable, so it is added together with the way in (and out, unless final)."""

    name: str
    step: str
    label: str = ""
    time_target_hours: str = ""
    sources: list[str] = field(default_factory=list)  # reached from
    into_label: str = ""  # the transition into it
    dest: str = ""  # then to
    out_label: str = ""  # the transition out of it
    roles: list[str] = field(default_factory=list)  # who may move a change along both

    @property
    def blank(self) -> bool:
        return not (self.name.strip() or self.label.strip())


def name_from(text: str, limit: int = 48) -> str:
    """A name the skeleton accepts, from what a person typed: "Quality check" -> quality_check,
    "Qualité 2" -> qualite_2 (letters without accents, runs of anything else as one _)."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    name = re.sub(r"[^a-z0-9]+", "_", plain).strip("_")
    if name and not name[0].isalpha():
        name = f"s_{name}"
    return name[:limit].rstrip("_")


def set_transition(source: str, form: TransitionForm, *, original: str | None = None) -> str:
    """The text with the transition ``original`` replaced by ``form`` (added when ``original`` is
    None or unknown)."""
    data = _load(source)
    typed = form.trigger.strip()
    trigger = typed if re.fullmatch(NAME, typed) else name_from(typed) or name_from(form.label)
    if not trigger:
        raise ChangeModelError(["new transition: give a label (its trigger is made from it) or "
                                "a trigger with at least one letter"])
    entry: dict[str, Any] = {"trigger": trigger}
    if form.label.strip():
        entry["label"] = form.label.strip()
    sources = [s for s in form.sources if s]
    entry["source"] = sources[0] if len(sources) == 1 else _flow(sources)
    entry["dest"] = form.dest
    if form.auto:
        entry["auto"] = True
    else:
        entry["roles"] = _flow(list(form.roles))
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
    return dump_edited(data)


def set_states(source: str, time_targets: Mapping[str, str], new_state: StateForm | None = None
               ) -> str:
    """The text with each named state's time target set (blank removes it), plus a new state with
    the transition into it (and out of it, unless the state is final)."""
    data = _load(source)
    states = data.setdefault("states", [])
    for state in states:
        if isinstance(state, dict) and state.get("name") in time_targets:
            value = time_targets[state["name"]].strip()
            if value:
                state["time_target_hours"] = _number(value)
            else:
                state.pop("time_target_hours", None)
    if new_state is not None and not new_state.blank:
        _add_state(data, new_state)
    return dump_edited(data)


def _add_state(data: dict[str, Any], form: StateForm) -> None:
    label = form.label.strip()
    name = name_from(form.name) or name_from(label)
    where = f"new state '{label or form.name.strip()}'"
    states = data["states"]
    known = {s.get("name") for s in states if isinstance(s, dict)}
    problems = []
    if not name:
        problems.append(f"{where}: give a label with at least one letter")
    elif name in known:
        problems.append(f"{where}: there is already a state '{name}'; give another label")
    sources = [s for s in form.sources if s]
    if not sources:
        problems.append(f"{where}: choose the states it is reached from (a state nothing leads "
                        "to is unreachable)")
    final = form.step in {step.value for step in FINAL}
    if not final and not form.dest:
        problems.append(f"{where}: choose the state a change moves to after it (a state nothing "
                        "leads out of is a dead end)")
    if problems:
        raise ChangeModelError(problems)
    entry: dict[str, Any] = {"name": name, "step": form.step}
    if label:
        entry["label"] = label
    if form.time_target_hours.strip():
        entry["time_target_hours"] = _number(form.time_target_hours.strip())
    # After the last state it is reached from, before the final ones: in the order a change
    # meets them, as a designer lists them.
    finals = [i for i, s in enumerate(states)
              if isinstance(s, dict) and s.get("step") in {step.value for step in FINAL}]
    after = [i for i, s in enumerate(states) if isinstance(s, dict) and s.get("name") in sources]
    at = min(max(after, default=len(states) - 1) + 1, finals[0] if finals else len(states))
    states.insert(at, _styled(entry, like=states[at - 1] if at else None))
    transitions = data.setdefault("transitions", [])
    triggers = {t.get("trigger") for t in transitions if isinstance(t, dict)}
    shown = label or name.replace("_", " ")
    into = {"trigger": _unique(name_from(form.into_label) or f"to_{name}", triggers),
            "label": form.into_label.strip() or shown.capitalize(),
            "source": sources[0] if len(sources) == 1 else _flow(sources), "dest": name,
            "roles": _flow(form.roles)}
    transitions.append(into)
    if not final:
        out_label = form.out_label.strip() or f"{shown.capitalize()} done"
        transitions.append({"trigger": _unique(name_from(out_label), triggers),
                            "label": out_label, "source": name, "dest": form.dest,
                            "roles": _flow(form.roles)})


def _styled(entry: dict[str, Any], like: Any) -> Any:
    """``entry`` written on one line, ``{name: ..., step: ...}``, when the entry before it is."""
    mapping = CommentedMap(entry)
    style = getattr(like, "fa", None)
    if style is not None and style.flow_style():
        mapping.fa.set_flow_style()
    return mapping


def _flow_map(params: dict[str, Any]) -> CommentedMap:
    """A guard's parameters written as ``{count: 2}``, as designers write them."""
    mapping = CommentedMap(params)
    mapping.fa.set_flow_style()
    return mapping


def _flow(names: list[str]) -> CommentedSeq:
    """A list of names written as ``[a, b]``, as designers write roles and sources."""
    seq = CommentedSeq(names)
    seq.fa.set_flow_style()
    return seq


def _unique(name: str, taken: set[Any]) -> str:
    """``name``, or ``name_2``, ``name_3`` ... when a transition already has it (added to
    ``taken``)."""
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{name[:44]}_{n}"
    taken.add(candidate)
    return candidate


def remove_transition(source: str, trigger: str) -> str:
    """The text without the transition ``trigger``; the save's checks then name any state its
    loss leaves unreachable or stuck."""
    data = _load(source)
    transitions = data.get("transitions") or []
    kept = [t for t in transitions if not (isinstance(t, dict) and t.get("trigger") == trigger)]
    if len(kept) == len(transitions):
        raise ChangeModelError([f"transition '{trigger}': there is no such transition to remove"])
    data["transitions"] = kept
    return dump_edited(data)


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
    return dump_edited(data), removed


def _names(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _guards(form: TransitionForm) -> list[Any]:
    guards: list[Any] = []
    names = [n.strip() for n in form.required_fields.split(",") if n.strip()]
    if names:
        guards.append({"required_fields": _flow_map({"fields": _flow(names)})})
    if form.approvals.strip():
        guards.append({"approvals": _flow_map({"count": _number(form.approvals.strip())})})
    if form.cost_at_most.strip():
        guards.append({"cost_at_most": _flow_map({"amount": _number(form.cost_at_most.strip())})})
    if form.risk_at_most.strip():
        guards.append({"risk_at_most": _flow_map({"level": form.risk_at_most.strip()})})
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
        data = load_for_edit(source)
    except ValueError as exc:
        raise ChangeModelError([f"the form cannot edit the text: {exc}"]) from exc
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
