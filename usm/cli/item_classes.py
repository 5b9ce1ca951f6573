"""``usm classes``: item classes as YAML files, so process designers can keep them in their own
repositories. The same service calls as the designer screens: every import is checked first and
stores nothing when refused."""

from __future__ import annotations

from pathlib import Path

import click

from usm.cli.support import friendly, open_db, print_table, read_text, write_text
from usm.services import item_classes

CLI_USER = "cli"


@click.group("classes")
def classes_group() -> None:
    """Item classes: list, export and import as YAML."""


@classes_group.command("list")
@friendly
def classes_list() -> None:
    """Every class with its versions and their status."""
    with open_db() as database:
        found = item_classes.list_classes(database)
    if not found:
        click.echo("no item classes installed (run: usm db upgrade)")
        return
    print_table([[c.code, c.name, c.published_version or "-",
                  ", ".join(f"{v.version} {v.status}" for v in c.versions)] for c in found],
                ["CODE", "NAME", "PUBLISHED", "VERSIONS"])


@classes_group.command("export")
@click.argument("code")
@click.option("--version", type=click.IntRange(1, item_classes.MAX_VERSION),
              help="A version (default: the published one).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file (default: standard output).")
@friendly
def classes_export(code: str, version: int | None, output: Path | None) -> None:
    """Write one class version as YAML (what `usm classes import` reads back)."""
    with open_db() as database:
        chosen = version or item_classes.published_version(database, code)
        write_text(item_classes.version_yaml(database, code, chosen), output)


@classes_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--publish", is_flag=True, help="Publish each class at once.")
@click.option("--by", default=CLI_USER, show_default=True, help="Who made the versions.")
@friendly
def classes_import(file: Path, publish: bool, by: str) -> None:
    """Save the class (or a `classes:` list, parents first) in FILE as new drafts, all or none."""
    source = read_text(file)
    with open_db() as database:
        entries = item_classes.load_class_list(source, where=str(file))
        saved = item_classes.import_classes(database, entries, by=by, publish_them=publish,
                                            where=str(file))
    for version in saved:
        click.echo(f"{version.code} v{version.version}: {version.status}")
