"""Workflow-definition services: the change models with their versions, one version in detail, and
validation of a definition file.

A stored version is returned as plain data (states, transitions, guards as readable text), so the
designer's screens and the diagram need nothing from ``workflows``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import yaml
from sqlalchemy import func, select

from bir.yaml_input import load_yaml
from usm.services.documents import VersionRow
from usm.services.errors import NotFound
from usm.services.platform import Database
from workflows.change_model import ChangeModelError, ChangeModelSpec, GuardRef, parse_change_model
from workflows.engine import compiled
from workflows.guards import GUARDS
from workflows.models import Change, ChangeModel
from workflows.skeleton import FINAL, ROLES, SKELETON, STEP_LABELS

STATUSES = ("draft", "published", "retired")


class ChangeModelNotFound(NotFound):
    pass


@dataclass(frozen=True)
class StepColumn:
    """One column of the CHM skeleton as a model is drawn: a working step or a final outcome."""

    code: str
    label: str
    number: int | None  # 1..7 for the working steps, None for the final outcomes


STEP_COLUMNS: tuple[StepColumn, ...] = (
    *(StepColumn(s.value, STEP_LABELS[s], i) for i, s in enumerate(SKELETON, start=1)),
    *(StepColumn(s.value, STEP_LABELS[s], None) for s in FINAL),
)


@dataclass(frozen=True)
class ChangeModelRow:
    code: str
    version: int
    name: str
    change_class: str
    status: str


@dataclass(frozen=True)
class ModelVersionRow(VersionRow):
    """A change model's version as the catalogue lists it: with its name and class as that version
    has them, and how many changes run on it."""

    name: str
    change_class: str
    change_count: int


@dataclass(frozen=True)
class ModelSummary:
    """A change model (one code) with all its versions, newest first."""

    code: str
    name: str
    change_class: str
    description: str | None
    versions: list[ModelVersionRow]

    @property
    def current(self) -> ModelVersionRow | None:
        """The newest published version (the one new changes start on), if any."""
        return next((v for v in self.versions if v.status == "published"), None)


@dataclass(frozen=True)
class StateView:
    name: str
    label: str
    step: str
    step_label: str
    time_target_hours: float | None
    initial: bool
    final: bool


@dataclass(frozen=True)
class TransitionView:
    trigger: str
    label: str
    sources: list[str]
    dest: str
    roles: list[str]
    role_labels: list[str]
    guards: list[str]  # as a designer reads them, e.g. "needs risk, impact" or "1 approval"
    guard_names: list[str]  # the technical form, e.g. "required_fields(fields=['risk'])"
    auto: bool


@dataclass(frozen=True)
class FieldView:
    name: str
    label: str
    type: str
    help: str | None


@dataclass(frozen=True)
class ChangeModelDetail:
    code: str
    version: int
    name: str
    change_class: str
    status: str
    published_at: datetime | None
    created_at: datetime
    source: str
    change_count: int
    open_change_count: int
    other_versions: list[tuple[int, str]]  # (version, status) of the same model, newest first
    # Parsed content; empty with ``problems`` set when the stored text no longer validates (for
    # instance after a guard was removed from the registry).
    description: str | None
    approvers: list[str]
    approver_labels: list[str]
    operations: list[str]
    classes: list[str] | None
    fields: list[FieldView]
    states: list[StateView]
    transitions: list[TransitionView]
    problems: list[str]

    @property
    def state_labels(self) -> dict[str, str]:
        return {s.name: s.label for s in self.states}


def list_change_model_versions(db: Database) -> list[ChangeModelRow]:
    with db.reading() as session:
        rows = session.scalars(select(ChangeModel)
                               .order_by(ChangeModel.code, ChangeModel.version))
        return [ChangeModelRow(r.code, r.version, r.name, r.change_class, r.status) for r in rows]


def list_change_models(db: Database) -> list[ModelSummary]:
    """Every change model with its versions (newest first) and how many changes use each."""
    with db.reading() as session:
        rows = list(session.scalars(select(ChangeModel)
                                    .order_by(ChangeModel.code,
                                              ChangeModel.version.desc())))
        counts = {definition_id: count for definition_id, count in session.execute(
            select(Change.definition_id, func.count(Change.id)).group_by(Change.definition_id))}
    by_code: dict[str, list[ChangeModel]] = defaultdict(list)
    for row in rows:
        by_code[row.code].append(row)
    models = []
    for code, versions in by_code.items():
        newest = versions[0]
        models.append(ModelSummary(
            code=code, name=newest.name, change_class=newest.change_class,
            description=_description(newest.source),
            versions=[ModelVersionRow(
                version=v.version, status=v.status, created_by=v.created_by,
                created_at=v.created_at, published_at=v.published_at, name=v.name,
                change_class=v.change_class, change_count=counts.get(v.id, 0))
                for v in versions]))
    models.sort(key=lambda m: m.name.lower())
    return models


def change_model_detail(db: Database, code: str, version: int) -> ChangeModelDetail:
    """One stored version of a change model, parsed; ``ChangeModelNotFound`` if there is none."""
    with db.reading() as session:
        row = session.scalar(select(ChangeModel).where(
            ChangeModel.code == code, ChangeModel.version == version))
        if row is None:
            raise ChangeModelNotFound(f"there is no change model {code} version {version}")
        finals = [s.value for s in FINAL]
        total, still_open = session.execute(
            select(func.count(Change.id),
                   func.count(Change.id).filter(Change.step.not_in(finals)))
            .where(Change.definition_id == row.id)).one()
        others = [(v, s) for v, s in session.execute(
            select(ChangeModel.version, ChangeModel.status)
            .where(ChangeModel.code == code)
            .order_by(ChangeModel.version.desc()))]
    common = dict(code=row.code, version=row.version, name=row.name,
                  change_class=row.change_class, status=row.status,
                  published_at=row.published_at, created_at=row.created_at, source=row.source,
                  change_count=total or 0, open_change_count=still_open or 0,
                  other_versions=others)
    try:
        definition = parse_change_model(row.source, where=f"{row.code} v{row.version}")
    except ChangeModelError as exc:
        return ChangeModelDetail(**common, description=_description(row.source), approvers=[],
                                approver_labels=[],
                                operations=[], classes=None, fields=[], states=[],
                                transitions=[], problems=list(exc.problems))
    return ChangeModelDetail(
        **common,
        description=definition.description,
        approvers=list(definition.approvers),
        approver_labels=[ROLES.get(r, r) for r in definition.approvers],
        operations=list(definition.change_set.operations),
        classes=list(definition.change_set.classes) if definition.change_set.classes else None,
        fields=[FieldView(f.name, f.label or f.name.replace("_", " ").capitalize(), f.type, f.help)
                for f in definition.fields],
        states=_states(definition),
        transitions=[
            TransitionView(
                trigger=t.trigger, label=t.title, sources=list(t.source), dest=t.dest,
                roles=list(t.roles), role_labels=[ROLES.get(r, r) for r in t.roles],
                guards=[guard_text(g) for g in t.guards],
                guard_names=[g.label() for g in t.guards], auto=t.auto)
            for t in definition.transitions
        ],
        problems=[],
    )


def _states(definition: ChangeModelSpec) -> list[StateView]:
    return [
        StateView(name=s.name, label=s.title, step=s.step.value, step_label=STEP_LABELS[s.step],
                  time_target_hours=s.time_target_hours, initial=s.name == definition.initial,
                  final=s.step in FINAL)
        for s in definition.states
    ]


def guard_text(guard: GuardRef) -> str:
    """A guard as a process designer reads it on a diagram: short, without Python syntax."""
    params = guard.params
    if guard.name == "required_fields":
        names = [str(f).replace("_", " ") for f in params.get("fields", [])]
        return "needs " + ", ".join(names)
    if guard.name == "approvals":
        count = params.get("count", 1)
        return f"{count} approval" + ("" if count == 1 else "s")
    if guard.name == "cost_at_most":
        limit = " ".join(str(v) for v in (params.get("amount"), params.get("currency")) if v)
        return f"cost (estimate or change set value) ≤ {limit}"
    if guard.name == "risk_at_most":
        return f"risk ≤ {params.get('level')}"
    if guard.name == "has_change_set":
        return "change set not empty"
    if guard.name in GUARDS and not params:
        return guard.name.replace("_", " ")
    return guard.label()


def _description(source: str) -> str | None:
    try:
        data = load_yaml(source)
    except (yaml.YAMLError, ValueError):  # ValueError: a date like 2001-13-01
        return None
    value = data.get("description") if isinstance(data, dict) else None
    return str(value).strip() if value else None


def validate_change_model_file(path: Path) -> ChangeModelSpec:
    """Parse and check a definition file; ``ChangeModelError`` lists every problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ChangeModelError([f"{path}: cannot read: {exc}"]) from exc
    return parse_change_model(text, where=str(path))


@dataclass(frozen=True)
class ChangeModelDocument:
    """A change model version in full, parsed, for the API."""

    code: str
    version: int
    name: str
    change_class: str
    status: str
    published_at: datetime | None
    definition: ChangeModelSpec
    source: str


def change_model_document(db: Database, code: str, version: int | None = None
                          ) -> ChangeModelDocument:
    """A change model in full: the given version, or else the newest published one (the newest
    draft when none is published)."""
    with db.reading() as session:
        query = select(ChangeModel).where(ChangeModel.code == code)
        if version is None:
            row = session.scalar(query.where(ChangeModel.status == "published")
                                 .order_by(ChangeModel.version.desc()).limit(1)) \
                or session.scalar(query.order_by(ChangeModel.version.desc()).limit(1))
        else:
            row = session.scalar(query.where(ChangeModel.version == version))
        if row is None:
            raise ChangeModelNotFound(
                f"no change model {code}" + (f" version {version}" if version else ""))
        return ChangeModelDocument(row.code, row.version, row.name, row.change_class, row.status,
                                   row.published_at, compiled(row).definition, row.source)
