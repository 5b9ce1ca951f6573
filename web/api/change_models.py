"""Change models over the API: the list, each model in full, and for process designers the life of
a version: save a draft (new or replacing a draft's text), publish a draft (then it never changes)
and retire a published version."""

from __future__ import annotations

from usm.services import change_models
from usm.services.change_models import list_change_model_versions
from web.api.auth import roles_required
from web.api.blueprint import bp
from web.api.documents import DocumentApi, Operation
from web.api.schemas.change_models import (
    ChangeModelDetail,
    ChangeModelList,
    ChangeModelSource,
    ChangeModelSummary,
    ChangeModelVersionQuery,
    ChangeSetOut,
    FieldOut,
    GuardOut,
    StateOut,
    TransitionOut,
)
from web.api.spec import api_spec, responses
from web.support import access
from web.support.context import database

TAGS = ["change models"]
# Designers edit models; coordinators read them to know what a model asks.
READERS = (*access.DESIGNERS, access.COORDINATOR)


@bp.get("/workflow-definitions")
@roles_required(*READERS)
@api_spec.validate(resp=responses(HTTP_200=ChangeModelList), tags=TAGS,
                   operation_id="listDefinitions")
def definitions() -> ChangeModelList:
    """Every change model version"""
    return ChangeModelList(definitions=[ChangeModelSummary(**vars(r))
                                       for r in list_change_model_versions(database())])


@bp.get("/workflow-definitions/<code>")
@roles_required(*READERS)
@api_spec.validate(query=ChangeModelVersionQuery, resp=responses(
    "HTTP_404", HTTP_200=ChangeModelDetail), tags=TAGS, operation_id="getDefinition")
def definition(code: str, query: ChangeModelVersionQuery) -> ChangeModelDetail:
    """A change model in full: states, transitions with roles and guards, fields"""
    return change_model_out(change_models.change_model_document(database(), code, query.version))


def change_model_out(row: change_models.ChangeModelDocument) -> ChangeModelDetail:
    """A stored version as the API shows it."""
    d = row.definition
    return ChangeModelDetail(
        code=row.code, version=row.version, name=row.name, change_class=row.change_class,
        status=row.status, published_at=row.published_at, description=d.description,
        pre_authorised=d.pre_authorised, approvers=list(d.approvers),
        change_set=ChangeSetOut(operations=list(d.change_set.operations),
                                classes=d.change_set.classes),
        fields=[FieldOut(name=f.name, label=f.label, type=f.type, help=f.help)
                for f in d.fields],
        initial=d.initial,
        states=[StateOut(name=s.name, step=s.step.value, label=s.title,
                         time_target_hours=s.time_target_hours) for s in d.states],
        transitions=[TransitionOut(
            trigger=t.trigger, label=t.title, source=list(t.source), dest=t.dest,
            roles=list(t.roles), guards=[GuardOut(name=g.name, params=dict(g.params))
                                         for g in t.guards], auto=t.auto)
            for t in d.transitions],
        source=row.source,
    )


def _answer(code: str, version: int) -> ChangeModelDetail:
    return change_model_out(change_models.change_model_document(database(), code, version))


DocumentApi(
    documents=change_models.CHANGE_MODELS, path="/workflow-definitions",
    version_path="/workflow-definitions/<code>/versions/<int:version>", tags=TAGS,
    source=ChangeModelSource, detail=ChangeModelDetail, answer=_answer,
    location="api.definition",
    create=Operation(
        "create_draft", "createDefinitionDraft",
        "Save a definition (YAML) as a new draft of its model",
        "The draft gets its model's next version number (1 for a new model), whatever version the "
        "text names. It is checked against the CHM skeleton first; a refused text stores nothing."),
    update=Operation(
        "update_draft", "updateDefinitionDraft",
        "Replace the text of a draft",
        "A published or retired version never changes: 409. The text keeps the draft's code and "
        "version number."),
    publish=Operation(
        "publish", "publishDefinition",
        "Publish a draft: new changes of the model start on it; it never changes again",
        "Changes already under way keep the version they started with."),
    retire=Operation("retire", "retireDefinition",
                     "Retire a published version: no new change starts on it; changes under way "
                     "keep it"),
).add_routes()
