"""Changes, the one process (CHM) every register edit goes through: register a change with its
change set, move it through the steps, approve, edit, comment; the queue and the calendar; the
change set read against the register; the change forms; and a standard change carried to
implementation in one call. Each function is one transaction and returns plain view objects."""

from usm.services.changes.commands import (
    DIFF_PAGE,
    ChangeConflict,
    ChangeDetail,
    ChangeError,
    ChangeNotFound,
    ChangeSetStale,
    DatabaseBusy,
    FieldError,
    NotAChange,
    TransitionRefused,
    ValidationFailed,
    add_comment,
    approve_change,
    change_detail,
    change_summary,
    move_change,
    register_change,
    replace_change_set,
    update_change,
)
from usm.services.changes.forms import (
    ROW_INPUT,
    ChangeFormSpec,
    ChangeSetRows,
    ModelNotFound,
    Origin,
    change_form_spec,
    form_spec,
    input_errors,
    list_models,
    rows_from_form,
)
from usm.services.changes.queue import (
    CalendarEntry,
    ChangeFilter,
    ChangeSummary,
    ModelTargets,
    all_changes,
    awaiting_condition,
    change_queue,
    list_changes,
    model_targets,
    next_move_condition,
    overdue_condition,
    planned_windows,
    summarise,
)
from usm.services.changes.standard import (
    CHORE_WINDOW,
    Carried,
    carry_through,
    chore_details,
    register_and_implement,
)
from usm.services.changes.vocabulary import (
    CHANGE_CLASSES,
    OPERATION_KINDS,
    RISKS,
    ROLE_NAMES,
    SOURCES,
    STEPS,
    WORKING_STEPS,
)

__all__ = [
    "CHANGE_CLASSES", "DIFF_PAGE", "OPERATION_KINDS", "RISKS", "ROLE_NAMES", "ROW_INPUT", "SOURCES", "STEPS",
    "WORKING_STEPS", "CalendarEntry", "ChangeConflict", "ChangeDetail", "ChangeError",
    "ChangeFilter", "ChangeFormSpec", "ChangeNotFound", "ChangeSetRows", "ChangeSetStale",
    "ChangeSummary", "DatabaseBusy", "FieldError", "ModelNotFound", "NotAChange", "Origin",
    "TransitionRefused", "ValidationFailed", "add_comment", "all_changes", "approve_change",
    "change_detail", "change_form_spec", "change_queue", "change_summary", "form_spec",
    "input_errors", "list_changes", "list_models", "move_change", "planned_windows",
    "CHORE_WINDOW", "Carried", "carry_through", "chore_details", "register_and_implement", "register_change",
    "replace_change_set", "rows_from_form",
    "update_change",
    # the lists' SQL conditions, for the home page's "My work"
    "ModelTargets", "awaiting_condition", "model_targets", "next_move_condition",
    "overdue_condition", "summarise",
]
