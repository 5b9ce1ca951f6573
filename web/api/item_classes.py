"""Editing item classes over the API: save a draft (new class or a new version), replace a
draft's definition, publish it (the register uses it from then on; it never changes again),
retire a draft or an unused class, read and export versions. For process designers.

A refused definition is a 422 whose fields list every problem, each naming the class and the
attribute; editing a version that is not a draft is a 409. Nothing is stored on a refusal.
"""

from __future__ import annotations

from flask import Response

from usm.services import item_classes
from web.api.auth import roles_required
from web.api.blueprint import bp
from web.api.documents import DocumentApi, Operation
from web.api.errors import ApiError
from web.api.schemas.item_classes import (
    AttributeOut,
    ClassAttributeOut,
    ClassSource,
    ClassVersionDetail,
    ClassVersionList,
    ClassVersionSummary,
    ItemClassList,
    ItemClassOut,
)
from web.api.spec import api_spec, responses
from web.support import access
from web.support.context import database

TAGS = ["item classes"]
# No upper bound in the route: GET and PUT share this path, and a number a bounded converter
# refuses would be a 405 for PUT (werkzeug notes the GET rule first); the service answers any
# version outside the column's range as not found (404).
VERSION = "/item-classes/<code>/versions/<int(max=None):version>"


@bp.get("/item-classes")
@roles_required(*access.REGISTER_READERS)
@api_spec.validate(resp=responses(HTTP_200=ItemClassList), tags=TAGS,
                   operation_id="listItemClasses")
def list_item_classes() -> ItemClassList:
    """Every item class with the attributes its items carry (inherited ones included)"""
    return ItemClassList(classes=[_class_out(c) for c in item_classes.list_item_classes(database())])


@bp.get("/item-classes/<code>")
@roles_required(*access.REGISTER_READERS)
@api_spec.validate(resp=responses("HTTP_404", HTTP_200=ItemClassOut), tags=TAGS,
                   operation_id="getItemClass")
def get_item_class(code: str) -> ItemClassOut:
    """One item class"""
    return _class_out(item_classes.item_class(database(), code))


def _class_out(row: item_classes.ItemClassRow) -> ItemClassOut:
    return ItemClassOut(
        code=row.code, name=row.name, parent_code=row.parent_code, key_prefix=row.key_prefix,
        abstract=row.abstract, description=row.description,
        attributes=[AttributeOut(**vars(a)) for a in row.attributes])


@bp.get("/item-classes/<code>/versions")
@roles_required(*access.DESIGNERS)
@api_spec.validate(resp=responses("HTTP_404", HTTP_200=ClassVersionList), tags=TAGS,
                   operation_id="listItemClassVersions")
def list_class_versions(code: str) -> ClassVersionList:
    """Every version of a class, newest first, with its status"""
    found = next((c for c in item_classes.list_classes(database()) if c.code == code), None)
    if found is None:
        raise ApiError(404, "not_found", f"there is no item class {code}")
    return ClassVersionList(code=found.code, published_version=found.published_version,
                            versions=[ClassVersionSummary(**vars(v)) for v in found.versions])


@bp.get(VERSION)
@roles_required(*access.DESIGNERS)
@api_spec.validate(resp=responses("HTTP_404", HTTP_200=ClassVersionDetail), tags=TAGS,
                   operation_id="getItemClassVersion")
def get_class_version(code: str, version: int) -> ClassVersionDetail:
    """One version of a class: its definition, status and YAML"""
    return _detail(code, version)


@bp.get(f"{VERSION}/export")
@roles_required(*access.DESIGNERS)
@api_spec.validate(resp=responses("HTTP_404", HTTP_200=None), tags=TAGS,
                   operation_id="exportItemClassVersion")
def export_class_version(code: str, version: int) -> Response:
    """Download a version as a YAML file (what `POST /item-classes` and `usm classes import`
    read back)"""
    source = item_classes.version_yaml(database(), code, version)
    return Response(source, mimetype="application/yaml", headers={
        "Content-Disposition": f'attachment; filename="{code}-v{version}.yaml"'})


def _detail(code: str, version: int) -> ClassVersionDetail:
    view = item_classes.class_version(database(), code, version)
    spec = view.spec
    return ClassVersionDetail(
        code=view.code, version=view.version, status=view.status, created_by=view.created_by,
        created_at=view.created_at, published_at=view.published_at, name=spec.name,
        parent_code=spec.parent_code, key_prefix=spec.key_prefix, abstract=spec.abstract,
        description=spec.description, source=view.yaml,
        attributes=[ClassAttributeOut(**a.model_dump(mode="json")) for a in spec.attributes])


DocumentApi(
    documents=item_classes.ITEM_CLASSES, path="/item-classes", version_path=VERSION, tags=TAGS,
    source=ClassSource, detail=ClassVersionDetail, answer=_detail,
    location="api.get_class_version",
    create=Operation(
        "create_class_draft", "createItemClassDraft",
        "Save a class (YAML) as a new draft: the class's next version, or version 1 of a new class",
        "A dotted code makes a subclass of a published class (`hardware.tablet`). The definition is "
        "checked on its own and against the items registered now; a refused one stores nothing."),
    update=Operation(
        "update_class_draft", "updateItemClassDraft",
        "Replace the definition of a draft",
        "Only a draft changes: a published, superseded or retired version is a 409. The code stays."),
    publish=Operation(
        "publish_class", "publishItemClass",
        "Publish a draft: the register validates items against it from now on",
        'The version it replaces is kept as "superseded". Checked again against the items '
        "registered now (422 when they no longer fit)."),
    retire=Operation(
        "retire_class", "retireItemClass",
        "Retire a draft, or the published version of a class nothing uses (no item ever, no "
        "subclass, no change model naming it): 409 otherwise"),
).add_routes()
