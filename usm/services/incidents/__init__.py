"""Incident management (USM's INC) as the register sees it (issue 20): incident tools file RFCs
with source ``inc`` and the incident's reference (see ``usm.services.changes``), and record
failures of items (which item, when, under which incident, replaced or repaired). A failure
record is incident data, not a register edit; the spares report counts them as measured
failures."""

from usm.incidents import OUTCOMES
from usm.services.incidents.failures import (
    MAX_NOTE,
    DuplicateFailure,
    FailureView,
    item_failures,
    list_failures,
    record_failure,
)
from workflows.changes import INCIDENT_REFERENCE, INCIDENT_REFERENCE_RULE

__all__ = ["INCIDENT_REFERENCE", "INCIDENT_REFERENCE_RULE", "MAX_NOTE", "OUTCOMES",
           "DuplicateFailure", "FailureView", "item_failures", "list_failures", "record_failure"]
