"""``usm classes`` and ``usm definitions``: item classes and change models as YAML files, so process
designers can keep them in their own repositories. The same service calls as the designer
screens: every import is checked first and stores nothing when refused."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from usm.cli_support import open_db, print_table
from usm.services import change_models as definition_versions
from usm.services import item_classes as class_versions
from usm.services.change_models import DefinitionNotFound, list_definitions
from usm.services.item_classes import ClassDefinitionError, load_class_list
from usm.services.platform import Database
from workflows.definition import DefinitionError

CLI_USER = "cli"


@contextmanager
def _refusals() -> Iterator[None]:
    """The services' refusals as a message and exit status 1, every problem on its own line."""
    try:
        yield
    except (ClassDefinitionError, DefinitionError) as exc:
        lines = "\n".join(f"  - {p}" for p in exc.problems)
        raise click.ClickException(f"refused, nothing stored:\n{lines}") from exc
    except (class_versions.ClassNotFound, class_versions.ClassVersionRefused,
            DefinitionNotFound, definition_versions.DefinitionRefused) as exc:
        raise click.ClickException(str(exc)) from exc


def _read(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{file}: cannot read it as UTF-8 text ({exc})") from exc


def _write(text: str, output: Path | None) -> None:
    if output is None:
        click.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    click.echo(f"wrote {output}", err=True)


def _with_db(action: Callable[[Database], Any]) -> Any:
    with open_db() as database, _refusals():
        return action(database)


# -- item classes ----------------------------------------------------------------------------------

@click.group("classes")
def classes_group() -> None:
    """Item classes: list, export and import as YAML."""


@classes_group.command("list")
def classes_list() -> None:
    """Every class with its versions and their status."""
    found = _with_db(class_versions.list_classes)
    if not found:
        click.echo("no item classes installed (run: usm db upgrade)")
        return
    print_table([[c.code, c.name, c.published_version or "-",
                  ", ".join(f"{v.version} {v.status}" for v in c.versions)] for c in found],
                ["CODE", "NAME", "PUBLISHED", "VERSIONS"])


@classes_group.command("export")
@click.argument("code")
@click.option("--version", type=click.IntRange(1, class_versions.MAX_VERSION),
              help="A version (default: the published one).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file (default: standard output).")
def classes_export(code: str, version: int | None, output: Path | None) -> None:
    """Write one class version as YAML (what `usm classes import` reads back)."""
    def export(database: Database) -> str:
        chosen = version or _published_class_version(database, code)
        return class_versions.version_yaml(database, code, chosen)
    _write(_with_db(export), output)


def _published_class_version(database: Database, code: str) -> int:
    found = next((c for c in class_versions.list_classes(database) if c.code == code), None)
    if found is None:
        raise class_versions.ClassNotFound(f"there is no item class {code}")
    if found.published_version is None:
        raise class_versions.ClassNotFound(f"{code} has no published version; name one with "
                                           "--version")
    return found.published_version


@classes_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--publish", is_flag=True, help="Publish each class at once.")
@click.option("--by", default=CLI_USER, show_default=True, help="Who made the versions.")
def classes_import(file: Path, publish: bool, by: str) -> None:
    """Save the class (or a `classes:` list, parents first) in FILE as new drafts, all or none."""
    source = _read(file)

    def save(database: Database) -> list[class_versions.SavedClassVersion]:
        entries = load_class_list(source, where=str(file))
        return class_versions.import_classes(database, entries, by=by, publish_them=publish,
                                             where=str(file))
    for saved in _with_db(save):
        click.echo(f"{saved.code} v{saved.version}: {saved.status}")


# -- change models (workflow definitions) ---------------------------------------------------------

@click.group("definitions")
def definitions_group() -> None:
    """Change models (workflow definitions): list, export, import and publish as YAML."""


@definitions_group.command("list")
def definitions_list() -> None:
    """Every change model version with its status."""
    rows = _with_db(list_definitions)
    if not rows:
        click.echo("no change models installed (run: usm db upgrade)")
        return
    print_table([[r.code, r.version, r.name, r.change_class, r.status] for r in rows],
                ["CODE", "VERSION", "NAME", "CLASS", "STATUS"])


@definitions_group.command("export")
@click.argument("code")
@click.option("--version", type=click.IntRange(1, definition_versions.MAX_VERSION),
              help="A version (default: the newest published one).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file (default: standard output).")
def definitions_export(code: str, version: int | None, output: Path | None) -> None:
    """Write one change model version as its YAML."""
    def export(database: Database) -> str:
        chosen = version
        if chosen is None:
            published = [r.version for r in list_definitions(database)
                         if r.code == code and r.status == "published"]
            if not published:
                raise DefinitionNotFound(f"there is no published change model {code}")
            chosen = max(published)
        return definition_versions.version_source(database, code, chosen)
    _write(_with_db(export), output)


@definitions_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--publish", is_flag=True, help="Publish the draft at once.")
def definitions_import(file: Path, publish: bool) -> None:
    """Save FILE as a new draft of its model (its next version number)."""
    source = _read(file)

    def save(database: Database) -> definition_versions.SavedVersion:
        saved = definition_versions.save_new_draft(database, source, where=str(file))
        if publish:
            saved = definition_versions.publish(database, saved.code, saved.version)
        return saved
    saved = _with_db(save)
    click.echo(f"{saved.code} v{saved.version}: {saved.status}")


@definitions_group.command("publish")
@click.argument("code")
@click.argument("version", type=click.IntRange(1, definition_versions.MAX_VERSION))
def definitions_publish(code: str, version: int) -> None:
    """Publish a draft: new changes of the model start on it."""
    saved = _with_db(lambda database: definition_versions.publish(database, code, version))
    click.echo(f"{saved.code} v{saved.version}: {saved.status}")
