"""Schemas of item classes: the published classes with their attributes, and class versions
(drafts, published, superseded, retired)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from usm.services.register import ATTRIBUTE_TYPES
from web.api.schemas.common import Body


class ClassAttributeOut(BaseModel):
    name: str
    label: str | None
    type: str
    required: bool
    allowed: list[str] | None
    unit: str | None
    help: str | None


class ClassVersionSummary(BaseModel):
    version: int
    status: str = Field(description="draft, published, superseded or retired")
    created_by: str | None
    created_at: datetime
    published_at: datetime | None


class ClassVersionList(BaseModel):
    code: str
    published_version: int | None
    versions: list[ClassVersionSummary]


class ClassVersionDetail(ClassVersionSummary):
    code: str
    name: str
    parent_code: str | None
    key_prefix: str
    abstract: bool
    description: str | None
    attributes: list[ClassAttributeOut]
    source: str = Field(description="the version as YAML, as `usm classes export` writes it")


class ClassSource(Body):
    source: str = Field(min_length=1, max_length=200_000,
                        description="one class as YAML (code, name, key_prefix, abstract, "
                        "description, attributes); its version number is assigned by the server")


class AttributeOut(BaseModel):
    name: str
    label: str | None
    type: Literal[ATTRIBUTE_TYPES]  # type: ignore[valid-type]
    required: bool
    allowed: list[str] | None
    unit: str | None
    help: str | None
    inherited_from: str | None


class ItemClassOut(BaseModel):
    code: str
    name: str
    parent_code: str | None
    key_prefix: str
    abstract: bool = Field(description="abstract classes group others; items are never of one")
    description: str | None
    attributes: list[AttributeOut]


class ItemClassList(BaseModel):
    classes: list[ItemClassOut]
