"""The validation error matrix: ways a designer's edit of the normal-change model breaks the CHM
skeleton or the definition schema, each with a part of the message that names the place. Shared
by the screen's and the API's tests, so both refuse the same texts the same way."""

from __future__ import annotations

from pathlib import Path

SHIPPED = Path(__file__).resolve().parents[2] / "workflows" / "change_models"
NORMAL = (SHIPPED / "normal-change.yaml").read_text(encoding="utf-8")


def _edit(old: str, new: str) -> str:
    assert old in NORMAL, old
    return NORMAL.replace(old, new, 1)


# id -> (broken text, what the message must say)
ERROR_MATRIX: dict[str, tuple[str, str]] = {
    "not-yaml": ("code: [normal-change\nname: x", "not valid YAML at line"),
    "skips-authorisation": (
        _edit("    source: in_assessment\n    dest: awaiting_approval",
              "    source: in_assessment\n    dest: planning"),
        "transition 'submit_for_approval' from 'in_assessment' (assessment) to 'planning' "
        "(planning): skips authorisation"),
    "authorise-without-approvals": (
        _edit("    guards:\n      - approvals: {count: 1}\n", ""),
        "implementation reachable without authorisation: transition 'authorise'"),
    "unknown-role": (_edit("    roles: [change_coordinator]\n    guards: [has_change_set]",
                           "    roles: [wizard]\n    guards: [has_change_set]"),
                     "transition 'assess': unknown role 'wizard'"),
    "unknown-guard": (_edit("guards: [has_change_set]", "guards: [crystal_ball]"),
                      "transition 'assess': unknown guard 'crystal_ball'"),
    "bad-guard-parameter": (_edit("approvals: {count: 1}", "approvals: {count: 0}"),
                            "transition 'authorise': guard 'approvals' count"),
    "unreachable-state": (
        _edit("  - {name: closed, step: closed, label: Closed}",
              "  - {name: limbo, step: planning, label: Limbo}\n"
              "  - {name: closed, step: closed, label: Closed}"),
        "state 'limbo' is unreachable from 'registered'"),
    "missing-step": (_edit("step: evaluation", "step: implementation"),
                     "missing step: no state maps to evaluation"),
    "bad-time-target": (_edit("time_target_hours: 24}", "time_target_hours: soon}"),
                        "states[0] (registered).time_target_hours"),
    # Valid but for its 51 aliases: refused before anything expands them.
    "too-many-aliases": (_edit("approvers: [service_owner]",
                               "approvers: [&owner service_owner" + ", *owner" * 51 + "]"),
                         "not valid YAML at line 9, column 435: more than 50 aliases (*name)"),
}
