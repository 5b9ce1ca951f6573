"""Schemas of change models (workflow definitions)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from web.api.schemas.common import Body, Query


class ChangeModelVersionQuery(Query):
    version: int | None = Field(None, ge=1, le=2**31 - 1,
                                description="a version; the latest published one when left out")


class ChangeModelSummary(BaseModel):
    code: str
    version: int
    name: str
    change_class: str
    status: str


class ChangeModelList(BaseModel):
    definitions: list[ChangeModelSummary]


class StateOut(BaseModel):
    name: str
    step: str
    label: str
    time_target_hours: float | None


class GuardOut(BaseModel):
    name: str
    params: dict[str, Any]


class TransitionOut(BaseModel):
    trigger: str
    label: str
    source: list[str]
    dest: str
    roles: list[str]
    guards: list[GuardOut]
    auto: bool


class FieldOut(BaseModel):
    name: str
    label: str | None
    type: str
    help: str | None


class ChangeSetOut(BaseModel):
    operations: list[str]
    classes: list[str] | None


class ChangeModelDetail(ChangeModelSummary):
    published_at: datetime | None
    description: str | None
    pre_authorised: bool = Field(description="a standard model: authorisation passes by itself")
    approvers: list[str]
    change_set: ChangeSetOut
    fields: list[FieldOut]
    initial: str
    states: list[StateOut]
    transitions: list[TransitionOut]
    source: str = Field(description="the definition as its designer wrote it (YAML)")


class ChangeModelSource(Body):
    source: str = Field(min_length=1, max_length=500_000,
                        description="the definition as YAML text (the same as a file under "
                        "workflows/change_models/); its version number is assigned by the server")
