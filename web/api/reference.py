"""Reference data over the API (issue 23): read a kind's values (any signed-in caller: the
pickers of integrations), and for administrators add, rename, retire or reactivate, link and
merge. A merge registers one change that moves the items; the answer says where it stands.
A value is named by its code in the path (any case); a code holding "/" is kept on the web
screens, which take any code."""

from __future__ import annotations

from typing import Any

from flask import request, url_for

from usm.services import reference
from usm.services.errors import FieldError, ValidationFailed
from web.api.auth import roles_required
from web.api.blueprint import bp
from web.api.schemas.reference import (
    CarriedOut,
    MergeOut,
    MergeReferenceValue,
    NewReferenceValue,
    ReferencePageOut,
    ReferenceQuery,
    ReferenceValueEdit,
    ReferenceValueOut,
)
from web.api.spec import api_spec, responses
from web.support import access
from web.support.auditing import origin
from web.support.context import database

TAGS = ["reference data"]


def _out(row: reference.ReferenceRow) -> ReferenceValueOut:
    values = {k: v for k, v in vars(row).items() if k != "id"}
    return ReferenceValueOut(**values)


@bp.get("/reference/<kind>")
@roles_required()
@api_spec.validate(query=ReferenceQuery, resp=responses("HTTP_404", HTTP_200=ReferencePageOut),
                   tags=TAGS, operation_id="listReferenceValues")
def list_reference_values(kind: str, query: ReferenceQuery) -> ReferencePageOut:
    """The values of a kind (person, location or cost_centre), by name

    `q` matches code, name or a location's building key in any case. A kind with no values at
    all (`kind_total` 0) is open: changes may set any text in that field until an administrator
    adds the first value.
    """
    page = reference.reference_page(database(), kind, q=query.q, state=query.state,
                                    cursor=query.cursor, limit=query.limit)
    next_url = None
    if page.next_cursor:
        args = {k: v for k, v in request.args.items() if k != "cursor"}
        next_url = url_for("api.list_reference_values", kind=page.kind, **args,
                           cursor=page.next_cursor)
    return ReferencePageOut(values=[_out(r) for r in page.rows], total=page.total,
                            kind_total=page.kind_total, next=next_url)


@bp.post("/reference/<kind>")
@roles_required(*access.ADMINISTRATORS)
@api_spec.validate(json=NewReferenceValue, resp=responses(
    "HTTP_400", "HTTP_404", "HTTP_415", HTTP_201=ReferenceValueOut), tags=TAGS,
    operation_id="addReferenceValue")
def add_reference_value(kind: str, json: NewReferenceValue) -> Any:
    """Add a value to a kind (administrators)

    A code the kind already has, in any case, is a 422. Recorded in the audit log.
    """
    row = reference.add_value(database(), origin(), kind, json.code, json.name,
                              username=json.username, item_key=json.item_key)
    return _out(row), 201


@bp.patch("/reference/<kind>/<code>")
@roles_required(*access.ADMINISTRATORS)
@api_spec.validate(json=ReferenceValueEdit, resp=responses(
    "HTTP_400", "HTTP_404", "HTTP_415", HTTP_200=ReferenceValueOut), tags=TAGS,
    operation_id="editReferenceValue")
def edit_reference_value(kind: str, code: str, json: ReferenceValueEdit) -> ReferenceValueOut:
    """Rename, retire or reactivate a value, or change its link (administrators)

    The code never changes, so the items and the reports that name it stay as they are. Each
    change is recorded in the audit log.
    """
    links = json.model_dump(include={"username", "item_key"}, exclude_unset=True)
    if not json.model_fields_set:
        raise ValidationFailed([FieldError("body", "give at least one of name, active, username, "
                                                   "item_key")])
    row = reference.update_value(database(), origin(), kind, code, name=json.name,
                                 active=json.active, **links)
    return _out(row)


@bp.post("/reference/<kind>/<code>/merge")
@roles_required(*access.ADMINISTRATORS)
@api_spec.validate(json=MergeReferenceValue, resp=responses(
    "HTTP_400", "HTTP_404", "HTTP_409", "HTTP_415", HTTP_200=MergeOut), tags=TAGS,
    operation_id="mergeReferenceValue")
def merge_reference_value(kind: str, code: str, json: MergeReferenceValue) -> MergeOut:
    """Merge a value into another (administrators)

    One standard change sets every item naming `code` to `into`, carried through as far as the
    caller's roles allow: without the change coordinator role it waits for one (`change.blocked`
    says what is next). The value is retired and marked as merged at once.
    """
    merged = reference.merge_values(database(), origin(), kind, code, json.into)
    carried = merged.carried
    change = None if carried is None else CarriedOut(
        key=carried.key, state=carried.state, state_label=carried.state_label,
        step=carried.step, reached=carried.reached, blocked=list(carried.blocked))
    return MergeOut(kind=merged.kind, source=merged.source, target=merged.target,
                    items=merged.items, change=change)
