"""The published item classes as the register uses them: each class with every attribute its items
carry, inherited ones included. Read only."""

from __future__ import annotations

from dataclasses import dataclass

from bir.classes import ClassCatalogue
from bir.errors import NotFound
from usm.services.platform import Database


@dataclass(frozen=True)
class ClassAttribute:
    name: str
    label: str | None
    type: str
    required: bool
    allowed: list[str] | None
    unit: str | None
    help: str | None
    inherited_from: str | None  # the ancestor class that defines it, None for the class itself


@dataclass(frozen=True)
class ItemClassRow:
    code: str
    name: str
    parent_code: str | None
    key_prefix: str
    abstract: bool
    description: str | None
    attributes: list[ClassAttribute]


def list_item_classes(db: Database) -> list[ItemClassRow]:
    """Every item class, parents before children, each with all the attributes its items carry."""
    with db.reading() as session:
        catalogue = ClassCatalogue.load(session)
    return [_class_row(catalogue, code) for code in sorted(catalogue.by_code)]


def item_class(db: Database, code: str) -> ItemClassRow:
    with db.reading() as session:
        catalogue = ClassCatalogue.load(session)
    if catalogue.get(code) is None:
        raise NotFound(f"no item class {code}")
    return _class_row(catalogue, code)


def _class_row(catalogue: ClassCatalogue, code: str) -> ItemClassRow:
    klass = catalogue.by_code[code]
    attributes: list[ClassAttribute] = []
    for ancestor in catalogue.lineage(code):
        for spec in ancestor.attribute_specs():
            attributes = [a for a in attributes if a.name != spec.name]
            attributes.append(ClassAttribute(
                spec.name, spec.label, spec.type.value, spec.required, spec.allowed, spec.unit,
                spec.help, None if ancestor.code == code else ancestor.code))
    return ItemClassRow(klass.code, klass.name, klass.parent_code, klass.key_prefix,
                        klass.abstract, klass.description, attributes)
