"""What incident tools (GLPI, Zammad, Jira Service Management, ...) do over the API besides filing
RFCs (``POST /changes`` with source ``inc`` and the ``incident_reference``): record failures of
items and read them back. A failure record is incident data, not a register edit; the repair or
replacement that follows is a change. An incident tool uses the API token of a change
coordinator; whoever reads the register may read the failures."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import request, url_for

from usm.services import incidents
from usm.services.cursors import encode_cursor
from usm.services.user_input import InputError
from web.api.auth import holder, roles_required
from web.api.blueprint import bp
from web.api.pagination import after_key
from web.api.schemas.incidents import (
    FailureList,
    FailureOut,
    FailurePage,
    FailuresQuery,
    RecordFailure,
)
from web.api.spec import api_spec, responses
from web.support import access
from web.support.context import database

TAGS = ["incidents"]


def _out(view: incidents.FailureView) -> FailureOut:
    return FailureOut(**vars(view))


def _after(cursor: str | None) -> int | None:
    key = after_key(cursor)
    if key is None:
        return None
    if not key.isdigit() or len(key) > 10:
        raise InputError("cursor", "use the cursor of a previous page's next link")
    return int(key)


def _next(rows: Sequence[incidents.FailureView], limit: int) -> str | None:
    if len(rows) <= limit:
        return None
    args = {k: v for k, v in request.args.items() if k != "cursor"}
    return url_for("api.list_failures", **args, cursor=encode_cursor(str(rows[limit - 1].id)))


@bp.post("/items/<key>/failures")
@roles_required(*access.CHANGE_EDITORS)
@api_spec.validate(json=RecordFailure, resp=responses(
    "HTTP_400", "HTTP_404", "HTTP_409", "HTTP_415", HTTP_201=FailureOut), tags=TAGS,
    operation_id="recordFailure")
def record_failure(key: str, json: RecordFailure) -> Any:
    """Record a failure of an item from an incident (replaced or repaired)

    Incident data, not a register edit: the item's status, owner and location stay as the
    register has them; the repair or replacement that follows is a change. The spares report
    counts these records as the measured failures of the item's pool. The same item, incident
    reference and outcome twice is a 409 naming the first record; a moment in the future or
    before the item was first registered a 422 naming `at`; an unknown item a 404.
    """
    view = incidents.record_failure(database(), holder().username, key, at=json.at,
                                    incident_reference=json.incident_reference,
                                    outcome=json.outcome, note=json.note)
    return _out(view), 201, {"Location": url_for("api.item_failures", key=view.item_key)}


@bp.get("/items/<key>/failures")
@roles_required(*access.REGISTER_READERS)
@api_spec.validate(resp=responses("HTTP_404", HTTP_200=FailureList), tags=TAGS,
                   operation_id="listItemFailures")
def item_failures(key: str) -> FailureList:
    """The failures recorded for one item, newest first"""
    return FailureList(failures=[_out(v) for v in incidents.item_failures(database(), key)])


@bp.get("/failures")
@roles_required(*access.REGISTER_READERS)
@api_spec.validate(query=FailuresQuery, resp=responses(HTTP_200=FailurePage), tags=TAGS,
                   operation_id="listFailures")
def list_failures(query: FailuresQuery) -> FailurePage:
    """Failures recorded from incidents, newest record first, by moment and item class"""
    rows = incidents.list_failures(database(), start=query.start, end=query.end,
                                   class_code=query.class_code, limit=query.limit + 1,
                                   after=_after(query.cursor))
    return FailurePage(failures=[_out(v) for v in rows[:query.limit]],
                       next=_next(rows, query.limit))
