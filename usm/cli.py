"""The ``usm`` command line: the same service layer as the web screens, for scripts and operators."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import yaml

from bir.errors import NotFound
from usm.cli_audit import export_group, import_file
from usm.cli_backup import backup, restore
from usm.cli_designer import classes_group, definitions_group
from usm.cli_support import cell_text, friendly, open_db, parse_moment, print_table
from usm.config import database_url
from usm.services import changes as change_services
from usm.services import register as register_services
from usm.services.accounts import add_user
from usm.services.change_models import list_definitions, validate_definition_file
from workflows.definition import DefinitionError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """USM change and registration engine. USM_DATABASE_URL selects the database
    (default: SQLite in ./instance)."""


# -- database and setup ----------------------------------------------------------------------------

@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Migrate the schema to the latest version and install the shipped classes and models."""
    from usm.db import upgrade
    from usm.services.platform import install_shipped

    url = database_url()
    upgrade(url)
    with open_db() as database:
        report = install_shipped(database)
    click.echo(f"database at {_safe_url(url)} is up to date; "
               f"{len(report.classes_added)} class(es) and "
               f"{len(report.definitions_added)} change model version(s) added")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@main.command()
@friendly
def demo() -> None:
    """Load demo users, services, items and changes, all through the change process."""
    from usm.services.platform import DemoRefused, load_demo

    with open_db() as database:
        try:
            report = load_demo(database)
        except DemoRefused as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(report.summary)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
def serve(host: str, port: int, threads: int) -> None:
    """Serve the web screens (waitress). Run `usm db upgrade` first."""
    from waitress import serve as waitress_serve

    from usm.app import create_app

    click.echo(f"USM is serving on http://{host}:{port}/  (Ctrl+C stops it)")
    waitress_serve(create_app(), host=host, port=port, threads=threads)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.pass_context
def quickstart(ctx: click.Context, host: str, port: int) -> None:
    """Upgrade the database, load the demo data if the register is empty, and serve."""
    from usm.services.platform import DemoRefused, load_demo

    ctx.invoke(db_upgrade)
    with open_db() as database:
        try:
            click.echo(load_demo(database).summary)
        except DemoRefused:
            click.echo("register already has data; demo not loaded again")
    ctx.invoke(serve, host=host, port=port)


# -- users ---------------------------------------------------------------------------------------

@main.group()
def user() -> None:
    """Users and roles."""


@user.command("add")
@click.argument("username")
@click.option("--role", "roles", multiple=True, required=True,
              help="change_coordinator, service_owner, process_designer or administrator; repeat "
                   "for several")
@click.option("--name", "display_name", help="Display name")
@click.password_option(help="At least 10 characters (asked when not given)")
@friendly
def user_add(username: str, roles: tuple[str, ...], display_name: str | None,
             password: str) -> None:
    """Create a user."""
    with open_db() as database:
        add_user(database, username, password, list(roles), display_name)
    click.echo(f"user {username} created with role(s) {', '.join(roles)}")


# -- changes -------------------------------------------------------------------------------------

acting_user = click.option("--as", "username", envvar="USM_USER", required=True,
                           help="Act as this user (or set USM_USER)")


@main.group()
def change() -> None:
    """Changes (RFCs) and their way through the CHM steps."""


@change.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include closed, rejected and withdrawn")
@click.option("--step", help="Only changes in this step, e.g. authorisation")
@click.option("--model", help="Only changes of this change model")
@click.option("--limit", default=50, show_default=True)
def change_list(show_all: bool, step: str | None, model: str | None, limit: int) -> None:
    """List changes, newest first."""
    with open_db() as database:
        rows = change_services.list_changes(database, open_only=not show_all, step=step,
                                            model=model, limit=limit)
    if not rows:
        click.echo("no changes" + ("" if show_all else " open (use --all to include closed)"))
        return
    print_table([[r.key, r.title[:48], r.model, r.step, r.state_label,
             "OVERDUE" if r.overdue else ""] for r in rows],
           ["KEY", "TITLE", "MODEL", "STEP", "STATE", ""])


@change.command("show")
@click.argument("key")
@click.option("--as", "username", envvar="USM_USER", help="Show the moves this user may make")
@friendly
def change_show(key: str, username: str | None) -> None:
    """Show a change: steps, change set, approvals and step log."""
    with open_db() as database:
        d = change_services.change_detail(database, key, username)
    s = d.summary
    click.echo(f"{s.key}  {s.title}")
    click.echo(f"model     {s.model} v{s.model_version} ({s.change_class})")
    click.echo(f"state     {s.state_label} [{s.step}]" + ("  OVERDUE" if s.overdue else ""))
    click.echo("steps     " + " > ".join(
        f"[{label}]" if status == "current" else (label if status == "done" else label.lower())
        for _, label, status in d.steps))
    for name in ("requester", "coordinator"):
        click.echo(f"{name:<10}{cell_text(getattr(s, name))}")
    for name in ("source", "risk", "impact", "cost_estimate", "planned_start", "planned_end",
                 "outcome"):
        click.echo(f"{name:<10}{cell_text(getattr(d, name))}")
    if d.impacted_services:
        click.echo("services  " + ", ".join(f"{k} {n}" for k, n in d.impacted_services))
    click.echo("\nchange set:")
    for n, op in enumerate(d.operations, 1):
        click.echo(f"  {n}. {_describe_op(op)}")
    if d.approvals:
        click.echo("\napprovals:")
        for a in d.approvals:
            click.echo(f"  {cell_text(a.at)}  {a.approver}: {a.decision}"
                       + (" (automatic)" if a.automatic else "")
                       + (f" — {a.comment}" if a.comment else ""))
    click.echo("\nstep log:")
    for e in d.log:
        click.echo(f"  {cell_text(e.at)}  {e.actor:<28} {e.trigger:<20} {e.from_state or '':>16} -> "
                   f"{e.to_state}" + (f"  ({e.comment})" if e.comment else ""))
    if d.options:
        click.echo("\npossible now:")
        for o in d.options:
            state = "ok" if o.allowed else "blocked: " + "; ".join(o.reasons)
            click.echo(f"  {o.trigger:<22} -> {o.dest:<18} {state}")


def _describe_op(op: dict[str, Any]) -> str:
    kind = op["op"]
    if kind == "create_item":
        fields = ", ".join(f"{k}={v}" for k, v in {**op["fields"], **op["attributes"]}.items())
        return f"create {op['class']}" + (f" @{op['ref']}" if op.get("ref") else "") + f": {fields}"
    if kind == "update_item":
        fields = ", ".join(f"{k}={v}" for k, v in {**op["fields"], **op["attributes"]}.items())
        return f"update {op['item']}: {fields}"
    if kind == "set_status":
        return f"set {op['item']} status to {op['status']}"
    verb = "add" if kind == "add_relation" else "remove"
    return f"{verb} relation {op['source']} {op['kind']} {op['target']}"


@change.command("move")
@click.argument("key")
@click.argument("trigger")
@acting_user
@click.option("--comment", "-m", help="Why; kept in the step log")
@click.option("--expect-version", type=int, help="Refuse if the change moved since this version")
@friendly
def change_move(key: str, trigger: str, username: str, comment: str | None,
                expect_version: int | None) -> None:
    """Fire TRIGGER on change KEY (e.g. assess, authorise, implement)."""
    with open_db() as database:
        s = change_services.move_change(database, key, trigger, username, comment=comment,
                                        expected_version=expect_version)
    click.echo(f"{s.key} is now {s.state_label} [{s.step}]")


@change.command("approve")
@click.argument("key")
@acting_user
@click.option("--reject", is_flag=True, help="Record a rejection instead of an approval")
@click.option("--comment", "-m")
@friendly
def change_approve(key: str, username: str, reject: bool, comment: str | None) -> None:
    """Record your approval (or rejection) of a change in authorisation."""
    with open_db() as database:
        change_services.approve_change(database, key, username, approve=not reject,
                                       comment=comment)
    click.echo(f"{key}: {'rejected' if reject else 'approved'} by {username}")


@change.command("set")
@click.argument("key")
@click.argument("assignments", nargs=-1, required=True)
@acting_user
@friendly
def change_set_details(key: str, assignments: tuple[str, ...], username: str) -> None:
    """Fill in details: risk=low impact="..." planned_start=2026-12-01T20:00Z ..."""
    values: dict[str, Any] = {}
    for assignment in assignments:
        name, sep, value = assignment.partition("=")
        if not sep:
            raise click.BadParameter(f"{assignment!r}: use name=value")
        values[name.strip()] = value
    with open_db() as database:
        change_services.update_change(database, key, username, values)
    click.echo(f"{key} updated: {', '.join(values)}")


@change.command("register")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@acting_user
@friendly
def change_register(file: Path, username: str) -> None:
    """Register a change from a YAML or JSON file: model, title, operations and details."""
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise click.ClickException(f"{file}: not valid YAML/JSON: {exc}") from exc
    if not isinstance(data, dict) or "model" not in data or "title" not in data:
        raise click.ClickException(f"{file}: expected a mapping with model, title and operations")
    model, title = data.pop("model"), data.pop("title")
    operations = data.pop("operations", [])
    with open_db() as database:
        s = change_services.register_change(database, username, model=model, title=title,
                                            operations=operations, **data)
    click.echo(f"registered {s.key}: {s.title} [{s.state_label}]")


# -- register ------------------------------------------------------------------------------------

@main.group()
def item() -> None:
    """Items in the register (BIR)."""


@item.command("list")
@click.option("--class", "class_code", help="Class code, e.g. hardware.laptop (subclasses too)")
@click.option("--status")
@click.option("--search", "text", help="Free text on key, name, serial, asset tag, hostname")
@click.option("--as-of", "as_of", help="Show the register as it was (UTC unless a zone is given)")
@click.option("--limit", default=50, show_default=True)
@click.option("--after", help="Continue after this key")
def item_list(class_code: str | None, status: str | None, text: str | None, as_of: str | None,
              limit: int, after: str | None) -> None:
    """List items, by key."""
    from bir.queries import ItemFilter

    moment = parse_moment(as_of) if as_of else None
    with open_db() as database:
        rows, total = register_services.list_items(
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
            v = register_services.item_view(database, key, moment)
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
            rows = register_services.item_history(database, key)
        except NotFound as exc:
            raise click.ClickException(str(exc)) from exc
    for h in rows:
        until = cell_text(h.valid_to) if h.valid_to else "now"
        click.echo(f"v{h.version}  {cell_text(h.valid_from)} .. {until}  {h.change_key}  {h.change_title}")
        for c in h.changes:
            click.echo(f"      {c.field}: {cell_text(c.old)} -> {cell_text(c.new)}")


# -- API tokens ----------------------------------------------------------------------------------

@main.group()
def token() -> None:
    """Personal API tokens for /api/v1 (stored hashed; shown once when made)."""


@token.command("create")
@click.argument("username")
@click.option("--name", required=True, help="What the token is for, e.g. 'discovery agent'")
@click.option("--expires", help="When it stops working (ISO date or date-time; UTC unless a "
                                "zone is given); never when left out")
@friendly
def token_create(username: str, name: str, expires: str | None) -> None:
    """Make a token for USERNAME; it acts with that user's roles."""
    from usm.services.accounts import create_token

    with open_db() as database:
        made = create_token(database, username, name,
                            expires_at=parse_moment(expires) if expires else None)
    click.echo(made.secret)
    click.echo(f"token {made.token.id} ({made.token.name}) for {username}: copy it now, it is "
               "not shown again", err=True)


@token.command("list")
@click.argument("username", required=False)
def token_list(username: str | None) -> None:
    """List tokens (of USERNAME, or everyone's), revoked ones included."""
    from usm.services.accounts import list_tokens

    with open_db() as database:
        rows = list_tokens(database, username)
    if not rows:
        click.echo("no tokens")
        return
    print_table([[t.id, t.username, t.name[:32], t.prefix + "...", t.created_at, t.last_used_at,
             t.expires_at, "active" if t.active() else ("revoked" if t.revoked_at else "expired")]
            for t in rows],
           ["ID", "USER", "NAME", "PREFIX", "CREATED", "LAST USED", "EXPIRES", "STATE"])


@token.command("revoke")
@click.argument("token_id", type=int)
def token_revoke(token_id: int) -> None:
    """Revoke token TOKEN_ID: it stops working at once."""
    from usm.services.accounts import TokenNotFound, revoke_token

    with open_db() as database:
        try:
            revoked = revoke_token(database, token_id)
        except TokenNotFound as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"token {revoked.id} ({revoked.name}) of {revoked.username} is revoked")


# -- workflow definitions ------------------------------------------------------------------------

@main.group()
def workflow() -> None:
    """Change models (workflow definitions)."""


@workflow.command("list")
def workflow_list() -> None:
    """List the change models and their versions."""
    with open_db() as database:
        rows = list_definitions(database)
    if not rows:
        click.echo("no change models installed (run: usm db upgrade)")
        return
    print_table([[r.code, r.version, r.name, r.change_class, r.status] for r in rows],
           ["CODE", "VERSION", "NAME", "CLASS", "STATUS"])


@workflow.command("validate")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def workflow_validate(file: Path) -> None:
    """Check a definition file against the CHM skeleton; exit status 1 names every problem."""
    try:
        d = validate_definition_file(file)
    except DefinitionError as exc:
        click.echo(f"{file}: {len(exc.problems)} problem(s):", err=True)
        for problem in exc.problems:
            click.echo(f"  - {problem}", err=True)
        raise SystemExit(1) from exc
    click.echo(f"{file}: valid — {d.code} v{d.version} ({d.change_class}), {len(d.states)} "
               f"states, {len(d.transitions)} transitions")


main.add_command(export_group)
main.add_command(import_file)
main.add_command(backup)
main.add_command(restore)
main.add_command(classes_group)
main.add_command(definitions_group)

if __name__ == "__main__":  # pragma: no cover
    main()
