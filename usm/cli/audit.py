"""``usm export`` (register, history, changes to CSV/XLSX) and ``usm import`` (discovered inventory
reconciled with the BIR; the accepted differences registered as one audit-correction change)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from usm.cli.support import friendly, open_db, print_table
from usm.services import audit_log, platform, register
from usm.services.audit import (
    DRIFT,
    FORMATS,
    KINDS,
    NOT_SEEN,
    UNREGISTERED,
    ImportFailed,
    ImportSettings,
    MappingError,
    Reconciliation,
    SbomReport,
    accepted_ids,
    host_unknown,
    load_mapping,
    parse_fill,
    parse_match_order,
    parse_values,
    reconcile_file,
    register_correction,
)
from usm.services.changes import ChangeFilter

format_option = click.option("--format", "fmt", type=click.Choice(sorted(platform.FORMATS)),
                             default="csv", show_default=True)
output_option = click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
                             required=True, help="File to write")


def _write(database: platform.Database, output: Path, fmt: str, sheet: platform.Sheet) -> None:
    """Write the file, recording the export in the audit log first (as the web's exports are)."""
    body, _media = platform.export(fmt, sheet)
    context = click.get_current_context()
    shown = {k: v for k, v in context.params.items() if v not in (None, False)}
    audit_log.record_export(database, audit_log.Origin(None, via=audit_log.CLI),
                            f"{context.command_path} {shown}"[:300],
                            {"file": output.name, "bytes": len(body)})
    output.write_bytes(body)
    click.echo(f"wrote {output}")


@click.group("export")
def export_group() -> None:
    """Export the register, an item's history or changes to CSV or XLSX."""


@export_group.command("items")
@click.option("--search", "q", help="Free text on key, name, serial, asset tag, hostname")
@click.option("--class", "class_code", help="Class code (subclasses too)")
@click.option("--status")
@click.option("--owner")
@click.option("--location")
@click.option("--cost-centre", "cost_centre")
@click.option("--service", help="Items supporting this service (key)")
@click.option("--sort", default="key", show_default=True)
@click.option("--as-of", "as_of", help="The register as it was (YYYY-MM-DD[THH:MM], UTC)")
@format_option
@output_option
@friendly
def export_items(fmt: str, output: Path, **filters: str | None) -> None:
    """Every item matching the filters (the register search's), one row each."""
    params = {("class" if k == "class_code" else k): v for k, v in filters.items() if v}
    try:
        query = register.search_query(params)
        with open_db() as database:
            _write(database, output, fmt, register.items_sheet(database, query))
    except register.BadQuery as exc:
        raise click.ClickException(str(exc)) from exc


@export_group.command("history")
@click.argument("key")
@format_option
@output_option
@friendly
def export_history(key: str, fmt: str, output: Path) -> None:
    """Every version of an item, one row per field each version changed."""
    with open_db() as database:
        _write(database, output, fmt, register.history_sheet(database, key))


@export_group.command("changes")
@click.option("--all", "all_changes", is_flag=True, help="Closed, rejected and withdrawn too")
@click.option("--step")
@click.option("--model")
@click.option("--coordinator")
@format_option
@output_option
def export_changes(all_changes: bool, step: str | None, model: str | None,
                   coordinator: str | None, fmt: str, output: Path) -> None:
    """Changes (open ones unless --all), newest first."""
    flt = ChangeFilter(open_only=not all_changes, step=step, model=model, coordinator=coordinator)
    with open_db() as database:
        _write(database, output, fmt, register.changes_sheet(database, flt))


def _summary(rec: Reconciliation) -> None:
    click.echo(f"{rec.file}: {rec.rows} rows, {rec.matched} matched "
               f"(on {', '.join(rec.match_order)})")
    if rec.sbom is not None:
        _sbom_summary(rec.sbom)
    for kind, title in (("unregistered", "unregistered items found"),
                        ("drift", "drifted fields"), ("not_seen", "registered items not seen")):
        found = rec.of_kind(kind)
        click.echo(f"  {len(found)} {title}")
        for d in found[:20]:
            click.echo(f"    {d.summary}")
        if len(found) > 20:
            click.echo(f"    ... and {len(found) - 20} more")
    click.echo(f"  {rec.duplicate_count} duplicates in the input")
    if rec.ignored_columns:
        click.echo(f"  columns not read (the register has no field for them): "
                   f"{', '.join(rec.ignored_columns)}")
    for gap in rec.missing_attributes:
        if gap.filled is not None:
            click.echo(f"  {gap.attribute} of {gap.rows} new {gap.class_code} item(s): the "
                       f"default {gap.filled} (--default)")
        elif gap.left_out:
            click.echo(f"  {gap.rows} {gap.class_code} row(s) without {gap.attribute} left out "
                       f"(rows {', '.join(map(str, gap.left_out[:20]))}"
                       f"{', ...' if gap.rows > 20 else ''})")
    if rec.unknown_values:
        click.echo("  values the mapping does not know (add these lines to a --mapping file, "
                   "or pass --value):")
        for unknown in rec.unknown_values:
            click.echo(f"    {unknown.column} {unknown.value!r}: {unknown.rows} row(s); "
                       f"{unknown.snippet}")


_HOST_HINT = "\n(choose the host the software is on with --host KEY-OR-HOSTNAME)"


def _sbom_summary(sbom: SbomReport) -> None:
    """A CycloneDX document's host, and what it lists that is not registered."""
    click.echo(f"  software on host {sbom.host} (from {sbom.host_from}); CycloneDX "
               f"{sbom.spec_version or '?'}, {sbom.components} components")
    if sbom.repeated:
        one = sbom.repeated == 1
        click.echo(f"  {sbom.repeated} component{'' if one else 's'} repeat{'s' if one else ''} "
                   "a package already listed (one installation each)")
    for kind, count in sorted(sbom.not_registered.items()):
        click.echo(f"  {count} {kind}: not software, reported and not registered")


DEFAULT_ACCEPT = (UNREGISTERED, DRIFT)


def _currency(code: str | None) -> str | None:
    if code is None:
        return None
    if len(code.strip()) != 3 or not code.strip().isalpha():
        raise ValueError(f"--currency: {code!r} is not a three-letter currency code")
    return code.strip().upper()


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(sorted(FORMATS)), required=True)
@click.option("--mapping", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A column-mapping YAML file (instead of the format's own)")
@click.option("--match", "match", help="Natural keys to match on, in order "
              "(default key,asset_tag,serial_number,hostname)")
@click.option("--dry-run", is_flag=True, help="Reconcile and report; register nothing")
@click.option("--accept", type=click.Choice(["all", *KINDS]), multiple=True,
              help="Kinds of differences to accept, repeatable: --accept unregistered "
                   "--accept drift (default: unregistered and drift; not_seen, which retires "
                   "the items the file does not list, only when named; all: every kind)")
@click.option("--title", help="Title of the audit-correction change")
@click.option("--currency", help="Currency of the file's amounts when it names none (Snipe-IT's "
              "currency setting is not in its exports; default USM_DEFAULT_CURRENCY)")
@click.option("--default", "fill", multiple=True, metavar="ATTRIBUTE=VALUE",
              help="A value for a class attribute new items need and the file cannot give, "
                   "repeatable: --default cores=8 (NetBox has no core count)")
@click.option("--skip-gaps", is_flag=True, help="Leave out (and list) rows of new items that "
              "lack a required class attribute, instead of refusing the file")
@click.option("--value", "values", multiple=True, metavar="TARGET:SOURCE=VALUE",
              help="Translate a value the mapping does not know, repeatable: "
                   "--value 'class:VOIP Phones=client.phone'")
@click.option("--host", help="cyclonedx: the device the software is on (key or host name), "
              "instead of the one the document names (an npm SBOM names none)")
@click.option("--as", "username", envvar="USM_USER", help="Act as this user (or set USM_USER)")
@friendly
def import_file(file: Path, fmt: str, mapping: Path | None, match: str | None, dry_run: bool,
                accept: tuple[str, ...], title: str | None, currency: str | None,
                fill: tuple[str, ...], skip_gaps: bool, values: tuple[str, ...],
                username: str | None, host: str | None = None) -> None:
    """Reconcile FILE (discovered inventory) with the BIR and register the accepted differences
    as one audit-correction change (a baseline import on an empty register is the same)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    if not dry_run and not username:
        raise click.UsageError("give --as USER (or USM_USER) to register the change, or --dry-run")
    try:
        order = parse_match_order(match)
        column_mapping = load_mapping(mapping) if mapping else None
        settings = ImportSettings(currency=_currency(currency), fill=parse_fill(fill),
                                  skip_gaps=skip_gaps, values=parse_values(values))
    except (ValueError, MappingError) as exc:
        raise click.BadParameter(str(exc)) from exc
    progress = Progress(TextColumn("reading {task.description}"), BarColumn(),
                        MofNCompleteColumn(), TextColumn("rows"), transient=True,
                        disable=not sys.stderr.isatty())
    with open_db() as database, progress:
        task = progress.add_task(file.name, total=None)
        try:
            rec = reconcile_file(database, file, fmt, match_order=order, mapping=column_mapping,
                                 progress=lambda n: progress.advance(task, n),
                                 settings=settings, host=host)
        except ImportFailed as exc:
            raise click.ClickException(f"nothing registered, the file is not usable:\n{exc}"
                                       + _HOST_HINT * host_unknown(exc.problems)) from exc
        progress.stop()
        _summary(rec)
        if not rec.ok:
            lines = [str(p) for p in rec.problems + rec.duplicates]
            if rec.more_problems:
                lines.append(f"... {rec.problem_count + rec.duplicate_count} problems in all, "
                             f"the first {len(lines)} listed")
            raise click.ClickException("nothing registered; fix these first:\n  "
                                       + "\n  ".join(lines)
                                       + _HOST_HINT * host_unknown(rec.problems))
        # Items not seen are retired only when asked for by name: a partial file leaves out
        # what it does not cover, and that must not retire it.
        kinds = KINDS if "all" in accept else (accept or DEFAULT_ACCEPT)
        chosen = accepted_ids(rec, kinds=kinds)
        skipped = len(rec.of_kind(NOT_SEEN)) if NOT_SEEN not in kinds else 0
        if skipped:
            click.echo(f"{skipped} registered items not seen are not retired (accept them with "
                       "--accept not_seen)")
        if dry_run:
            click.echo("dry run: nothing registered")
            return
        if not chosen:
            click.echo("no differences to accept: the register matches the file")
            return
        summary = register_correction(database, username or "", rec, chosen, title=title)
    print_table([[summary.key, summary.title, summary.step]], ["CHANGE", "TITLE", "STEP"])
    click.echo(f"registered {summary.key} with {len(chosen)} accepted differences; it now goes "
               "through the CHM steps (usm change show " + summary.key + ")")
