"""The product's fixed vocabulary in the request's language: CHM steps, roles, lifecycle statuses,
relation kinds and the other fixed texts the service layer hands the screens in English.

The services (``workflows``, ``bir``, ``usm``) stay free of Flask and keep English labels, which the
API and the CLI show; the screens translate them here, by their English text (``ui``), so no view
object needs a second, translated copy of its labels.
"""

from __future__ import annotations

import re
from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

STEP_LABELS = {
    "registration": _l("Registration"),
    "assessment": _l("Assessment"),
    "authorisation": _l("Authorisation"),
    "planning": _l("Planning"),
    "realisation": _l("Realisation"),
    "implementation": _l("Implementation"),
    "evaluation": _l("Evaluation"),
    "closed": _l("Closed"),
    "rejected": _l("Rejected"),
    "withdrawn": _l("Withdrawn"),
}
ROLE_LABELS = {
    "change_coordinator": _l("Change coordinator"),
    "service_owner": _l("Service owner"),
    "process_designer": _l("Process designer"),
    "administrator": _l("Administrator"),
}
# Coded values shown as words: lifecycle statuses, depreciation methods, change classifications.
STATUS_LABELS = {
    "planned": _l("Planned"),
    "ordered": _l("Ordered"),
    "in_stock": _l("In stock"),
    "in_use": _l("In use"),
    "maintenance": _l("Maintenance"),
    "retired": _l("Retired"),
    "disposed": _l("Disposed"),
    "none": _l("None"),
    "straight_line": _l("Straight line"),
    "declining_balance": _l("Declining balance"),
    "standard": _l("Standard"),
    "normal": _l("Normal"),
    "emergency": _l("Emergency"),
    "low": _l("Low"),
    "medium": _l("Medium"),
    "high": _l("High"),
    "successful": _l("Successful"),
    "partially_successful": _l("Partially successful"),
    "failed": _l("Failed"),
}
PERIOD_LABELS = {
    "monthly": _l("monthly"),
    "quarterly": _l("quarterly"),
    "yearly": _l("yearly"),
}
# Relation kinds as the register names them, both ways (bir.vocabulary.RELATION_KINDS).
RELATION_LABELS = (
    _l("runs on"), _l("hosts"), _l("installed on"), _l("has installed"), _l("depends on"),
    _l("is needed by"), _l("connected to"), _l("connected from"), _l("part of"), _l("consists of"),
    _l("licensed by"), _l("licenses"), _l("supports service"), _l("is supported by"),
    _l("located in"), _l("houses"), _l("assigned to"), _l("holds"),
)

# Change-set operations as the change detail titles them (usm.services.change_diff).
OPERATION_TITLES = (
    _l("Create item"), _l("Update item"), _l("Move status"), _l("Add relation"),
    _l("Remove relation"),
)
# Approval decisions as recorded (lower case, as the change detail lists them).
DECISIONS = (_l("approved"), _l("rejected"))
# Licence metrics and expiry kinds, as the licence and lifecycle reports name them.
REPORT_TERMS = (
    _l("device"), _l("user"), _l("core"), _l("subscription"), _l("site"), _l("concurrent"),
    _l("warranty"), _l("lease"),
)
# A change model's or item class's version status, as the designer's screens show it (lower
# case); an item class version a newer publication replaced is "superseded".
VERSION_STATUSES = (_l("draft"), _l("published"), _l("superseded"), _l("retired"))


def _msgid(text: Any) -> str:
    return str(text._args[0]) if hasattr(text, "_args") else str(text)


# English text -> its msgid: every fixed text above, findable by what the services say.
KNOWN: frozenset[str] = frozenset(
    _msgid(t) for t in (*STEP_LABELS.values(), *ROLE_LABELS.values(), *STATUS_LABELS.values(),
                        *PERIOD_LABELS.values(), *RELATION_LABELS, *OPERATION_TITLES,
                        *DECISIONS, *VERSION_STATUSES,
                        *REPORT_TERMS)
)


def ui(text: Any) -> str:
    """A fixed English text from the service layer in the request's language; any other text
    (names, keys, messages with values in them) unchanged."""
    value = "" if text is None else str(text)
    return gettext(value) if value in KNOWN else value


def period_label(period: str) -> str:
    known = PERIOD_LABELS.get(period)
    return str(known) if known is not None else period


# Why a move is blocked, as the engine's guards say it (workflows/guards.py, workflows/engine.py),
# matched whole; the values in it (fields, names, amounts) are kept as they are.
BLOCKED_REASONS: tuple[tuple[re.Pattern[str], Any], ...] = tuple(
    (re.compile(pattern), text) for pattern, text in (
        (r"fill in (?P<fields>.+) first", _l("fill in %(fields)s first")),
        (r"rejected by (?P<who>\S+)", _l("rejected by %(who)s")),
        (r"needs (?P<count>\d+) approval\(s\), has (?P<has>\d+)",
         _l("needs %(count)s approval(s), has %(has)s")),
        (r"estimate the cost first", _l("estimate the cost first")),
        (r"cost (?P<cost>\S+) is above this model's limit of (?P<limit>\S+)",
         _l("cost %(cost)s is above this model's limit of %(limit)s")),
        (r"the change set is worth (?P<worth>\S+) (?P<currency>[A-Z]{3}), above this model's "
         r"limit of (?P<limit>\S+)",
         _l("the change set is worth %(worth)s %(currency)s, above this model's limit of "
            "%(limit)s")),
        (r"the change's amounts are in (?P<currencies>.+); this model's limit cannot weigh them "
         r"together", _l("the change's amounts are in %(currencies)s; this model's limit cannot "
                         "weigh them together")),
        (r"the change's amounts are in (?P<currency>[A-Z]{3}); this model's limit is in "
         r"(?P<limit>[A-Z]{3})",
         _l("the change's amounts are in %(currency)s; this model's limit is in %(limit)s")),
        (r"assess the risk first", _l("assess the risk first")),
        (r"risk (?P<risk>\S+) is above this model's limit \((?P<level>\S+)\)",
         _l("risk %(risk)s is above this model's limit (%(level)s)")),
        (r"the change set is empty", _l("the change set is empty")),
        (r"plan the window \(start and end\) first", _l("plan the window (start and end) first")),
        (r"the planned window ends before it starts", _l("the planned window ends before it starts")),
        (r"outside the planned window \((?P<start>.+) to (?P<end>.+)\)",
         _l("outside the planned window (%(start)s to %(end)s)")),
        (r"record the outcome of the evaluation first",
         _l("record the outcome of the evaluation first")),
        (r"only (?P<roles>.+) may (?P<trigger>\S+)", _l("only %(roles)s may %(trigger)s")),
    )
)


def ui_reason(reason: str) -> str:
    """A guard's or the engine's reason for blocking a move, in the request's language; roles
    named by their labels, never their codes."""
    for pattern, text in BLOCKED_REASONS:
        match = pattern.fullmatch(reason)
        if match:
            values = match.groupdict()
            if "roles" in values:
                values["roles"] = role_list(values["roles"].split(", "))
            return gettext(_msgid(text), **values)
    return reason


def role_list(codes: list[str]) -> str:
    """Roles as a reader names them: "Change coordinator or Service owner"."""
    labels = [str(ROLE_LABELS.get(code, code)) for code in codes]
    return labels[0] if len(labels) == 1 else \
        gettext("%(first)s or %(last)s", first=", ".join(labels[:-1]), last=labels[-1])
