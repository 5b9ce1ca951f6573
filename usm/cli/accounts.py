"""``usm user`` and ``usm token``: users with their roles, and personal API tokens."""

from __future__ import annotations

import click

from usm.cli.support import friendly, open_db, parse_moment, print_table
from usm.services.accounts import add_user


@click.group()
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

@click.group()
def token() -> None:
    """Personal API tokens for /api/v1 (stored hashed; shown once when made)."""


@token.command("create")
@click.argument("username")
@click.option("--name", required=True, help="What the token is for, e.g. 'discovery agent'")
@click.option("--expires", help="When it stops working (ISO date or date-time; UTC unless a "
                                "zone is given); never when left out")
@click.option("--as", "maker", envvar="USM_USER",
              help="Who makes it (or set USM_USER); USERNAME by default. Only an administrator, "
                   "and only where USM_ALLOW_ACT_AS=1, makes one for another user.")
@friendly
def token_create(username: str, name: str, expires: str | None, maker: str | None) -> None:
    """Make a token for USERNAME; it acts with that user's roles."""
    from usm.config import allow_act_as
    from usm.services.accounts import create_token
    from usm.services.audit_log import CLI, Origin

    maker = maker or username
    with open_db() as database:
        made = create_token(database, username, name,
                            expires_at=parse_moment(expires) if expires else None,
                            created_by=maker, allow_act_as=allow_act_as(),
                            origin=Origin(maker, via=CLI))
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
