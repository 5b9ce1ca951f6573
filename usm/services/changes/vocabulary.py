"""The change process's vocabulary as plain values (steps, sources, change classes, risk levels,
roles, operation kinds), for building the API's schemas from the engine's own definitions."""

from __future__ import annotations

from bir.changeset import OP_KINDS
from workflows.guards import RISK_LEVELS
from workflows.skeleton import ROLES, SKELETON, ChangeClass, ChangeSource, Step

STEPS = tuple(s.value for s in Step)
WORKING_STEPS = tuple(s.value for s in SKELETON)
SOURCES = tuple(s.value for s in ChangeSource)
CHANGE_CLASSES = tuple(c.value for c in ChangeClass)
OPERATION_KINDS = OP_KINDS
RISKS = RISK_LEVELS
ROLE_NAMES = tuple(ROLES)

__all__ = ["CHANGE_CLASSES", "OPERATION_KINDS", "RISKS", "ROLE_NAMES", "SOURCES", "STEPS",
           "WORKING_STEPS"]
