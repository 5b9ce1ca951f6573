"""Schemas of changes: registering one with its change set, moving and editing it, reading it.

The change-set operations are the register's own: a ``create_item`` or ``update_item`` operation is
the register's ``ItemFields`` model plus its operation fields, so the document states exactly the
item fields, types and limits the register accepts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator
from spectree.model_adapter.pydantic_adapter import BaseFile

from usm.services.changes import RISKS, SOURCES, STEPS
from usm.services.register import RELATION_KIND_CODES, STATUSES, ItemFields
from web.api.schemas.common import (
    Body,
    Cursor,
    Key,
    Limit,
    Moment,
    MoneyIn,
    MoneyOut,
    Query,
    Short,
    Text,
    money_in,
)
from web.api.schemas.incidents import IncidentReference
from web.api.schemas.register import ServiceRef

# "@" and a ref fit the 32 characters an operation's item key is stored in.
Ref = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,30}$")]
ItemName = Annotated[str, StringConstraints(min_length=1, max_length=32), Field(
    description="an item key (LAP-000042) or @ref of an item created earlier in this change set")]
ClassCode = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Attributes = Annotated[dict[str, Any], Field(description="class-specific attributes")]
RelationKind = Literal[RELATION_KIND_CODES]  # type: ignore[valid-type]
ModelCode = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,47}$")]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=200)]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Risk = Literal[RISKS]  # type: ignore[valid-type]
Outcome = Literal["successful", "partially_successful", "failed"]
Comment = Annotated[str, StringConstraints(max_length=2000)]
ModelFields = Annotated[dict[str, Any], Field(description="values of the change model's own "
                                                          "fields (see its definition)")]


MONEY_FIELDS = ("purchase_cost", "residual_value", "recurring_cost", "disposal_proceeds")


def _amount_or_none(value: Any) -> Any:
    """An amount checked before the register's own money rule sees it: that rule lets an absurd
    exponent (``1e999999``) through to a decimal operation that fails, rather than refusing it."""
    return None if value is None or value == "" else str(money_in(value))


class CreateItem(ItemFields):
    """Register a new item (it gets its key at implementation)."""

    model_config = ConfigDict(extra="forbid", use_enum_values=True)

    op: Literal["create_item"]
    ref: Ref | None = Field(None, description="a name for this new item, for later operations "
                                              "of the same change set (@ref)")
    class_code: ClassCode = Field(alias="class")
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
    attributes: Attributes = {}

    _amounts = field_validator(*MONEY_FIELDS, mode="before")(_amount_or_none)


class UpdateItem(ItemFields):
    """Set fields or attributes of an existing item."""

    model_config = ConfigDict(extra="forbid", use_enum_values=True)

    op: Literal["update_item"]
    item: ItemName
    attributes: Attributes = {}

    _amounts = field_validator(*MONEY_FIELDS, mode="before")(_amount_or_none)


class SetStatus(Body):
    """Move an item to another lifecycle status."""

    op: Literal["set_status"]
    item: ItemName
    status: Literal[STATUSES]  # type: ignore[valid-type]


class AddRelation(Body):
    op: Literal["add_relation"]
    kind: RelationKind
    source: ItemName
    target: ItemName
    attributes: Attributes = {}


class RemoveRelation(Body):
    op: Literal["remove_relation"]
    kind: RelationKind
    source: ItemName
    target: ItemName


Operation = Annotated[CreateItem | UpdateItem | SetStatus | AddRelation | RemoveRelation,
                      Field(discriminator="op")]


class ChangeDetailsIn(Body):
    """What a coordinator fills in on a change (all optional)."""

    description: Text | None = None
    reason: Text | None = None
    coordinator: Short | None = None
    risk: Risk | None = None
    impact: Text | None = None
    cost_estimate: MoneyIn | None = None
    currency: Currency | None = None
    planned_start: Moment | None = None
    planned_end: Moment | None = None
    fields: ModelFields | None = None


class ChangeHeader(ChangeDetailsIn):
    """An RFC without its change set: the first line of an `application/x-ndjson` stream, or
    the top-level fields of a change set file beside its `operations`."""

    model: ModelCode = Field(description="code of a published change model, e.g. normal-change")
    title: Title
    source: Literal[SOURCES] = "customer"  # type: ignore[valid-type]
    incident_reference: IncidentReference | None = Field(None, description=(
        "required with source inc, not allowed with another: the incident the change recovers "
        "from (several changes may name the same one)"))
    services: list[Key] = Field([], max_length=50, description="keys of the agreed services "
                                                              "the change is for")
    run_to_implementation: bool = Field(False, description=(
        "carry a standard (pre-authorised) change to implementation in this call, as the caller, "
        "all or nothing; the model's guards still apply (give the details they need)"))


class CreateChange(ChangeHeader):
    """An RFC: the change model, a title, the change set and any details known now. As JSON the
    whole body is bounded by the API's body limit (4 MiB); a larger change set goes as a stream
    or a file (see the operation)."""

    operations: list[Operation] = Field(min_length=1, description="the change set: the register "
                                        "edits implementing the change makes")


class ChangeSetFile(BaseModel):
    """A change set file in the multipart part `file`: JSON (`.json`, read incrementally), NDJSON
    (`.ndjson`/`.jsonl`: the details on the first line, then one operation a line) or YAML
    (`.yaml`/`.yml`, for smaller sets) holding the fields of `CreateChange`."""

    file: BaseFile


class EditChange(ChangeDetailsIn):
    """Details to set; fields left out stay as they are."""

    title: Title | None = None
    outcome: Outcome | None = Field(None, description="recorded during evaluation")
    version: int | None = Field(None, ge=1, le=2**31 - 1, description="the version you read "
                                "(alternative to If-Match); a stale one is refused with 409")


class MoveChange(Body):
    comment: Comment | None = Field(None, description="why; kept in the step log")
    version: int | None = Field(None, ge=1, le=2**31 - 1, description="the version you read "
                                "(alternative to If-Match); a stale one is refused with 409")


class ApproveChange(Body):
    decision: Literal["approve", "reject"]
    comment: Comment | None = None
    version: int | None = Field(None, ge=1, le=2**31 - 1, description="the version you read "
                                "(alternative to If-Match); a stale one is refused with 409")


class CommentIn(Body):
    body: Annotated[str, StringConstraints(min_length=1, max_length=4000)]
    version: int | None = Field(None, ge=1, le=2**31 - 1, description="refuse the comment (409) "
                                "if the change moved since this version")


class CommentOut(BaseModel):
    author: str
    at: datetime
    body: str


class IfMatch(BaseModel):
    if_match: Annotated[str, StringConstraints(pattern=r'^(\*|(W/)?"[0-9]{1,10}")$')] | None = \
        Field(None, alias="If-Match", description=(
            'the ETag of the change you read, e.g. "3" (or W/"3"); a stale one is refused with '
            "409. Leave the header out (or send *) to act without the check"))


class ChangeFilters(Query):
    """The filters of a change listing (also what a changes export takes)."""

    open: bool = Field(True, description="only changes not closed, rejected or withdrawn")
    step: Literal[STEPS] | None = None  # type: ignore[valid-type]
    model: Annotated[str, StringConstraints(max_length=48)] | None = None
    coordinator: Annotated[str, StringConstraints(max_length=64)] | None = None
    incident: Annotated[str, StringConstraints(max_length=64)] | None = Field(
        None, description="only the changes filed from this incident (its exact reference)")


class ChangesQuery(ChangeFilters):
    limit: Limit = 50
    cursor: Cursor | None = None


class ChangeSummaryOut(BaseModel):
    key: str
    title: str
    model: str
    model_version: int
    change_class: str
    state: str
    state_label: str
    step: str
    coordinator: str | None
    requester: str
    updated_at: datetime
    step_entered_at: datetime
    overdue: bool = Field(description="the current state's time target has passed")
    version: int = Field(description="optimistic-locking version; also the ETag")
    incident_reference: str | None = Field(
        None, description="the incident an RFC from INC recovers from")


class ChangePage(BaseModel):
    changes: list[ChangeSummaryOut]
    next: str | None


class ApprovalOut(BaseModel):
    approver: str
    decision: str
    comment: str | None
    automatic: bool
    round: int
    at: datetime


class StepProgress(BaseModel):
    step: str
    label: str
    status: Literal["done", "current", "todo", "ended"] = Field(
        description="ended: the step where a rejected or withdrawn change stopped")


class TransitionOption(BaseModel):
    trigger: str
    label: str
    dest: str
    dest_step: str
    allowed: bool = Field(description="whether the caller may fire it now")
    reasons: list[str] = Field(description="why not, when not allowed")


class ChangeDetailOut(ChangeSummaryOut):
    description: str | None
    reason: str | None
    source: str
    risk: str | None
    impact: str | None
    cost_estimate: MoneyOut | None
    currency: str | None
    planned_start: datetime | None
    planned_end: datetime | None
    outcome: str | None
    fields: dict[str, Any]
    services: list[str]
    operations: list[dict[str, Any]] = Field(description="the change set, as checked at "
                                                         "registration")
    approvals: list[ApprovalOut]
    impacted_services: list[ServiceRef]
    steps: list[StepProgress]
    transitions: list[TransitionOption] = Field(description="the moves possible from here, "
                                                            "for the caller")
    comments: list[CommentOut]


class LogEntryOut(BaseModel):
    at: datetime
    actor: str
    trigger: str
    from_state: str | None
    to_state: str
    to_step: str
    comment: str | None


class ChangeLog(BaseModel):
    key: str
    entries: list[LogEntryOut]
