"""The audit log: who did what to the product's access and data, beyond the change log.

Services write a row with ``record`` in the same transaction as the action it records; requests
made with an administrator's token for another user are covered by ``acting_as``. Administrators
read it a page at a time (``audit_entries``) and export it (``audit_sheet``).
"""

from usm.services.audit_log.acting import acting_as
from usm.services.audit_log.entries import (
    ACTIONS,
    API,
    CLI,
    WEB,
    Origin,
    record,
    record_export,
)
from usm.services.audit_log.search import (
    FILTERS,
    AuditPage,
    AuditQuery,
    AuditRow,
    audit_entries,
    audit_query,
    audit_sheet,
)

__all__ = [
    "ACTIONS", "API", "CLI", "FILTERS", "WEB", "AuditPage", "AuditQuery", "AuditRow", "Origin",
    "acting_as", "audit_entries", "audit_query", "audit_sheet", "record", "record_export",
]
