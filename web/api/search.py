"""The search across the register, the changes and the people over the API: the groups and the
exact key the web's search in the header shows the same user."""

from __future__ import annotations

from flask import url_for

from usm.services import search
from web.api.auth import holder, roles_required
from web.api.blueprint import bp
from web.api.schemas.search import (
    ChangeGroup,
    ChangeHit,
    ItemGroup,
    ItemHit,
    PersonGroup,
    PersonHit,
    SearchOut,
    SearchQuery,
    Target,
)
from web.api.spec import api_spec, responses
from web.support import access
from web.support.context import database

TAGS = ["search"]


@bp.get("/search")
@roles_required()
@api_spec.validate(query=SearchQuery, resp=responses(HTTP_200=SearchOut), tags=TAGS,
                   operation_id="search")
def search_everywhere(query: SearchQuery) -> SearchOut:
    """Items, changes and people matching every word of q

    Each group holds the first `limit` hits and the count of all; a group the caller's roles do
    not open is null. `exact` names the item or change whose key q is.
    """
    found = search.search_everywhere(database(), query.q, access.search_scope(holder().roles),
                                     query.limit)
    items = found.items
    return SearchOut(
        q=found.text,
        exact=Target(kind=found.exact.kind, key=found.exact.key) if found.exact else None,  # type: ignore[arg-type]
        items=None if items is None else ItemGroup(
            hits=[ItemHit(**vars(h)) for h in items.hits], total=items.total,
            all=url_for("api.list_items", q=found.text)),
        changes=None if found.changes is None else ChangeGroup(
            hits=[ChangeHit(**vars(h)) for h in found.changes.hits], total=found.changes.total),
        people=None if found.people is None else PersonGroup(
            hits=[_person(h) for h in found.people.hits], total=found.people.total))


def _person(hit: search.PersonHit) -> PersonHit:
    user = hit.kind == search.USER
    return PersonHit(kind=hit.kind, name=hit.name, username=hit.username,  # type: ignore[arg-type]
                     roles=list(hit.roles), active=hit.active if user else None,
                     items=None if user else hit.items)
