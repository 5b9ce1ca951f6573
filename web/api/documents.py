"""The life of a versioned document over the API, for change models and item classes alike: save a
draft (a new document or its next version), replace a draft's text, publish it, retire it.

One implementation of the four operations; each kind gives its paths, schemas, words and how a
version is answered (``DocumentApi``). Refusals are the services' own: a refused text is a 422
naming every problem, a version that is not a draft a 409, a missing one a 404; nothing is
stored on a refusal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import url_for
from pydantic import BaseModel

from usm.services.documents import Lifecycle
from web.api.auth import holder, roles_required
from web.api.blueprint import bp
from web.api.spec import api_spec, responses
from web.support import access
from web.support.context import database

REFUSALS = ("HTTP_400", "HTTP_404", "HTTP_409", "HTTP_415")


@dataclass(frozen=True)
class Operation:
    endpoint: str
    operation_id: str
    summary: str
    description: str = ""

    @property
    def doc(self) -> str:
        """As a view's docstring, which spectree reads: the summary, then the description."""
        return f"{self.summary}\n\n{self.description}" if self.description else self.summary


@dataclass(frozen=True)
class DocumentApi:
    documents: Lifecycle[Any]
    path: str  # the collection, e.g. "/item-classes"
    version_path: str  # one version, e.g. "/item-classes/<code>/versions/<int:version>"
    tags: list[str]
    source: type[BaseModel]  # the request body: ``{"source": "...yaml..."}``
    detail: type[BaseModel]  # the answer
    answer: Callable[[str, int], BaseModel]  # one version as ``detail``
    location: str  # the endpoint a new draft's ``Location`` names
    create: Operation
    update: Operation
    publish: Operation
    retire: Operation

    def add_routes(self) -> None:
        documents, answer = self.documents, self.answer

        def create(json: Any) -> Any:
            saved = documents.save_new_draft(database(), json.source, by=holder().username,
                                             where="source")
            return answer(saved.code, saved.version), 201, {
                "Location": url_for(self.location, code=saved.code, version=saved.version)}

        def update(code: str, version: int, json: Any) -> Any:
            documents.update_draft(database(), code, version, json.source)
            return answer(code, version)

        def publish(code: str, version: int) -> Any:
            documents.publish(database(), code, version, by=holder().username)
            return answer(code, version)

        def retire(code: str, version: int) -> Any:
            documents.retire(database(), code, version)
            return answer(code, version)

        for view, operation, rule, method, body, ok in (
                (create, self.create, self.path, "POST", self.source, "HTTP_201"),
                (update, self.update, self.version_path, "PUT", self.source, "HTTP_200"),
                (publish, self.publish, f"{self.version_path}/publish", "POST", None, "HTTP_200"),
                (retire, self.retire, f"{self.version_path}/retire", "POST", None, "HTTP_200")):
            view.__doc__, view.__name__ = operation.doc, operation.endpoint
            if body is not None:  # spectree hands the validated body to a parameter typed so
                view.__annotations__ = {**view.__annotations__, "json": body}
            errors = REFUSALS if rule != self.path else ("HTTP_400", "HTTP_409", "HTTP_415")
            validated = api_spec.validate(json=body, resp=responses(*errors, **{ok: self.detail}),
                                          tags=self.tags, operation_id=operation.operation_id)
            bp.add_url_rule(rule, operation.endpoint,
                            roles_required(*access.DESIGNERS)(validated(view)), methods=[method])
