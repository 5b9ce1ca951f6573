"""Workflow definitions (change models): parsed from YAML and checked against the CHM skeleton.

``parse_change_model`` either returns a ``ChangeModelSpec`` that the engine can run, or raises
``ChangeModelError`` listing every problem with the place it was found (a state, a transition, a
guard), so a process designer can fix them all in one go.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bir.changeset import OP_KINDS
from bir.errors import Invalid
from bir.yaml_input import load_yaml
from workflows.guards import CHANGE_FIELDS, GUARDS
from workflows.skeleton import FINAL, ROLES, SKELETON, ChangeClass, Step, allowed_move

NAME = r"^[a-z][a-z0-9_]*$"


class ChangeModelError(Invalid):
    """A change model's text was refused; ``problems`` lists every reason, each naming its place."""

    summary = "the definition breaks the CHM skeleton or the schema of a definition"
    field = "source"

    def __init__(self, problems: list[str]):
        super().__init__(problems)


class GuardRef(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    params: dict[str, Any] = {}

    def label(self) -> str:
        args = ", ".join(f"{k}={v}" for k, v in self.params.items())
        return f"{self.name}({args})" if args else self.name


class StateSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NAME, max_length=48)
    step: Step
    label: str | None = None
    time_target_hours: float | None = Field(default=None, gt=0)

    @property
    def title(self) -> str:
        return self.label or self.name.replace("_", " ").capitalize()


class TransitionSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    trigger: str = Field(pattern=NAME, max_length=48)
    source: list[str]
    dest: str
    label: str | None = None
    roles: list[str] = []
    guards: list[GuardRef] = []
    auto: bool = False

    @field_validator("source", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("guards", mode="before")
    @classmethod
    def _guard_shapes(cls, value: Any) -> Any:
        if not isinstance(value, list):
            return value
        refs = []
        for entry in value:
            if isinstance(entry, str):
                refs.append({"name": entry})
            elif isinstance(entry, dict) and len(entry) == 1 and "name" not in entry:
                (name, params), = entry.items()
                refs.append({"name": name, "params": params if params is not None else {}})
            else:
                refs.append(entry)
        return refs

    @property
    def title(self) -> str:
        return self.label or self.trigger.replace("_", " ").capitalize()

    @property
    def needs_approvals(self) -> bool:
        """Whether approvers' decisions are what lets this transition fire."""
        return any(g.name == "approvals" for g in self.guards)


class FieldSpec(BaseModel):
    """A model-specific field asked when a change of this model is registered."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NAME, max_length=48)
    label: str | None = None
    type: str = Field(default="string", pattern="^(string|text|integer|date|money)$")
    help: str | None = None


class ChangeSetSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    operations: list[str] = list(OP_KINDS)
    classes: list[str] | None = None


class ChangeModelSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^[a-z][a-z0-9-]*$", max_length=48)
    name: str = Field(min_length=1, max_length=120)
    version: int = Field(default=1, ge=1)
    change_class: ChangeClass
    description: str | None = None
    approvers: list[str] = []
    change_set: ChangeSetSpec = ChangeSetSpec()
    fields: list[FieldSpec] = []
    initial: str
    states: list[StateSpec] = Field(min_length=1)
    transitions: list[TransitionSpec] = Field(min_length=1)

    def state(self, name: str) -> StateSpec:
        return next(s for s in self.states if s.name == name)

    def step_of(self, name: str) -> Step:
        return self.state(name).step

    def transitions_from(self, name: str) -> list[TransitionSpec]:
        return [t for t in self.transitions if name in t.source]

    @property
    def pre_authorised(self) -> bool:
        return self.change_class is ChangeClass.STANDARD

    def authorising(self, transition: TransitionSpec) -> bool:
        """A transition that takes a change out of authorisation into planning."""
        return transition.dest in self._names and self.step_of(transition.dest) is Step.PLANNING \
            and any(self.step_of(s) is Step.AUTHORISATION for s in transition.source
                    if s in self._names)

    @property
    def _names(self) -> set[str]:
        return {s.name for s in self.states}


def parse_change_model(source: str | dict[str, Any], *, where: str = "definition") -> ChangeModelSpec:
    """Parse YAML text (or an already loaded mapping) and validate it against the skeleton."""
    if isinstance(source, str):
        try:
            data = load_yaml(source)
        except yaml.YAMLError as exc:  # also a text over a limit of load_yaml
            mark = getattr(exc, "problem_mark", None)
            at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            raise ChangeModelError([f"{where}: not valid YAML{at}: "
                                   f"{getattr(exc, 'problem', None) or exc}"]) from exc
        except ValueError as exc:  # a scalar the YAML resolver accepts but cannot build (2001-13-01)
            raise ChangeModelError([f"{where}: not valid YAML: {exc}"]) from exc
        except RecursionError as exc:
            raise ChangeModelError([f"{where}: not valid YAML: nested too deeply"]) from exc
    else:
        data = source
    if not isinstance(data, dict):
        raise ChangeModelError([f"{where}: expected a mapping with code, name, states, transitions"])
    try:
        definition = ChangeModelSpec.model_validate(data)
    except ValidationError as exc:
        raise ChangeModelError([_pydantic_problem(data, err) for err in exc.errors()]) from exc
    problems = check_against_skeleton(definition)
    if problems:
        raise ChangeModelError(problems)
    return definition


def _pydantic_problem(data: dict[str, Any], err: Any) -> str:
    """Name the place of a schema error as a designer reads it: ``transitions[2] (assess).dest``."""
    parts: list[str] = []
    node: Any = data
    for part in err["loc"]:
        if isinstance(part, int):
            node = node[part] if isinstance(node, list) and part < len(node) else None
            name = (node.get("name") or node.get("trigger")) if isinstance(node, dict) else None
            parts.append(f"[{part}]" + (f" ({name})" if name else ""))
        else:
            parts.append(("." if parts else "") + str(part))
            node = node.get(part) if isinstance(node, dict) else None
    return f"{''.join(parts) or 'definition'}: {err['msg']}"


def check_against_skeleton(d: ChangeModelSpec) -> list[str]:
    """Every way ``d`` breaks the CHM skeleton, each naming the state, transition or guard."""
    problems: list[str] = []
    names = [s.name for s in d.states]
    by_name = {s.name: s for s in d.states}
    for name in {n for n in names if names.count(n) > 1}:
        problems.append(f"state '{name}' is defined more than once")
    for step in SKELETON:
        if not any(s.step is step for s in d.states):
            problems.append(f"missing step: no state maps to {step} (every change passes it)")
    if not any(s.step is Step.CLOSED for s in d.states):
        problems.append("missing final state: no state maps to closed")
    if not any(s.step is Step.REJECTED for s in d.states):
        problems.append("missing final state: no state maps to rejected (a request outside the "
                        "agreed services is recorded as rejected)")
    if d.initial not in by_name:
        problems.append(f"initial state '{d.initial}' is not defined")
    elif by_name[d.initial].step is not Step.REGISTRATION:
        problems.append(f"initial state '{d.initial}' must be in registration")

    for role in d.approvers:
        if role not in ROLES:
            problems.append(f"approvers: unknown role '{role}' (known: {', '.join(ROLES)})")
    for op in d.change_set.operations:
        if op not in OP_KINDS:
            problems.append(f"change_set.operations: unknown operation '{op}'")
    field_names = [f.name for f in d.fields]
    for f in d.fields:
        if f.name in CHANGE_FIELDS or field_names.count(f.name) > 1:
            problems.append(f"fields: '{f.name}' is already a field of every change or repeated")

    seen_triggers: set[tuple[str, str]] = set()
    for t in d.transitions:
        where = f"transition '{t.trigger}'"
        for src in t.source:
            if src not in by_name:
                problems.append(f"{where}: unknown source state '{src}'")
            elif (src, t.trigger) in seen_triggers:
                problems.append(f"{where}: defined twice from state '{src}'")
            seen_triggers.add((src, t.trigger))
        if t.dest not in by_name:
            problems.append(f"{where}: unknown destination state '{t.dest}'")
        for src in t.source:
            if src in by_name and t.dest in by_name:
                why = allowed_move(by_name[src].step, by_name[t.dest].step)
                if why:
                    problems.append(f"{where} from '{src}' ({by_name[src].step}) to '{t.dest}' "
                                    f"({by_name[t.dest].step}): {why}")
        for role in t.roles:
            if role not in ROLES:
                problems.append(f"{where}: unknown role '{role}' (known: {', '.join(ROLES)})")
        if t.auto and t.roles:
            problems.append(f"{where}: an automatic transition has no roles")
        if not t.auto and not t.roles:
            problems.append(f"{where}: name the roles that may trigger it")
        problems.extend(_guard_problems(where, t.guards, field_names))

    if problems:
        return problems
    problems.extend(_authorisation_problems(d))
    problems.extend(_graph_problems(d))
    return problems


def _guard_problems(where: str, guards: list[GuardRef], model_fields: list[str]) -> list[str]:
    problems = []
    for g in guards:
        guard = GUARDS.get(g.name)
        if guard is None:
            problems.append(f"{where}: unknown guard '{g.name}' (known: {', '.join(GUARDS)})")
            continue
        try:
            params = guard.params.model_validate(g.params)
        except ValidationError as exc:
            for err in exc.errors():
                loc = ".".join(str(p) for p in err["loc"]) or "parameters"
                problems.append(f"{where}: guard '{g.name}' {loc}: {err['msg']}")
            continue
        for name in getattr(params, "fields", []):
            if name not in CHANGE_FIELDS and name not in model_fields:
                problems.append(f"{where}: guard 'required_fields' names unknown field '{name}'")
    return problems


def _authorisation_problems(d: ChangeModelSpec) -> list[str]:
    problems = []
    authorising = [t for t in d.transitions if d.authorising(t)]
    for t in authorising:
        if d.pre_authorised and not t.auto:
            problems.append(f"transition '{t.trigger}': a standard model is pre-authorised, so "
                            "leaving authorisation must be automatic (auto: true)")
        # Automatic is allowed when approvals are what it waits for: the change moves on by
        # itself once the approvers have approved, as a standard change does once registered.
        if not d.pre_authorised and not t.needs_approvals:
            problems.append(
                f"implementation reachable without authorisation: transition '{t.trigger}' "
                f"lets a {d.change_class} change leave authorisation without an approvals guard"
                + (" (it is automatic)" if t.auto else ""))
    if not d.pre_authorised and not d.approvers:
        problems.append(f"approvers: a {d.change_class} model must name who may approve")
    # The literal property, whatever the shape of the graph: without the authorising transitions,
    # implementation must be out of reach.
    if not d.pre_authorised:
        reachable = _reachable(d, skip={id(t) for t in authorising})
        bypass = sorted(n for n in reachable if d.step_of(n) is Step.IMPLEMENTATION)
        if bypass:
            problems.append("implementation reachable without authorisation: state "
                            f"'{bypass[0]}' can be reached without passing an authorising transition")
    return problems


def _reachable(d: ChangeModelSpec, skip: set[int] = frozenset()) -> set[str]:  # type: ignore[assignment]
    seen = {d.initial}
    queue = deque([d.initial])
    while queue:
        here = queue.popleft()
        for t in d.transitions_from(here):
            if id(t) not in skip and t.dest not in seen:
                seen.add(t.dest)
                queue.append(t.dest)
    return seen


def _graph_problems(d: ChangeModelSpec) -> list[str]:
    problems = []
    reachable = _reachable(d)
    for s in d.states:
        if s.name not in reachable:
            problems.append(f"state '{s.name}' is unreachable from '{d.initial}'")
    finals = {s.name for s in d.states if s.step in FINAL}
    # Walk backwards from the final states: whatever cannot get there is stuck.
    can_finish = set(finals)
    changed = True
    while changed:
        changed = False
        for t in d.transitions:
            if t.dest in can_finish:
                for src in t.source:
                    if src not in can_finish:
                        can_finish.add(src)
                        changed = True
    for s in d.states:
        if s.name in reachable and s.name not in can_finish:
            problems.append(f"state '{s.name}' has no path to a final state")
    return problems


def definition_to_yaml(d: ChangeModelSpec) -> str:
    return yaml.safe_dump(d.model_dump(mode="json", exclude_defaults=False), sort_keys=False)
