"""``usm change``: changes (RFCs) and their way through the CHM steps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import yaml

from bir.yaml_input import load_yaml
from usm.cli.support import cell_text, friendly, open_db, print_table
from usm.services import changes
from usm.services.user_input import DETAIL_FIELDS, change_details

acting_user = click.option("--as", "username", envvar="USM_USER", required=True,
                           help="Act as this user (or set USM_USER)")


@click.group()
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
        rows = changes.list_changes(database, open_only=not show_all, step=step,
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
        d = changes.change_detail(database, key, username)
    s = d.summary
    click.echo(f"{s.key}  {s.title}")
    facts: list[tuple[str, Any]] = [
        ("model", f"{s.model} v{s.model_version} ({s.change_class})"),
        ("state", f"{s.state_label} [{s.step}]" + ("  OVERDUE" if s.overdue else "")),
        ("steps", " > ".join(
            f"[{label}]" if status == "current" else (label if status == "done" else label.lower())
            for _, label, status in d.steps)),
        ("requester", s.requester), ("coordinator", s.coordinator),
        *((name, getattr(d, name)) for name in ("source", "risk", "impact")),
        ("cost_estimate", f"{d.cost_estimate} {d.currency or ''}".strip()
         if d.cost_estimate is not None else None),
        ("change_set_value", ", ".join(f"{amount} {currency}" for currency, amount
                                       in d.change_set_value.items()) or None),
        *((name, getattr(d, name)) for name in ("planned_start", "planned_end", "outcome")),
        *((f.name, d.fields.get(f.name)) for f in d.model_fields),
    ]
    if d.waiting is not None and d.waiting.given < d.waiting.needed:
        facts.append(("waiting for", f"{d.waiting.needed - d.waiting.given} approval(s) from "
                                     f"{', '.join(d.waiting.roles)}"
                      + (f" ({', '.join(d.waiting.people)})" if d.waiting.people else "")))
    width = max(len(label) for label, _ in facts) + 2
    for label, value in facts:
        click.echo(f"{label:<{width}}{cell_text(value)}")
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
        s = changes.move_change(database, key, trigger, username, comment=comment,
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
        changes.approve_change(database, key, username, approve=not reject,
                                       comment=comment)
    click.echo(f"{key}: {'rejected' if reject else 'approved'} by {username}")


@change.command("set")
@click.argument("key")
@click.argument("assignments", nargs=-1, required=True)
@acting_user
@friendly
def change_set_details(key: str, assignments: tuple[str, ...], username: str) -> None:
    """Fill in details and the model's own fields: risk=low impact="..." planned_start=
    2026-12-01T20:00Z purchase_order=PO-7 (a name that is not a detail is a field of the model;
    fields.NAME=... says so explicitly). Moments are read as everywhere: UTC unless an offset
    follows."""
    form: dict[str, str] = {}
    for assignment in assignments:
        name, sep, value = assignment.partition("=")
        name = name.strip()
        if not sep or not name:
            raise click.BadParameter(f"{assignment!r}: use name=value")
        form[name if name in DETAIL_FIELDS or name.startswith("fields.") else f"fields.{name}"] = \
            value
    with open_db() as database:
        changes.update_change(database, key, username, change_details(form))
    click.echo(f"{key} updated: {', '.join(n.removeprefix('fields.') for n in form)}")


@change.command("register")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@acting_user
@friendly
def change_register(file: Path, username: str) -> None:
    """Register a change from a YAML or JSON file: model, title, operations and details."""
    try:
        data = load_yaml(file.read_text(encoding="utf-8"))
    except (yaml.YAMLError, ValueError) as exc:  # also over a limit; not UTF-8; 2001-13-01
        raise click.ClickException(f"{file}: not valid YAML/JSON: {exc}") from exc
    if not isinstance(data, dict) or "model" not in data or "title" not in data:
        raise click.ClickException(f"{file}: expected a mapping with model, title and operations")
    model, title = data.pop("model"), data.pop("title")
    operations = data.pop("operations", [])
    with open_db() as database:
        s = changes.register_change(database, username, model=model, title=title,
                                            operations=operations, **data)
    click.echo(f"registered {s.key}: {s.title} [{s.state_label}]")
