"""Schemas of the search across the register, the changes and the people."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from usm.services.search import DEFAULT_LIMIT, MAX_LIMIT, MAX_TEXT_LENGTH
from web.api.schemas.common import Query


class SearchQuery(Query):
    q: Annotated[str, StringConstraints(max_length=MAX_TEXT_LENGTH)] = Field(
        "", description="the words to find: every word must occur, ignoring case, in one of the "
                    "fields searched (items: key, name, serial number, asset tag, host name, "
                    "owner, manufacturer, model, location; changes: key, title; people: user "
                    "name, display name, item owner)")
    limit: Annotated[int, Field(ge=1, le=MAX_LIMIT)] = Field(
        DEFAULT_LIMIT, description="the most hits per group")


class Target(BaseModel):
    kind: Literal["item", "change"]
    key: str


class ItemHit(BaseModel):
    key: str
    name: str
    class_code: str
    class_name: str
    status: str
    owner: str | None
    location: str | None
    manufacturer: str | None
    model: str | None
    serial_number: str | None
    asset_tag: str | None
    hostname: str | None


class ChangeHit(BaseModel):
    key: str
    title: str
    step: str
    change_class: str


class PersonHit(BaseModel):
    kind: Literal["user", "owner"] = Field(
        description="a user of the product, or an owner as items name them")
    name: str = Field(description="the user's display name, or the owner as registered")
    username: str | None = Field(description="users only")
    roles: list[str] = Field(description="users only")
    active: bool | None = Field(description="users only")
    items: int | None = Field(description="owners only: the current items they own")


class ItemGroup(BaseModel):
    hits: list[ItemHit]
    total: int = Field(description="all matching items; the register listing with the same q "
                                   "(see `all`) pages through them")
    all: str = Field(description="URL of the register listing with the same q")


class ChangeGroup(BaseModel):
    hits: list[ChangeHit] = Field(description="newest first")
    total: int


class PersonGroup(BaseModel):
    hits: list[PersonHit] = Field(description="users, then owners, each by name")
    total: int


class SearchOut(BaseModel):
    q: str
    exact: Target | None = Field(description="the item, else the change, whose key q is")
    items: ItemGroup | None = Field(description="null for a caller who may not read the register")
    changes: ChangeGroup | None = Field(description="null for a caller who may not read changes")
    people: PersonGroup | None = Field(description="users for administrators, item owners for "
                                                   "register readers; null for neither")
