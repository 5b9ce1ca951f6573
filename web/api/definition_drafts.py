"""Editing change models over the API: save a draft (new or replacing a draft's text), publish a
draft (then it never changes) and retire a published version. For process designers.

A text that breaks the CHM skeleton is a 422 whose fields list every problem, each naming the
state, transition or guard; editing a published version is a 409. Nothing is stored on a refusal.
"""

from __future__ import annotations

from typing import Any

from flask import url_for

from usm.services import change_models as versions
from web.api.auth import roles_required
from web.api.blueprint import bp
from web.api.definitions import TAGS, definition_out
from web.api.schemas.definitions import DefinitionDetail, DefinitionSource
from web.api.spec import api_spec, responses
from web.support import access
from web.support.context import database

VERSION = "/workflow-definitions/<code>/versions/<int:version>"


@bp.post("/workflow-definitions")
@roles_required(*access.DESIGNERS)
@api_spec.validate(json=DefinitionSource, resp=responses(
    "HTTP_400", "HTTP_409", "HTTP_415", HTTP_201=DefinitionDetail), tags=TAGS,
    operation_id="createDefinitionDraft")
def create_draft(json: DefinitionSource) -> Any:
    """Save a definition (YAML) as a new draft of its model

    The draft gets its model's next version number (1 for a new model), whatever version the text
    names. It is checked against the CHM skeleton first; a refused text stores nothing.
    """
    saved = versions.save_new_draft(database(), json.source)
    return _answer(saved.code, saved.version, 201)


@bp.put(VERSION)
@roles_required(*access.DESIGNERS)
@api_spec.validate(json=DefinitionSource, resp=responses(
    "HTTP_400", "HTTP_404", "HTTP_409", "HTTP_415", HTTP_200=DefinitionDetail), tags=TAGS,
    operation_id="updateDefinitionDraft")
def update_draft(code: str, version: int, json: DefinitionSource) -> Any:
    """Replace the text of a draft

    A published or retired version never changes: 409. The text keeps the draft's code and
    version number.
    """
    versions.update_draft(database(), code, version, json.source)
    return _answer(code, version)


@bp.post(f"{VERSION}/publish")
@roles_required(*access.DESIGNERS)
@api_spec.validate(resp=responses("HTTP_400", "HTTP_404", "HTTP_409", "HTTP_415",
                                  HTTP_200=DefinitionDetail), tags=TAGS,
                   operation_id="publishDefinition")
def publish(code: str, version: int) -> Any:
    """Publish a draft: new changes of the model start on it; it never changes again

    Changes already under way keep the version they started with.
    """
    versions.publish(database(), code, version)
    return _answer(code, version)


@bp.post(f"{VERSION}/retire")
@roles_required(*access.DESIGNERS)
@api_spec.validate(resp=responses("HTTP_400", "HTTP_404", "HTTP_409", "HTTP_415",
                                  HTTP_200=DefinitionDetail), tags=TAGS,
                   operation_id="retireDefinition")
def retire(code: str, version: int) -> Any:
    """Retire a published version: no new change starts on it; changes under way keep it"""
    versions.retire(database(), code, version)
    return _answer(code, version)


def _answer(code: str, version: int, status: int = 200) -> tuple[DefinitionDetail, int,
                                                                  dict[str, str]]:
    detail = definition_out(versions.change_model_document(database(), code, version))
    headers = {}
    if status == 201:
        headers["Location"] = url_for("api.definition", code=code, version=version)
    return detail, status, headers
