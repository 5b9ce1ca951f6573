"""Schemas of check-outs (handing items out and taking them back, each one change of the
``check-out`` model carried through its steps) and reservations (bookings of an item for a
person's days, which are not changes)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from usm.services import checkouts
from web.api.schemas.common import Body, Cursor, Day, Key, Limit, Query

Kind = Literal[tuple(checkouts.KINDS)]  # type: ignore[valid-type]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Person = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Place = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Note = Annotated[str, StringConstraints(max_length=checkouts.MAX_NOTE)]
Keys = Annotated[list[Key], Field(min_length=1, max_length=checkouts.MAX_ITEMS, description=(
    f"the items' keys, at most {checkouts.MAX_ITEMS}: one change for all of them"))]


class Assignee(Body):
    kind: Kind = Field(description="person: the owner becomes this person; location: the "
                                   "location becomes this place; item: an `assigned_to` "
                                   "relation from each item to this item (its key)")
    name: Name = Field(description="the person's name (at most 64 characters), the location, or "
                                   "the item's key")


class CheckOut(Body):
    keys: Keys
    to: Assignee
    expected_return: Day | None = Field(None, description="the day the items are due back "
                                                          "(today up to two years ahead)")


class CheckIn(Body):
    keys: Keys
    location: Place | None = Field(None, description="where the items go back to; left out: "
                                                     "their location stays as registered")


class CarriedOut(BaseModel):
    """Where the chore's change stands: ``reached`` when it ran through to closed; otherwise
    ``blocked`` says, in the model's words, what a person must do next."""

    key: str = Field(description="the change's key")
    state: str
    state_label: str
    step: str
    reached: bool
    blocked: list[str]
    change: str = Field(description="the change's URL in this API")


class CheckoutsQuery(Query):
    overdue: bool = Field(False, description="only check-outs out past their expected return")
    limit: Limit = 100
    cursor: Cursor | None = None


class CheckoutOut(BaseModel):
    id: int
    item: str
    item_name: str | None
    to: Assignee
    checked_out_at: datetime
    expected_return: date | None
    created_by: str
    change: str = Field(description="the check-out change's key")
    state: Literal["pending", "out", "returning", "returned", "void"] = Field(description=(
        "pending: its change is not implemented yet; out; returning: a check-in change waits; "
        "returned; void: its change was rejected or withdrawn"))
    change_step: str
    checkin_change: str | None
    overdue: bool


class CheckoutPage(BaseModel):
    checkouts: list[CheckoutOut]
    next: str | None


class ReservationsQuery(Query):
    item: Key | None = Field(None, description="one item's bookings")
    limit: Limit = 100
    cursor: Cursor | None = None


class CreateReservation(Body):
    item: Key
    person: Person
    starts_on: Day = Field(description="the first day (today up to two years ahead)")
    ends_on: Day = Field(description="the last day, included (at least the first)")
    note: Note | None = None


class ReservationOut(BaseModel):
    id: int
    item: str
    person: str
    starts_on: date
    ends_on: date
    note: str | None
    created_by: str
    created_at: datetime
    cancelled_at: datetime | None
    cancelled_by: str | None


class ReservationPage(BaseModel):
    reservations: list[ReservationOut]
    next: str | None
