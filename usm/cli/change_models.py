"""``usm definitions`` (and its older name ``usm workflow``): change models as YAML files, so process
designers can keep them in their own repositories. The same service calls as the designer screens:
every import is checked first and stores nothing when refused."""

from __future__ import annotations

from pathlib import Path

import click

from usm.cli.support import friendly, open_db, print_table, read_text, write_text
from usm.services import change_models
from usm.services.change_models import ChangeModelError


@click.group("definitions")
def definitions_group() -> None:
    """Change models (workflow definitions): list, export, import, publish and validate YAML."""


@click.group("workflow")
def workflow() -> None:
    """Change models (workflow definitions): list them and check a file."""


@definitions_group.command("list")
@friendly
def definitions_list() -> None:
    """Every change model version with its status."""
    with open_db() as database:
        rows = change_models.list_change_model_versions(database)
    if not rows:
        click.echo("no change models installed (run: usm db upgrade)")
        return
    print_table([[r.code, r.version, r.name, r.change_class, r.status] for r in rows],
                ["CODE", "VERSION", "NAME", "CLASS", "STATUS"])


@definitions_group.command("export")
@click.argument("code")
@click.option("--version", type=click.IntRange(1, change_models.MAX_VERSION),
              help="A version (default: the newest published one).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file (default: standard output).")
@friendly
def definitions_export(code: str, version: int | None, output: Path | None) -> None:
    """Write one change model version as its YAML."""
    with open_db() as database:
        chosen = version or change_models.published_version(database, code)
        write_text(change_models.version_source(database, code, chosen), output)


@definitions_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--publish", is_flag=True, help="Publish the draft at once.")
@friendly
def definitions_import(file: Path, publish: bool) -> None:
    """Save FILE as a new draft of its model (its next version number)."""
    source = read_text(file)
    with open_db() as database:
        saved = change_models.save_new_draft(database, source, where=str(file))
        if publish:
            saved = change_models.publish(database, saved.code, saved.version)
    click.echo(f"{saved.code} v{saved.version}: {saved.status}")


@definitions_group.command("publish")
@click.argument("code")
@click.argument("version", type=click.IntRange(1, change_models.MAX_VERSION))
@friendly
def definitions_publish(code: str, version: int) -> None:
    """Publish a draft: new changes of the model start on it."""
    with open_db() as database:
        saved = change_models.publish(database, code, version)
    click.echo(f"{saved.code} v{saved.version}: {saved.status}")


@click.command("validate")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def validate(file: Path) -> None:
    """Check a definition file against the CHM skeleton; exit status 1 names every problem."""
    try:
        d = change_models.validate_change_model_file(file)
    except ChangeModelError as exc:
        click.echo(f"{file}: {len(exc.problems)} problem(s):", err=True)
        for problem in exc.problems:
            click.echo(f"  - {problem}", err=True)
        raise SystemExit(1) from exc
    click.echo(f"{file}: valid — {d.code} v{d.version} ({d.change_class}), {len(d.states)} "
               f"states, {len(d.transitions)} transitions")


definitions_group.add_command(validate)
workflow.add_command(validate)
workflow.add_command(definitions_list, "list")
