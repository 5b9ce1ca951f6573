"""Schemas of reference data: people, locations and cost centres, their pages and edits."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from usm.services import reference
from web.api.schemas.common import Body, Cursor, Query

State = Literal[tuple(reference.STATES)]  # type: ignore[valid-type]
Code = Annotated[str, StringConstraints(min_length=1, max_length=120)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=120)]


class ReferenceQuery(Query):
    q: Annotated[str, StringConstraints(max_length=120)] | None = Field(
        None, description="only values whose code, name or (a location's) building key contain "
                          "this text, any case")
    state: State = Field("active", description="active, retired or all")
    limit: Annotated[int, Field(ge=1, le=200, description="page size, 1..200")] = 50
    cursor: Cursor | None = None


class ReferenceValueOut(BaseModel):
    kind: Literal[tuple(reference.KINDS)]  # type: ignore[valid-type]
    code: str = Field(description="what the register stores in the item's field; never changes")
    name: str = Field(description="how it is shown; renaming it does not touch the items")
    label: str = Field(description="the name, with the code where it differs")
    active: bool = Field(description="a retired value stays on its items but cannot be newly set")
    merged_into: str | None = Field(description="the code it was merged into, if it was")
    username: str | None = Field(description="a person's user")
    item_key: str | None = Field(description="a location's building item")
    uses: int = Field(description="items naming it now")
    created_at: datetime
    created_by: str | None
    updated_at: datetime
    updated_by: str | None


class ReferencePageOut(BaseModel):
    values: list[ReferenceValueOut]
    total: int = Field(description="values matching the query and state, on every page")
    kind_total: int = Field(description="every value of the kind; 0 means the kind is still "
                                        "open: changes may set any text")
    next: str | None


class NewReferenceValue(Body):
    code: Code = Field(description="what the register will store; unique per kind in any case")
    name: Name | None = Field(None, description="how it is shown; the code when left out")
    username: Annotated[str, StringConstraints(max_length=64)] | None = Field(
        None, description="for a person: the user they are")
    item_key: Annotated[str, StringConstraints(max_length=32)] | None = Field(
        None, description="for a location: the key of its registered building item")


class ReferenceValueEdit(Body):
    name: Name | None = Field(None, description="a new name (the code stays)")
    active: bool | None = Field(None, description="false retires the value, true reactivates it")
    username: Annotated[str, StringConstraints(max_length=64)] | None = Field(
        None, description="for a person: the user they are (empty text removes the link)")
    item_key: Annotated[str, StringConstraints(max_length=32)] | None = Field(
        None, description="for a location: its building item (empty text removes the link)")


class MergeReferenceValue(Body):
    into: Code = Field(description="the code of the active value to keep")


class CarriedOut(BaseModel):
    key: str = Field(description="the change that moves the items")
    state: str
    state_label: str
    step: str
    reached: bool = Field(description="true when the change got through implementation and "
                                      "evaluation in this call")
    blocked: list[str] = Field(description="what a person must do next (e.g. a change "
                                           "coordinator's move) when it stopped")


class MergeOut(BaseModel):
    kind: str
    source: str
    target: str
    items: int = Field(description="items the change moves from source to target")
    change: CarriedOut | None = Field(description="null when no item named the source")
