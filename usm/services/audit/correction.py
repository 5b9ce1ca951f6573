"""Accepted differences become ONE audit-correction change, registered through CHM; a baseline
import (the first load of an inventory) is the same: every row unregistered, all accepted."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from bir.errors import FieldError, ValidationFailed
from usm.services import changes
from usm.services.audit.found import ImportFailed, ImportProblem, SbomReport
from usm.services.audit.mapping import IDENTITY, ColumnMapping, ImportSettings, shipped_mapping
from usm.services.audit.readers import open_rows
from usm.services.audit.reconcile import DEFAULT_MATCH_ORDER, KINDS, Reconciliation, reconcile
from usm.services.audit.scope import AuditScope
from usm.services.audit.uploads import upload_options, upload_path
from usm.services.changes import ChangeSummary
from usm.services.platform import Database

MODEL = "audit-correction"
# Import format -> (reader, mapping).
FORMATS: dict[str, tuple[str, Callable[[], ColumnMapping]]] = {
    "csv": ("csv", lambda: IDENTITY),
    "json": ("json", lambda: IDENTITY),
    "snipeit": ("csv", lambda: shipped_mapping("snipeit")),
    "netbox": ("csv", lambda: shipped_mapping("netbox")),
    "cyclonedx": ("cyclonedx", lambda: IDENTITY),
}


def reconcile_file(db: Database, path: Path, fmt: str, *,
                   match_order: tuple[str, ...] = DEFAULT_MATCH_ORDER,
                   mapping: ColumnMapping | None = None, name: str | None = None,
                   progress: Callable[[int], None] | None = None,
                   scope: AuditScope | None = None,
                   settings: ImportSettings | None = None,
                   host: str | None = None) -> Reconciliation:
    """Reconcile an import file in ``fmt`` (see ``FORMATS``) with the register; reads only.
    ``mapping`` overrides the format's own (a user's mapping file); ``name`` is the file name
    problems give (an upload's original name); ``scope`` limits "not seen" to where the audit
    looked. A stored upload saved with a scope (a scan's) is always reconciled within it, so no
    screen or API call that reads it can list, and retire, the items of other locations.
    ``host``: the device a CycloneDX document's software is on, instead of the one it names."""
    scope = scope or _stored_scope(path)
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    reader, default_mapping = FORMATS[fmt]
    sbom = SbomReport() if reader == "cyclonedx" else None  # its host, what is not software
    rows = open_rows(path, reader, host=host, report=sbom) if sbom else open_rows(path, reader)
    column_mapping = mapping or default_mapping()
    if settings is not None:  # the coordinator's choices for this import (currency, values)
        column_mapping = settings.apply(column_mapping)
    try:
        with db.reading() as session:
            rec = reconcile(session, rows, file=path.name, mapping=column_mapping,
                            match_order=match_order, progress=progress, scope=scope,
                            settings=settings)
    except ImportFailed as exc:
        if not name:
            raise
        raise ImportFailed(_named(exc.problems, name)) from exc
    rec.sbom = sbom
    if name:
        rec.file = name
        rec.problems = _named(rec.problems, name)
        rec.duplicates = _named(rec.duplicates, name)
    return rec


def _stored_scope(path: Path) -> AuditScope | None:
    """The scope kept with ``path`` when it is a stored upload; ``None`` for any other file."""
    if path.suffix != ".upload" or upload_path(path.stem) != path:
        return None
    return AuditScope.from_options(upload_options(path.stem) or {})


def _named(problems: list[ImportProblem], name: str) -> list[ImportProblem]:
    """Problems naming the file as its user knows it (an upload is stored under a token)."""
    return [ImportProblem(name, p.row, p.column, p.message) for p in problems]


def accepted_ids(rec: Reconciliation, *, kinds: Iterable[str] = (), ids: Iterable[str] = (),
                 ignore: Iterable[str] = ()) -> list[str]:
    """The differences a coordinator accepts, named by kind rather than one by one: every
    difference of ``kinds``, plus ``ids``, less any of an ``ignore``d kind. Web, API and CLI choose
    this way, so accepting all 100k unregistered rows posts one kind, not 100k ids.
    ``ValidationFailed`` names an unknown kind (field ``kinds``) or id (field ``accept``)."""
    every_kind, chosen_ids, ignored = set(kinds), set(ids), set(ignore)
    unknown_kinds = sorted((every_kind | ignored) - set(KINDS))
    if unknown_kinds:
        raise ValidationFailed([FieldError("kinds", f"{unknown_kinds[0]!r} is not a kind of "
                                           f"difference ({', '.join(KINDS)})")])
    unknown = chosen_ids - {d.id for d in rec.differences}
    if unknown:
        raise ValidationFailed([FieldError("accept", f"{sorted(unknown)[0]} is not a difference "
                                           "of this reconciliation (the register or the file "
                                           "changed meanwhile?)")])
    return [d.id for d in rec.differences if d.kind not in ignored
            and (d.kind in every_kind or d.id in chosen_ids)]


def correction_operations(rec: Reconciliation, accepted: Iterable[str]) -> list[dict[str, Any]]:
    """The change set that makes the BIR match the accepted differences: creates first, then one
    update per drifted item (its fields merged), then status moves and relations."""
    chosen = set(accepted)
    unknown = chosen - {d.id for d in rec.differences}
    if unknown:
        raise ValidationFailed([FieldError("accept", f"{sorted(unknown)[0]} is not a difference "
                                           "of this reconciliation (the register or the file "
                                           "changed meanwhile?)")])
    creates: list[dict[str, Any]] = []
    updates: dict[str, dict[str, Any]] = {}
    rest: list[dict[str, Any]] = []
    for difference in rec.differences:
        if difference.id not in chosen:
            continue
        for op in difference.operations:
            if op["op"] == "create_item":
                creates.append(op)
            elif op["op"] == "update_item":
                merged = updates.setdefault(op["item"], {"op": "update_item", "item": op["item"]})
                attributes = {**merged.get("attributes", {}), **op.get("attributes", {})}
                merged.update(op)
                if attributes:
                    merged["attributes"] = attributes
            else:
                rest.append(op)
    return [*creates, *updates.values(), *rest]


def register_correction(db: Database, username: str, rec: Reconciliation,
                        accepted: Iterable[str], *, title: str | None = None) -> ChangeSummary:
    """Register the accepted differences as one audit-correction change (not yet implemented:
    it goes through the CHM steps like any change). ``ImportFailed`` when the file had problems
    or duplicates; ``ValidationFailed`` when nothing, or something unknown, was accepted."""
    if not rec.ok:
        raise ImportFailed(rec.problems + rec.duplicates)
    chosen = set(accepted)  # built once, not per difference (that was quadratic in the rows)
    operations = correction_operations(rec, chosen)
    if not operations:
        raise ValidationFailed([FieldError("accept", "accept at least one difference")])
    counts = dict.fromkeys(("unregistered", "drift", "not_seen"), 0)
    for difference in rec.differences:
        if difference.id in chosen:
            counts[difference.kind] += 1
    where = f" {rec.scope.describe()}" if rec.scope else ""
    description = (f"Reconciliation of {rec.file} ({rec.rows} rows, matched on "
                   f"{', '.join(rec.match_order)}): {counts['unregistered']} unregistered items "
                   f"registered, {counts['drift']} drifted fields corrected, "
                   f"{counts['not_seen']} items not found{where} retired.")
    for gap in rec.missing_attributes:  # what came from the coordinator, not the file
        if gap.filled is not None:
            description += (f" {gap.attribute} of {gap.rows} new {gap.class_code} item(s) is "
                            f"the default {gap.filled} given at the import, not a value the "
                            "file gave.")
        elif gap.left_out:
            description += (f" {gap.rows} {gap.class_code} row(s) without {gap.attribute} were "
                            "left out.")
    if rec.sbom is not None:
        description += f" The software is on {rec.sbom.host}{_not_registered(rec.sbom)}."
    return changes.register_change(
        db, username, model=MODEL, title=title or f"Audit correction from {rec.file}"[:200],
        operations=operations, source="rim", description=description,
        reason="what the audit found differs from the BIR", fields={"audit_source": rec.file})


def _not_registered(sbom: SbomReport) -> str:
    """What the document listed that is not software, for the change's description."""
    if not sbom.not_registered:
        return ""
    counts = ", ".join(f"{n} {kind}" for kind, n in sorted(sbom.not_registered.items()))
    return f"; listed but not registered (not software): {counts}"
