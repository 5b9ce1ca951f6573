"""``usm item``: the register, now or as of a moment."""

from __future__ import annotations

import json

import click

from bir.errors import NotFound
from usm.cli.support import cell_text, friendly, open_db, parse_moment, print_table
from usm.services import register


@click.group()
def item() -> None:
    """Items in the register (BIR)."""


@item.command("list")
@click.option("--class", "class_code", help="Class code, e.g. hardware.laptop (subclasses too)")
@click.option("--status")
@click.option("--search", "text", help="Words to find (all of them) in key, name, serial, asset tag, "
              "hostname, owner, manufacturer, model, location")
@click.option("--as-of", "as_of", help="Show the register as it was (UTC unless a zone is given)")
@click.option("--limit", default=50, show_default=True)
@click.option("--after", help="Continue after this key")
def item_list(class_code: str | None, status: str | None, text: str | None, as_of: str | None,
              limit: int, after: str | None) -> None:
    """List items, by key."""
    from bir.queries import ItemFilter

    moment = parse_moment(as_of) if as_of else None
    with open_db() as database:
        rows, total = register.list_items(
            database, ItemFilter(text=text, class_code=class_code, status=status), after=after,
            limit=limit, as_of=moment)
    if not rows:
        click.echo("no items match")
        return
    print_table([[r.key, r.name[:40], r.class_code, r.status, r.owner, r.location] for r in rows],
           ["KEY", "NAME", "CLASS", "STATUS", "OWNER", "LOCATION"])
    click.echo(f"{len(rows)} shown of {total}")


@item.command("show")
@click.argument("key")
@click.option("--as-of", "as_of", help="Show the item as it was (UTC unless a zone is given)")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output")
@friendly
def item_show(key: str, as_of: str | None, as_json: bool) -> None:
    """Show an item's attributes, relations and services."""
    moment = parse_moment(as_of) if as_of else None
    with open_db() as database:
        try:
            v = register.item_view(database, key, moment)
        except NotFound as exc:
            raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps({
            "key": v.key, "class": v.class_code, "version": v.version,
            **v.core, **v.configuration, **v.financial,
            "attributes": {name: value for name, _, value, _ in v.attributes},
        }, default=str, indent=2))
        return
    click.echo(f"{v.key}  {v.core['name']}  ({v.class_name}, version {v.version})")
    if v.as_of:
        click.echo(f"as of {cell_text(v.as_of)}: version valid {cell_text(v.valid_from)} to "
                   f"{cell_text(v.valid_to) if v.valid_to else 'now'}")
    for title, group in (("core", v.core), ("configuration", v.configuration),
                         ("financial", v.financial)):
        shown = {k: val for k, val in group.items() if val is not None}
        if shown:
            click.echo(f"\n{title}:")
            for k, val in shown.items():
                click.echo(f"  {k:<20} {cell_text(val)}")
    if v.attributes:
        click.echo("\nclass-specific:")
        for _, label, value, unit in v.attributes:
            click.echo(f"  {label:<20} {cell_text(value)}{' ' + unit if unit else ''}")
    if v.relations:
        click.echo("\nrelations:")
        for r in v.relations:
            click.echo(f"  {r.label:<18} {r.key}  {r.name}")
    if v.services:
        click.echo("\nsupports services: " + ", ".join(f"{k} {n}" for k, n in v.services))
    if v.pending_changes:
        click.echo("\npending changes: " + ", ".join(f"{k} ({s})" for k, _, s in v.pending_changes))


@item.command("history")
@click.argument("key")
@friendly
def item_history(key: str) -> None:
    """Every version of an item with the change that made it."""
    with open_db() as database:
        try:
            rows = register.item_history(database, key)
        except NotFound as exc:
            raise click.ClickException(str(exc)) from exc
    for h in rows:
        until = cell_text(h.valid_to) if h.valid_to else "now"
        click.echo(f"v{h.version}  {cell_text(h.valid_from)} .. {until}  {h.change_key}  {h.change_title}")
        for c in h.changes:
            click.echo(f"      {c.field}: {cell_text(c.old)} -> {cell_text(c.new)}")
