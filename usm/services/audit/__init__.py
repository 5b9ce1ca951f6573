"""Audit and reconciliation: discovered inventory read from files, or scanned at a location
(``start_scan``), matched against the BIR, and the accepted differences registered as one
audit-correction change."""

from usm.services.audit.correction import (
    FORMATS,
    accepted_ids,
    correction_operations,
    reconcile_file,
    register_correction,
)
from usm.services.audit.found import ImportFailed, ImportProblem, SbomReport, host_unknown
from usm.services.audit.mapping import (
    ImportSettings,
    MappingError,
    load_mapping,
    parse_fill,
    parse_values,
)
from usm.services.audit.quality import amounts_without_currency, register_currency_correction
from usm.services.audit.readers import open_rows
from usm.services.audit.reconcile import (
    DEFAULT_MATCH_ORDER,
    DRIFT,
    KINDS,
    NOT_SEEN,
    UNREGISTERED,
    Difference,
    Reconciliation,
    parse_match_order,
)
from usm.services.audit.scan import (
    FOUND,
    MAX_SCANS,
    REPEATED,
    UNEXPECTED,
    UNKNOWN,
    ScannedItem,
    ScanOutcome,
    ScanState,
    add_scan,
    finish_scan,
    remove_scan,
    scan_state,
    start_scan,
)
from usm.services.audit.scope import AuditScope
from usm.services.audit.uploads import (
    MAX_BYTES_PER_USER,
    MAX_UPLOADS_PER_USER,
    Claim,
    UploadQuotaFull,
    accepted_as,
    claim_upload,
    discard_upload,
    record_acceptance,
    release_claim,
    save_options,
    store_upload,
    upload_options,
    upload_path,
)

__all__ = [
    "FOUND", "MAX_SCANS", "REPEATED", "UNEXPECTED", "UNKNOWN", "AuditScope", "ScanOutcome",
    "ScanState", "ScannedItem", "add_scan", "finish_scan", "remove_scan", "scan_state",
    "start_scan",
    "DEFAULT_MATCH_ORDER", "DRIFT", "FORMATS", "KINDS", "MAX_BYTES_PER_USER",
    "MAX_UPLOADS_PER_USER", "NOT_SEEN", "UNREGISTERED", "Claim", "Difference", "ImportFailed",
    "ImportProblem", "ImportSettings", "MappingError", "Reconciliation", "UploadQuotaFull",
    "accepted_as", "accepted_ids", "amounts_without_currency", "claim_upload",
    "correction_operations", "discard_upload", "load_mapping", "open_rows", "parse_fill",
    "parse_match_order", "parse_values",
    "reconcile_file", "record_acceptance", "register_correction", "SbomReport", "host_unknown",
    "register_currency_correction", "release_claim", "save_options", "store_upload",
    "upload_options", "upload_path",
]
