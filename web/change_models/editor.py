"""Process designers' editing screens: a draft's YAML and structured form (checked on every save,
the diagram redrawn from what was saved), the versions' life (new draft, publish, retire,
discard), the comparison with the published version, and import/export as YAML files.

Every save goes through ``usm.services.definition_versions``, which checks the text against the
CHM skeleton; a refused save stores nothing and shows every problem next to the editor.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import (
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from markupsafe import Markup

from usm.services import change_models as versions
from usm.services.change_models import (
    DefinitionError,
    DefinitionNotFound,
    DefinitionRefused,
    StateForm,
    TransitionForm,
    diff_against_published,
    remove_state,
    remove_transition,
    set_states,
    set_transition,
)
from usm.services.platform import Database
from web.change_models.blueprint import bp
from web.support import access
from web.support.context import database
from web.support.diagram import render_svg
from web.support.live_check import problems_answer
from web.support.security import roles_required
from web.support.yaml_upload import uploaded_yaml

MAX_UPLOAD_BYTES = 512 * 1024
VERSION = "/definitions/<code>/<int:version>"


@bp.get(f"{VERSION}/edit")
@roles_required(*access.DESIGNERS)
def edit(code: str, version: int) -> ResponseReturnValue:
    return _editor(code, version)


@bp.post(f"{VERSION}/edit")
@roles_required(*access.DESIGNERS)
def save_yaml(code: str, version: int) -> ResponseReturnValue:
    return _save(code, version, request.form.get("source", ""))


@bp.post(f"{VERSION}/check")
@roles_required(*access.DESIGNERS)
def check(code: str, version: int) -> ResponseReturnValue:
    """The YAML being typed, checked as a save would check it; nothing is stored."""
    _known_version(code, version)
    try:
        return problems_answer(
            lambda source: versions.draft_problems(database(), code, version, source))
    except DefinitionNotFound as exc:
        abort(404, description=f"{str(exc).capitalize()}.")


@bp.post(f"{VERSION}/transition")
@roles_required(*access.DESIGNERS)
def save_transition(code: str, version: int) -> ResponseReturnValue:
    form = request.form
    proposal = TransitionForm(
        trigger=form.get("trigger", ""), label=form.get("label", ""),
        sources=form.getlist("sources"), dest=form.get("dest", ""),
        roles=form.getlist("roles"), auto=form.get("auto") == "on",
        required_fields=form.get("required_fields", ""), approvals=form.get("approvals", ""),
        cost_at_most=form.get("cost_at_most", ""), risk_at_most=form.get("risk_at_most", ""),
        flags=form.getlist("flags"))
    return _save_edit(code, version, lambda source: set_transition(
        source, proposal, original=form.get("original") or None))


@bp.post(f"{VERSION}/states")
@roles_required(*access.DESIGNERS)
def save_states(code: str, version: int) -> ResponseReturnValue:
    form = request.form
    targets = {key.removeprefix("target-"): value for key, value in form.items()
               if key.startswith("target-")}
    new_state = StateForm(name=form.get("new_name", ""), step=form.get("new_step", ""),
                          label=form.get("new_label", ""),
                          time_target_hours=form.get("new_target", ""))
    return _save_edit(code, version, lambda source: set_states(source, targets, new_state))


@bp.post(f"{VERSION}/transition/remove")
@roles_required(*access.DESIGNERS)
def drop_transition(code: str, version: int) -> ResponseReturnValue:
    return _save_edit(code, version,
                      lambda source: remove_transition(source, request.form.get("original", "")))


@bp.post(f"{VERSION}/states/remove")
@roles_required(*access.DESIGNERS)
def drop_state(code: str, version: int) -> ResponseReturnValue:
    name = request.form.get("remove_state", "")
    try:
        text, triggers = remove_state(_current_source(code, version), name)
    except DefinitionError as exc:
        return _editor(code, version, problems=exc.problems, status=422)
    done = ngettext("State %(state)s is removed, with the transition %(triggers)s.",
                    "State %(state)s is removed, with the transitions %(triggers)s.",
                    len(triggers), state=name, triggers=", ".join(triggers)) if triggers else \
        _("State %(state)s is removed.", state=name)
    return _save(code, version, text, done=done)


@bp.post(f"{VERSION}/new-draft")
@roles_required(*access.DESIGNERS)
def new_draft(code: str, version: int) -> ResponseReturnValue:
    try:
        saved = versions.draft_from(database(), code, version)
    except DefinitionNotFound as exc:
        abort(404, description=f"{str(exc).capitalize()}.")
    except (DefinitionError, DefinitionRefused) as exc:
        flash(_("No draft was made: %(problem)s", problem=exc), "error")
        return redirect(url_for("change_models.definition", code=code, version=version))
    flash(_("Draft version %(draft)s made from version %(version)s; edit it here.",
            draft=saved.version, version=version), "success")
    return redirect(url_for("change_models.edit", code=code, version=saved.version))


@bp.post(f"{VERSION}/publish")
@roles_required(*access.DESIGNERS)
def publish(code: str, version: int) -> ResponseReturnValue:
    return _status_change(code, version, versions.publish,
                          _l("Version %(v)s is published: new changes start on it, and it no "
                             "longer changes. Changes already under way keep their version."))


@bp.post(f"{VERSION}/retire")
@roles_required(*access.DESIGNERS)
def retire(code: str, version: int) -> ResponseReturnValue:
    return _status_change(code, version, versions.retire,
                          _l("Version %(v)s is retired: no new change starts on it; changes under "
                             "way keep it."))


@bp.post(f"{VERSION}/discard")
@roles_required(*access.DESIGNERS)
def discard(code: str, version: int) -> ResponseReturnValue:
    try:
        versions.discard_draft(database(), code, version)
    except DefinitionNotFound as exc:
        abort(404, description=f"{str(exc).capitalize()}.")
    except DefinitionRefused as exc:
        flash(str(exc), "error")
        return redirect(url_for("change_models.definition", code=code, version=version))
    flash(_("Draft version %(version)s of %(code)s is discarded.", version=version, code=code),
          "success")
    return redirect(url_for("change_models.definitions"))


@bp.get(f"{VERSION}/diff")
@roles_required(*access.DESIGNERS)
def diff(code: str, version: int) -> ResponseReturnValue:
    _known_version(code, version)
    try:
        found = diff_against_published(database(), code, version)
    except DefinitionNotFound as exc:
        abort(404, description=f"{str(exc).capitalize()}.")
    return render_template("change_models/diff.html", diff=found)


@bp.get(f"{VERSION}.yaml")
@roles_required(*access.DESIGNERS)
def download(code: str, version: int) -> ResponseReturnValue:
    source = _current_source(code, version)
    return Response(source, mimetype="application/yaml", headers={
        "Content-Disposition": f'attachment; filename="{code}-v{version}.yaml"'})


@bp.get("/definitions/import")
@roles_required(*access.DESIGNERS)
def import_form() -> ResponseReturnValue:
    return render_template("change_models/import.html", problems=[], source="")


@bp.post("/definitions/import")
@roles_required(*access.DESIGNERS)
def import_file() -> ResponseReturnValue:
    name, source, problems = uploaded_yaml(
        MAX_UPLOAD_BYTES, _("file: choose a YAML file or paste the definition"))
    if problems:
        return _import_problems(problems, source)
    try:
        saved = versions.save_new_draft(database(), source, where=name)
    except (DefinitionError, DefinitionRefused) as exc:
        problems = exc.problems if isinstance(exc, DefinitionError) else [str(exc)]
        return _import_problems(problems, source)
    flash(_("Imported %(name)s as draft version %(version)s of %(code)s.", name=name,
            version=saved.version, code=saved.code), "success")
    return redirect(url_for("change_models.edit", code=saved.code, version=saved.version))


def _import_problems(problems: list[str], source: str) -> ResponseReturnValue:
    return render_template("change_models/import.html", problems=problems, source=source), 422


def _save_edit(code: str, version: int, edit: Callable[[str], str]) -> ResponseReturnValue:
    """Saves a form edit of the draft's text; an edit the form refuses stores nothing."""
    try:
        text = edit(_current_source(code, version))
    except DefinitionError as exc:
        return _editor(code, version, problems=exc.problems, status=422)
    return _save(code, version, text)


def _save(code: str, version: int, source: str, *, done: str | None = None
          ) -> ResponseReturnValue:
    try:
        versions.update_draft(database(), code, version, source)
    except DefinitionNotFound as exc:
        abort(404, description=f"{str(exc).capitalize()}.")
    except DefinitionRefused as exc:
        return _editor(code, version, problems=[str(exc)], source=source, status=409)
    except DefinitionError as exc:
        return _editor(code, version, problems=exc.problems, source=source, status=422)
    if done:
        flash(done, "success")
    flash(_("Saved draft version %(version)s: it passes every check against the CHM skeleton.",
            version=version),
          "success")
    return redirect(url_for("change_models.edit", code=code, version=version))


def _status_change(code: str, version: int,
                   action: Callable[[Database, str, int], versions.SavedVersion],
                   message: object) -> ResponseReturnValue:
    try:
        action(database(), code, version)
    except DefinitionNotFound as exc:
        abort(404, description=f"{str(exc).capitalize()}.")
    except DefinitionRefused as exc:
        flash(str(exc), "error")
    except DefinitionError as exc:
        flash(_("Not published: %(problems)s", problems="; ".join(exc.problems)), "error")
    else:
        flash(str(message) % {"v": version}, "success")
    return redirect(url_for("change_models.definition", code=code, version=version))


def _known_version(code: str, version: int) -> None:
    """A version number no database column can hold names no version (404, not a failure)."""
    if version > versions.MAX_VERSION:
        abort(404, description=_("There is no change model %(code)s version %(version)s.",
                                 code=code, version=version))


def _current_source(code: str, version: int) -> str:
    try:
        return versions.version_source(database(), code, version)
    except DefinitionNotFound as exc:
        abort(404, description=f"{str(exc).capitalize()}.")


def _editor(code: str, version: int, *, problems: list[str] | None = None,
            source: str | None = None, status: int = 200) -> ResponseReturnValue:
    _known_version(code, version)
    try:
        view = versions.editor(database(), code, version)
    except DefinitionNotFound as exc:
        abort(404, description=f"{str(exc).capitalize()}.")
    # The SVG is built with ElementTree, which escapes every piece of designer-written text.
    diagram = Markup(render_svg(view.detail))
    return render_template("change_models/edit.html", e=view, d=view.detail, diagram=diagram,
                           problems=problems or [],
                           source=view.detail.source if source is None else source), status
