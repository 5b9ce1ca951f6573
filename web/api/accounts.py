"""Personal API tokens over the API, and the caller itself.

Any signed-in user manages their own tokens; an administrator lists and revokes anyone's, but
makes one for another user only where the deployment allows it (``USM_ALLOW_ACT_AS``): otherwise
a token is made by its own user (403). A token of another user is invisible to a
non-administrator (404, as if it did not exist).
"""

from __future__ import annotations

from typing import Any

from flask import url_for

from usm.services import accounts
from usm.services.accounts import TokenView
from web.api.auth import holder, is_administrator, roles_required
from web.api.blueprint import bp
from web.api.errors import ApiError
from web.api.schemas.accounts import CreateToken, Me, NewTokenOut, TokenList, TokenOut, TokensQuery
from web.api.spec import api_spec, responses
from web.support.auditing import allow_act_as, origin
from web.support.context import database

TAGS = ["tokens"]
TOKEN_ID = "<int(min=1, max=2147483647):token_id>"


def _out(view: TokenView) -> dict[str, Any]:
    return {**vars(view), "active": view.active(), "acting_as": view.acting_as}


def _whose(username: str | None) -> str:
    """The user a request is about: the caller, or (administrators only) someone else."""
    me = holder().username
    if username is None or username == me:
        return me
    if not is_administrator():
        raise ApiError(403, "forbidden", "only an administrator manages other users' tokens")
    return username


@bp.get("/me")
@roles_required()
@api_spec.validate(resp=responses(HTTP_200=Me), tags=TAGS, operation_id="getMe")
def me() -> Me:
    """Who the token acts for, with which roles"""
    h = holder()
    return Me(username=h.username, display_name=h.display_name, roles=sorted(h.roles),
              token=TokenOut(**_out(h.token)))


@bp.get("/tokens")
@roles_required()
@api_spec.validate(query=TokensQuery, resp=responses(HTTP_200=TokenList), tags=TAGS,
                   operation_id="listTokens")
def list_tokens(query: TokensQuery) -> TokenList:
    """Your tokens (an administrator may name another user), revoked ones included"""
    return TokenList(tokens=[TokenOut(**_out(t)) for t in
                             accounts.list_tokens(database(), _whose(query.username))])


@bp.post("/tokens")
@roles_required()
@api_spec.validate(json=CreateToken, resp=responses(
    "HTTP_400", "HTTP_415", HTTP_201=NewTokenOut), tags=TAGS, operation_id="createToken")
def create_token(json: CreateToken) -> Any:
    """Make a personal API token; the token is in this answer and never again

    Only its SHA-256 hash is stored. A token is made by its own user: making one for another
    user is refused (403), unless the deployment allows administrators to act as other users
    (USM_ALLOW_ACT_AS=1); everything done with such a token then records both.
    """
    made = accounts.create_token(database(), json.username or holder().username, json.name,
                                 expires_at=json.expires_at, created_by=holder().actor,
                                 allow_act_as=allow_act_as(), origin=origin())
    location = url_for("api.list_tokens", username=made.token.username)
    return (NewTokenOut(**_out(made.token), token=made.secret), 201, {"Location": location})


@bp.delete(f"/tokens/{TOKEN_ID}")
@roles_required()
@api_spec.validate(resp=responses("HTTP_404", HTTP_204=None), tags=TAGS,
                   operation_id="revokeToken")
def revoke_token(token_id: int) -> Any:
    """Revoke a token: it stops working at once (revoking it again changes nothing)"""
    owner = None if is_administrator() else holder().username
    accounts.revoke_token(database(), token_id, owner=owner, origin=origin())
    return "", 204
