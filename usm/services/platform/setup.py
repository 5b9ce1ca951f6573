"""Installing what the product ships: the item-class hierarchy and the change models."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bir.classes import load_class_specs
from usm.services.change_models import install_change_model
from usm.services.item_classes import install_class
from usm.services.platform.database import Database

SHIPPED_DEFINITIONS = Path(__file__).resolve().parents[3] / "workflows" / "change_models"


@dataclass
class InstallReport:
    classes_added: list[str] = field(default_factory=list)
    classes_updated: list[str] = field(default_factory=list)
    definitions_added: list[str] = field(default_factory=list)


def install_shipped(db: Database) -> InstallReport:
    """Add shipped classes and definition versions that the database does not have yet; idempotent.

    A shipped class or change model that differs from its published version is published as a
    new version only while that version is the shipped one: a process designer's is kept."""
    report = InstallReport()
    with db.transaction() as session:
        for spec in load_class_specs():
            installed = install_class(session, spec)
            if installed == "added":
                report.classes_added.append(spec.code)
            elif installed == "updated":
                report.classes_updated.append(spec.code)
        for path in sorted(SHIPPED_DEFINITIONS.glob("*.yaml")):
            installed = install_change_model(session, path.read_text(encoding="utf-8"))
            if installed is not None:
                report.definitions_added.append(f"{path.stem} ({installed})")
    return report
