"""The engine refuses definitions that break the CHM skeleton, naming the problem."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from workflows.change_model import ChangeModelError, parse_change_model

NORMAL = Path(__file__).resolve().parents[2] / "workflows" / "change_models" / "normal-change.yaml"


def base() -> dict[str, Any]:
    return yaml.safe_load(NORMAL.read_text(encoding="utf-8"))


def transition(d: dict[str, Any], trigger: str) -> dict[str, Any]:
    return next(t for t in d["transitions"] if t["trigger"] == trigger)


def drop_planning(d: dict[str, Any]) -> None:
    d["states"] = [s for s in d["states"] if s["step"] != "planning"]
    transition(d, "authorise")["dest"] = "building"
    d["transitions"] = [t for t in d["transitions"] if t["trigger"] != "start_build"]
    transition(d, "withdraw")["source"].remove("planning")


def auto_authorise(d: dict[str, Any]) -> None:
    """Automatic without waiting for approvals (automatic with an approvals guard is how the
    shipped models authorise: once the approvals are in)."""
    t = transition(d, "authorise")
    t["auto"] = True
    t["guards"] = []


def authorise_without_approvals(d: dict[str, Any]) -> None:
    transition(d, "authorise")["guards"] = []


def skip_to_implementation(d: dict[str, Any]) -> None:
    transition(d, "submit_for_approval")["dest"] = "implemented"


def unreachable_state(d: dict[str, Any]) -> None:
    d["states"].append({"name": "limbo", "step": "planning"})
    d["transitions"].append({"trigger": "leave_limbo", "source": "limbo", "dest": "building",
                             "roles": ["change_coordinator"]})


def dead_end(d: dict[str, Any]) -> None:
    d["states"].append({"name": "parked", "step": "planning"})
    d["transitions"].append({"trigger": "park", "source": "planning", "dest": "parked",
                             "roles": ["change_coordinator"]})


def unknown_role(d: dict[str, Any]) -> None:
    transition(d, "assess")["roles"] = ["wizard"]


def unknown_guard(d: dict[str, Any]) -> None:
    transition(d, "assess")["guards"] = ["moon_is_full"]


def bad_guard_parameter(d: dict[str, Any]) -> None:
    transition(d, "authorise")["guards"] = [{"approvals": {"count": 0}}]


def unknown_required_field(d: dict[str, Any]) -> None:
    transition(d, "assess")["guards"] = [{"required_fields": {"fields": ["horoscope"]}}]


def dotted_path_guard(d: dict[str, Any]) -> None:
    transition(d, "assess")["guards"] = ["os.system"]


def unknown_destination(d: dict[str, Any]) -> None:
    transition(d, "evaluate")["dest"] = "nowhere"


def standard_with_manual_authorisation(d: dict[str, Any]) -> None:
    d["change_class"] = "standard"
    t = transition(d, "authorise")
    t["auto"] = False
    t["roles"] = ["change_coordinator"]


def reject_after_implementation(d: dict[str, Any]) -> None:
    transition(d, "reject")["source"] = ["implemented"]


def back_from_implementation(d: dict[str, Any]) -> None:
    d["transitions"].append({"trigger": "undo", "source": "implemented", "dest": "building",
                             "roles": ["change_coordinator"]})


def no_rejected_state(d: dict[str, Any]) -> None:
    d["states"] = [s for s in d["states"] if s["step"] != "rejected"]
    d["transitions"] = [t for t in d["transitions"] if t["trigger"] != "reject"]


def initial_not_registration(d: dict[str, Any]) -> None:
    d["initial"] = "planning"


def duplicate_trigger(d: dict[str, Any]) -> None:
    d["transitions"].append({"trigger": "assess", "source": "registered", "dest": "withdrawn",
                             "roles": ["change_coordinator"]})


CASES: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("missing step", drop_planning, "missing step: no state maps to planning"),
    ("automatic authorisation", auto_authorise,
     "implementation reachable without authorisation: transition 'authorise'"),
    ("authorisation without approvals", authorise_without_approvals,
     "implementation reachable without authorisation: transition 'authorise' lets a normal change"),
    ("skipping steps", skip_to_implementation,
     "skips authorisation, planning, realisation"),
    ("unreachable state", unreachable_state, "state 'limbo' is unreachable from 'registered'"),
    ("no way to a final state", dead_end, "state 'parked' has no path to a final state"),
    ("unknown role", unknown_role, "transition 'assess': unknown role 'wizard'"),
    ("unknown guard", unknown_guard, "transition 'assess': unknown guard 'moon_is_full'"),
    ("guard parameter out of range", bad_guard_parameter,
     "transition 'authorise': guard 'approvals' count: Input should be greater than or equal to 1"),
    ("guard names an unknown field", unknown_required_field,
     "guard 'required_fields' names unknown field 'horoscope'"),
    ("code path as a guard", dotted_path_guard, "unknown guard 'os.system'"),
    ("unknown destination", unknown_destination,
     "transition 'evaluate': unknown destination state 'nowhere'"),
    ("standard model not pre-authorised", standard_with_manual_authorisation,
     "a standard model is pre-authorised"),
    ("rejection after implementation", reject_after_implementation,
     "cannot be rejected once it reached implementation"),
    ("going back after implementation", back_from_implementation,
     "an implemented change cannot go back"),
    ("no rejected state", no_rejected_state, "missing final state: no state maps to rejected"),
    ("initial outside registration", initial_not_registration,
     "initial state 'planning' must be in registration"),
    ("trigger defined twice", duplicate_trigger,
     "transition 'assess': defined twice from state 'registered'"),
]


def test_the_shipped_normal_model_is_valid() -> None:
    assert parse_change_model(base()).code == "normal-change"


@pytest.mark.parametrize(("case", "mutate", "expected"), CASES, ids=[c[0] for c in CASES])
def test_each_skeleton_violation_is_refused_with_its_reason(
    case: str, mutate: Callable[[dict[str, Any]], None], expected: str
) -> None:
    definition = copy.deepcopy(base())
    mutate(definition)
    with pytest.raises(ChangeModelError) as refused:
        parse_change_model(definition)
    assert any(expected in p for p in refused.value.problems), refused.value.problems


def test_yaml_syntax_error_names_the_line() -> None:
    with pytest.raises(ChangeModelError, match=r"not valid YAML at line 2.*mapping values are not allowed"):
        parse_change_model("code: x\nname: a: b\nversion: 1\n")


def test_structure_errors_name_the_field_and_the_state() -> None:
    d = base()
    d["states"][3]["step"] = "daydreaming"
    d["transitions"][0].pop("dest")
    with pytest.raises(ChangeModelError) as refused:
        parse_change_model(d)
    problems = " | ".join(refused.value.problems)
    assert "states[3] (planning).step: Input should be 'registration'" in problems
    assert "transitions[0] (assess).dest: Field required" in problems


def test_not_a_mapping() -> None:
    with pytest.raises(ChangeModelError, match="expected a mapping"):
        parse_change_model("- just\n- a list\n")
