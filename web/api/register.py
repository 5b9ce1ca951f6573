"""The register (BIR) over the API: items now or as of a moment, their history and relations,
item classes and services. Read only: the register changes through changes."""

from __future__ import annotations

from typing import Any

from flask import request, url_for

from usm.services import register
from usm.services.register import ItemFilter, ItemView
from web.api.auth import holder, roles_required
from web.api.blueprint import bp
from web.api.errors import ApiError
from web.api.pagination import after_key, page_of
from web.api.schemas.common import money_text
from web.api.schemas.register import (
    AsOfQuery,
    BulkIn,
    BulkOut,
    Configuration,
    FieldChangeOut,
    Financial,
    HistoryEntry,
    ItemDetail,
    ItemHistory,
    ItemPage,
    ItemRelations,
    ItemsQuery,
    ItemSummary,
    PendingChange,
    RelationOut,
    ServiceDetail,
    ServicePage,
    ServiceRef,
    ServicesQuery,
    SupportingItem,
)
from web.api.spec import api_spec, responses
from web.support import access
from web.support.context import database

MONEY_FIELDS = ("purchase_cost", "residual_value", "recurring_cost", "disposal_proceeds")
TAGS = ["register"]


@bp.get("/items")
@roles_required(*access.REGISTER_READERS)
@api_spec.validate(query=ItemsQuery, resp=responses(HTTP_200=ItemPage), tags=TAGS,
                   operation_id="listItems")
def list_items(query: ItemsQuery) -> ItemPage:
    """List register items, filtered and sorted

    Sorted by `sort` (then by key; empty values last) ascending or descending, as the register
    page sorts, and keyset-paginated: follow `next`, whose cursor holds the sort and the last
    row's place, so every item comes exactly once. With `as_of`, the register as it stood at that
    moment.
    """
    search = register.SearchQuery(
        text=query.q, class_code=query.class_code, status=query.status, owner=query.owner,
        location=query.location, cost_centre=query.cost_centre, sort=query.sort,
        descending=query.order == "desc", after=query.cursor, limit=query.limit,
        as_of=query.as_of)
    if query.cursor is not None:
        try:
            register.decode_cursor(search, query.cursor)
        except register.BadQuery as exc:
            raise ApiError(422, "invalid_request", str(exc), [("cursor", str(exc))]) from exc
    page = register.search_items(database(), search)
    next_url = None
    if page.next_cursor:
        args = {k: v for k, v in request.args.to_dict(flat=False).items() if k != "cursor"}
        next_url = url_for("api.list_items", **args, cursor=page.next_cursor)
    return ItemPage(items=[ItemSummary(**vars(r)) for r in page.rows], total=page.total,
                    as_of=query.as_of, next=next_url)


@bp.post("/register/bulk")
@roles_required(*access.CHANGE_EDITORS)
@api_spec.validate(json=BulkIn, resp=responses("HTTP_400", "HTTP_409", "HTTP_415",
                                               HTTP_201=BulkOut), tags=TAGS,
                   operation_id="createBulkChange")
def bulk_change(json: BulkIn) -> Any:
    """One change for many items: set status, assign, move or retire a selection

    The selection is `keys` or a register `filter` (however many items it finds, read now).
    Items that already have the value are left out. Status moves go by the register's rules:
    if any selected item cannot make the move, nothing is registered and the 422 names them
    (the first 20) and counts them. The change (a standard change; an asset retirement for
    `retire`) is carried through its steps as far as its model allows, as the caller; `blocked`
    says where it waits for a person.
    """
    chosen = json.selection
    if chosen.keys is not None:
        selection = register.select_keys(chosen.keys)
    else:
        assert chosen.filter is not None
        selection = register.select_matching(
            chosen.filter.model_dump(by_alias=True, exclude_none=True))
    done = register.run_bulk(database(), holder().username, selection,
                             register.bulk_action(json.action, json.value))
    carried = done.carried
    out = BulkOut(key=carried.key, model=done.model, count=done.count, unchanged=done.unchanged,
                  state=carried.state, state_label=carried.state_label, step=carried.step,
                  reached=carried.reached, blocked=list(carried.blocked))
    return out, 201, {"Location": url_for("api.get_change", key=carried.key)}


@bp.get("/items/<key>")
@roles_required(*access.REGISTER_READERS)
@api_spec.validate(query=AsOfQuery, resp=responses("HTTP_404", HTTP_200=ItemDetail), tags=TAGS,
                   operation_id="getItem")
def get_item(key: str, query: AsOfQuery) -> ItemDetail:
    """One item: core, configuration, financial and class attributes

    With `as_of`, the version registered at that moment (404 if the item did not exist yet).
    """
    return _item_detail(register.item_view(database(), key, as_of=query.as_of))


def _item_detail(view: ItemView) -> ItemDetail:
    financial = {name: money_text(value) if name in MONEY_FIELDS else value
                 for name, value in view.financial.items()}
    return ItemDetail(
        key=view.key, class_code=view.class_code, class_name=view.class_name,
        version=view.version, valid_from=view.valid_from, valid_to=view.valid_to,
        as_of=view.as_of, **view.core, configuration=Configuration(**view.configuration),
        financial=Financial(**financial),
        attributes={name: value for name, _label, value, _unit in view.attributes},
        services=[ServiceRef(key=k, name=n) for k, n in view.services],
        pending_changes=[PendingChange(key=k, title=t, step=s)
                         for k, t, s in view.pending_changes],
    )


@bp.get("/items/<key>/history")
@roles_required(*access.REGISTER_READERS)
@api_spec.validate(resp=responses("HTTP_404", HTTP_200=ItemHistory), tags=TAGS,
                   operation_id="getItemHistory")
def item_history(key: str) -> ItemHistory:
    """Every version of an item, oldest first, with the change that made it"""
    rows = register.item_history(database(), key)
    return ItemHistory(key=key.strip().upper(), versions=[
        HistoryEntry(version=r.version, valid_from=r.valid_from, valid_to=r.valid_to,
                     change_key=r.change_key, change_title=r.change_title,
                     changes=[FieldChangeOut(field=c.field, old=c.old, new=c.new)
                              for c in r.changes])
        for r in rows])


@bp.get("/items/<key>/relations")
@roles_required(*access.REGISTER_READERS)
@api_spec.validate(query=AsOfQuery, resp=responses("HTTP_404", HTTP_200=ItemRelations),
                   tags=TAGS, operation_id="getItemRelations")
def item_relations(key: str, query: AsOfQuery) -> ItemRelations:
    """An item's relations, both ways, now or as of a moment"""
    view = register.item_view(database(), key, as_of=query.as_of)
    return ItemRelations(key=view.key, as_of=query.as_of, relations=[
        RelationOut(kind=r.kind, label=r.label, direction="outgoing" if r.outgoing else "incoming",
                    key=r.key, name=r.name, class_code=r.class_code, attributes=r.attributes)
        for r in view.relations])


@bp.get("/services")
@roles_required(*access.REGISTER_READERS)
@api_spec.validate(query=ServicesQuery, resp=responses(HTTP_200=ServicePage), tags=TAGS,
                   operation_id="listServices")
def list_services(query: ServicesQuery) -> ServicePage:
    """The services in the register (items of class service)"""
    flt = ItemFilter(class_code=register.SERVICE_CLASS, status=query.status)
    rows, total = register.list_items(database(), flt, after=after_key(query.cursor),
                                      limit=query.limit + 1)
    shown, next_url = page_of(rows, query.limit)
    return ServicePage(services=[ItemSummary(**vars(r)) for r in shown], total=total,
                       next=next_url)


@bp.get("/services/<key>")
@roles_required(*access.REGISTER_READERS)
@api_spec.validate(resp=responses("HTTP_404", HTTP_200=ServiceDetail), tags=TAGS,
                   operation_id="getService")
def get_service(key: str) -> ServiceDetail:
    """A service and the items that support it (through the relation graph)"""
    view = register.service_view(database(), key)
    service = view.service
    supporting = sorted((s.item for g in view.groups for s in g.items), key=lambda i: i.key)
    return ServiceDetail(key=service.key, name=service.name, status=service.status,
                         owner=service.owner, cost_centre=service.cost_centre,
                         supporting=[SupportingItem(key=i.key, name=i.name, class_code=i.class_code,
                                                    status=i.status) for i in supporting])
