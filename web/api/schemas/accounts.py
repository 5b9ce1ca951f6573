"""Schemas of personal API tokens and of the caller itself."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from web.api.schemas.common import Body, Moment, Query

Username = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9._-]{1,63}$")]


class TokensQuery(Query):
    username: Username | None = Field(None, description="whose tokens (administrators only, "
                                                        "for other users); yours by default")


class CreateToken(Body):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)] \
        = Field(description="what the token is for, e.g. 'discovery agent'")
    expires_at: Moment | None = Field(None, description="when it stops working; never when "
                                                        "left out")
    username: Username | None = Field(None, description="for whom: you by default; another "
                                                        "user only for an administrator where "
                                                        "the deployment allows it "
                                                        "(USM_ALLOW_ACT_AS)")


class TokenOut(BaseModel):
    id: int
    username: str
    name: str
    prefix: str = Field(description="the token's first characters, to tell tokens apart")
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None
    active: bool
    created_by: str | None = Field(description="who made it: its user, or an administrator "
                                               "acting as them; null when not recorded")
    acting_as: bool = Field(description="made by an administrator for this user")


class NewTokenOut(TokenOut):
    token: str = Field(description="the token itself: shown this once, stored only as a hash")


class TokenList(BaseModel):
    tokens: list[TokenOut]


class Me(BaseModel):
    username: str
    display_name: str
    roles: list[str]
    token: TokenOut
