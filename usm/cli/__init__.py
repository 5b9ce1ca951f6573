"""The ``usm`` command line: the same service layer as the web screens, for scripts and operators.
One module per capability adds its commands; this package puts them together."""

from __future__ import annotations

import click

from usm.cli.accounts import token, user
from usm.cli.audit import export_group, import_file
from usm.cli.audit_log import audit_log_command
from usm.cli.change_models import definitions_group, workflow
from usm.cli.changes import change
from usm.cli.item_classes import classes_group
from usm.cli.platform import backup, db, demo, quickstart, restore, serve
from usm.cli.register import item


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """USM change and registration engine. USM_DATABASE_URL selects the database
    (default: SQLite in ./instance)."""


for command in (db, demo, serve, quickstart, backup, restore, user, token, change, item,
                workflow, definitions_group, classes_group, export_group, import_file,
                audit_log_command):
    main.add_command(command)

__all__ = ["main"]
