"""Item classes: data, not code. A class names the attributes its items carry, inherited down the tree."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import Boolean, ForeignKey, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from bir.base import Base, JSONType, to_money
from bir.errors import FieldError, shown
from bir.vocabulary import DepreciationMethod
from bir.yaml_input import load_yaml

SHIPPED_CLASSES = Path(__file__).with_name("classes.yaml")


class AttributeType(StrEnum):
    STRING = "string"
    TEXT = "text"
    INTEGER = "integer"
    DECIMAL = "decimal"
    MONEY = "money"
    BOOLEAN = "boolean"
    DATE = "date"


class AttributeSpec(BaseModel):
    """One class-specific attribute, as a process designer defines it."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=48)
    label: str | None = None
    type: AttributeType = AttributeType.STRING
    required: bool = False
    allowed: list[str] | None = None
    unit: str | None = None
    help: str | None = None


class DepreciationDefaults(BaseModel):
    """How items of a class usually depreciate: what a form offers for a new item of the class."""

    model_config = ConfigDict(extra="forbid")

    method: DepreciationMethod
    months: int = Field(ge=1, le=600)


class ClassSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$", max_length=64)
    name: str
    key_prefix: str = Field(pattern=r"^[A-Z]{2,6}$")
    abstract: bool = False
    description: str | None = None
    depreciation: DepreciationDefaults | None = None
    attributes: list[AttributeSpec] = []  # last: the list a designer adds to

    @property
    def parent_code(self) -> str | None:
        return self.code.rsplit(".", 1)[0] if "." in self.code else None


class ItemClass(Base):
    __tablename__ = "bir_item_class"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("bir_item_class.code"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    key_prefix: Mapped[str] = mapped_column(String(8))
    abstract: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str | None] = mapped_column(Text)
    attributes: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    # {"method": ..., "months": ...}: what a form offers for a new item (subclasses inherit it)
    depreciation: Mapped[dict[str, Any] | None] = mapped_column(JSONType)

    def attribute_specs(self) -> list[AttributeSpec]:
        return [AttributeSpec.model_validate(a) for a in self.attributes or []]


class ClassCatalogue:
    """All classes loaded once per unit of work, so validating many items costs one query."""

    def __init__(self, classes: list[ItemClass]):
        self.by_code = {c.code: c for c in classes}
        # Parsed once per class: a change creating 100,000 items asks for the same few classes.
        self._specs: dict[str, dict[str, AttributeSpec]] = {}

    @classmethod
    def load(cls, session: Session) -> ClassCatalogue:
        return cls(list(session.scalars(select(ItemClass))))

    def get(self, code: str) -> ItemClass | None:
        return self.by_code.get(code)

    def lineage(self, code: str) -> list[ItemClass]:
        """The class and its ancestors, root first."""
        chain: list[ItemClass] = []
        current = self.by_code.get(code)
        while current is not None:
            chain.append(current)
            current = self.by_code.get(current.parent_code) if current.parent_code else None
        return list(reversed(chain))

    def specs(self, code: str) -> dict[str, AttributeSpec]:
        merged = self._specs.get(code)
        if merged is None:
            merged = {}
            for klass in self.lineage(code):
                for spec in klass.attribute_specs():
                    merged[spec.name] = spec
            self._specs[code] = merged
        return dict(merged)

    def depreciation(self, code: str) -> DepreciationDefaults | None:
        """The depreciation a new item of the class is offered: its own, or its nearest
        ancestor's."""
        for klass in reversed(self.lineage(code)):
            if klass.depreciation:
                return DepreciationDefaults.model_validate(klass.depreciation)
        return None

    def is_a(self, code: str, ancestor: str) -> bool:
        return any(c.code == ancestor for c in self.lineage(code))

    def validate_attributes(
        self, code: str, values: dict[str, Any], field: str, *, partial: bool = False
    ) -> tuple[dict[str, Any], list[FieldError]]:
        """Check class-specific attributes; return them normalised to JSON-safe values.

        ``partial`` checks only the given attributes (an update), not that required ones are present.
        An attribute the class does not have may only be set to ``None``, which removes the value an
        item kept after the attribute was removed from its class.
        """
        specs = self.specs(code)
        errors: list[FieldError] = []
        clean: dict[str, Any] = {}
        for name, value in values.items():
            spec = specs.get(name)
            if spec is None and value is None:
                # Clearing a value the class no longer has (or never had) is always allowed.
                clean[name] = None
                continue
            if spec is None:
                known = ", ".join(sorted(specs)) or "none"
                errors.append(
                    FieldError(f"{field}.{name}", f"class {code} has no attribute '{name}' "
                               f"(known: {known}); a value the class no longer has can only be "
                               "cleared (null)")
                )
                continue
            if value is None or value == "":
                if spec.required:
                    errors.append(FieldError(f"{field}.{name}", "is required"))
                else:
                    clean[name] = None
                continue
            try:
                clean[name] = coerce_attribute(spec, value)
            except ValueError as exc:
                errors.append(FieldError(f"{field}.{name}", str(exc)))
        if not partial:
            for name, spec in specs.items():
                if spec.required and values.get(name) in (None, ""):
                    if not any(e.field == f"{field}.{name}" for e in errors):
                        errors.append(FieldError(f"{field}.{name}", "is required"))
        return clean, errors


def coerce_attribute(spec: AttributeSpec, value: Any) -> Any:
    """Convert a value to the attribute's type, in a form JSON can store exactly."""
    kind = spec.type
    if isinstance(value, list | dict | set | tuple):  # str() of one would expand all it holds
        raise ValueError(f"{shown(value)} is not a single value")
    if kind in (AttributeType.STRING, AttributeType.TEXT):
        result: Any = str(value).strip()
        if kind is AttributeType.STRING and len(result) > 255:
            raise ValueError("is longer than 255 characters")
    elif kind is AttributeType.INTEGER:
        if isinstance(value, bool):
            raise ValueError(f"{shown(value)} is not a whole number")
        try:
            result = int(str(value).strip())
        except ValueError as exc:
            raise ValueError(f"{shown(value)} is not a whole number") from exc
    elif kind is AttributeType.DECIMAL:
        try:
            result = str(Decimal(str(value).strip()))
        except ArithmeticError as exc:
            raise ValueError(f"{shown(value)} is not a number") from exc
    elif kind is AttributeType.MONEY:
        result = str(to_money(value))
    elif kind is AttributeType.BOOLEAN:
        text = str(value).strip().lower()
        if text in ("true", "yes", "1"):
            result = True
        elif text in ("false", "no", "0"):
            result = False
        else:
            raise ValueError(f"{shown(value)} is not yes/no")
    elif kind is AttributeType.DATE:
        if isinstance(value, date):
            result = value.isoformat()
        else:
            try:
                result = date.fromisoformat(str(value).strip()).isoformat()
            except ValueError as exc:
                raise ValueError(f"{shown(value)} is not a date (YYYY-MM-DD)") from exc
    else:  # pragma: no cover - the enum is closed
        raise ValueError(f"unknown type {kind}")
    if spec.allowed is not None and str(result) not in spec.allowed:
        raise ValueError(f"{shown(result)} is not one of {', '.join(spec.allowed)}")
    return result


def load_class_specs(path: Path = SHIPPED_CLASSES) -> list[ClassSpec]:
    """Read and check a class catalogue file; parents must come before their children."""
    raw = load_yaml(path.read_text(encoding="utf-8"))
    entries = raw.get("classes") if isinstance(raw, dict) else None
    if not isinstance(entries, list):
        raise ValueError(f"{path}: expected a top-level 'classes' list")
    specs: list[ClassSpec] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        try:
            spec = ClassSpec.model_validate(entry)
        except ValidationError as exc:
            raise ValueError(f"{path}: classes[{index}]: {exc}") from exc
        if spec.code in seen:
            raise ValueError(f"{path}: classes[{index}]: duplicate class {spec.code}")
        if spec.parent_code and spec.parent_code not in seen:
            raise ValueError(
                f"{path}: classes[{index}]: parent {spec.parent_code} of {spec.code} is not defined "
                "before it"
            )
        seen.add(spec.code)
        specs.append(spec)
    return specs
