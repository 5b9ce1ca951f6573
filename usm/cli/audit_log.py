"""``usm audit-log``: read the audit log (who signed in, made tokens, changed users and roles,
exported the register), filtered, newest first; or write it to a CSV or XLSX file."""

from __future__ import annotations

from pathlib import Path

import click

from usm.cli.support import friendly, open_db, print_table
from usm.services import audit_log
from usm.services.platform import export


@click.command("audit-log")
@click.option("--actor", help="A user name: what they did, and what was done as them")
@click.option("--action", type=click.Choice(list(audit_log.ACTIONS)), help="One action code")
@click.option("--from", "since", help="From this day or moment (UTC unless a zone is given)")
@click.option("--to", "until", help="Up to this moment, or to the end of this day")
@click.option("--limit", default="50", show_default=True, help="How many entries to show")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write every matching entry to this .csv or .xlsx file instead")
@friendly
def audit_log_command(actor: str | None, action: str | None, since: str | None,
                      until: str | None, limit: str, output: Path | None) -> None:
    """Show the audit log, newest first."""
    query = audit_log.audit_query({"actor": actor or "", "action": action or "",
                                   "from": since or "", "to": until or "", "limit": limit})
    with open_db() as database:
        if output is not None:
            fmt = output.suffix.lstrip(".").lower()
            if fmt not in ("csv", "xlsx"):
                raise click.BadParameter("name a .csv or .xlsx file", param_hint="--output")
            body, _media_type = export(fmt, audit_log.audit_sheet(database, query))
            output.write_bytes(body)
            click.echo(f"wrote {output}", err=True)
            return
        page = audit_log.audit_entries(database, query)
    if not page.rows:
        click.echo("no entries")
        return
    print_table([[e.id, e.at, e.actor if not e.acting_as else f"{e.actor} as {e.acting_as}",
                  e.action, e.target, e.address, e.via] for e in page.rows],
                ["ID", "AT", "WHO", "ACTION", "ABOUT", "FROM", "VIA"])
