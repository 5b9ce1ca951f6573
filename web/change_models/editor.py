"""Process designers' editing screens for change models: a draft's YAML and structured form
(checked on every save, the diagram redrawn from what was saved), the versions' life (new draft,
publish, retire, discard), the comparison with the published version, and import/export as YAML
files.

What every versioned document has is ``web.support.documents``; the change model's own is here:
the structured form (states, transitions), removing a state or a transition, discarding a draft,
and the editor with its diagram. Every save goes through ``usm.services.change_models``, which
checks the text against the CHM skeleton; a refused save stores nothing and shows every problem
next to the editor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from markupsafe import Markup

from usm.services import change_models
from usm.services.change_models import (
    ChangeModelError,
    ChangeModelRefused,
    StateForm,
    TransitionForm,
    remove_state,
    remove_transition,
    set_states,
    set_transition,
)
from web.change_models.blueprint import bp
from web.support import access
from web.support.context import database
from web.support.diagram import render_svg
from web.support.documents import DocumentScreens
from web.support.security import roles_required

VERSION = "/definitions/<code>/<int:version>"
MISSING_VERSION = _l("There is no change model %(code)s version %(version)s.")


def _editor(code: str, version: int, *, problems: list[str] | None = None,
            source: str | None = None, status: int = 200, kept: Kept | None = None
            ) -> ResponseReturnValue:
    view = change_models.editor(database(), code, version)
    # The SVG is built with ElementTree, which escapes every piece of designer-written text.
    diagram = Markup(render_svg(view.detail))
    return render_template("change_models/edit.html", e=view, d=view.detail, diagram=diagram,
                           problems=problems or [], kept=kept or Kept(),
                           source=view.detail.source if source is None else source), status


@dataclass(frozen=True)
class Kept:
    """What the designer typed into a form whose save was refused, shown again as typed: the
    states form (time targets, the new state) or one transition's form (``original`` is the
    trigger it edits, "" for a new one)."""

    targets: dict[str, str] = field(default_factory=dict)
    state: StateForm | None = None
    transition: TransitionForm | None = None
    original: str | None = None


def _transition_posted() -> TransitionForm:
    form = request.form
    return TransitionForm(
        trigger=form.get("trigger", ""), label=form.get("label", ""),
        sources=form.getlist("sources"), dest=form.get("dest", ""),
        roles=form.getlist("roles"), auto=form.get("auto") == "on",
        required_fields=form.get("required_fields", ""), approvals=form.get("approvals", ""),
        cost_at_most=form.get("cost_at_most", ""), risk_at_most=form.get("risk_at_most", ""),
        flags=form.getlist("flags"))


def _state_posted() -> StateForm:
    form = request.form
    return StateForm(name=form.get("new_name", ""), step=form.get("new_step", ""),
                     label=form.get("new_label", ""), time_target_hours=form.get("new_target", ""),
                     sources=form.getlist("new_from"), into_label=form.get("new_into_label", ""),
                     dest=form.get("new_to", ""), out_label=form.get("new_out_label", ""),
                     roles=form.getlist("new_roles"))


SCREENS = DocumentScreens(
    bp=bp, documents=change_models.CHANGE_MODELS, version_path=VERSION,
    import_path="/definitions/import", page="change_models.definition",
    templates="change_models", max_upload=512 * 1024,
    missing_file=_l("file: choose a YAML file or paste the definition"),
    saved=_l("Saved draft version %(version)s: it passes every check against the CHM skeleton."),
    published=_l("Version %(v)s is published: new changes start on it, and it no longer "
                 "changes. Changes already under way keep their version."),
    retired=_l("Version %(v)s is retired: no new change starts on it; changes under way keep "
               "it."),
    render_editor=_editor, missing_version=MISSING_VERSION)
SCREENS.add_routes()


@bp.post(f"{VERSION}/transition")
@roles_required(*access.DESIGNERS)
def save_transition(code: str, version: int) -> ResponseReturnValue:
    proposal = _transition_posted()
    original = request.form.get("original", "")
    return _save_edit(code, version, lambda source: set_transition(
        source, proposal, original=original or None),
        Kept(transition=proposal, original=original))


@bp.post(f"{VERSION}/states")
@roles_required(*access.DESIGNERS)
def save_states(code: str, version: int) -> ResponseReturnValue:
    targets = {key.removeprefix("target-"): value for key, value in request.form.items()
               if key.startswith("target-")}
    new_state = _state_posted()
    return _save_edit(code, version, lambda source: set_states(source, targets, new_state),
                      Kept(targets=targets, state=new_state))


@bp.post(f"{VERSION}/transition/remove")
@roles_required(*access.DESIGNERS)
def drop_transition(code: str, version: int) -> ResponseReturnValue:
    original = request.form.get("original", "")
    return _save_edit(code, version, lambda source: remove_transition(source, original),
                      Kept())


@bp.post(f"{VERSION}/states/remove")
@roles_required(*access.DESIGNERS)
def drop_state(code: str, version: int) -> ResponseReturnValue:
    name = request.form.get("remove_state", "")
    try:
        text, triggers = remove_state(_current_source(code, version), name)
    except ChangeModelError as exc:
        return _editor(code, version, problems=exc.problems, status=422)
    done = ngettext("State %(state)s is removed, with the transition %(triggers)s.",
                    "State %(state)s is removed, with the transitions %(triggers)s.",
                    len(triggers), state=name, triggers=", ".join(triggers)) if triggers else \
        _("State %(state)s is removed.", state=name)
    return SCREENS.save(code, version, text, shown=text, done=done)


@bp.post(f"{VERSION}/discard")
@roles_required(*access.DESIGNERS)
def discard(code: str, version: int) -> ResponseReturnValue:
    SCREENS.known_version(code, version)
    try:
        change_models.discard_draft(database(), code, version)
    except ChangeModelRefused as exc:
        flash(str(exc), "error")
        return redirect(url_for("change_models.definition", code=code, version=version))
    flash(_("Draft version %(version)s of %(code)s is discarded.", version=version, code=code),
          "success")
    return redirect(url_for("change_models.definitions"))


def _save_edit(code: str, version: int, edit: Callable[[str], str], kept: Kept
               ) -> ResponseReturnValue:
    """Saves a form edit of the draft's text; an edit refused (by the form or by the checks)
    stores nothing and shows the form again as it was typed."""
    try:
        text = edit(_current_source(code, version))
    except ChangeModelError as exc:
        return _editor(code, version, problems=exc.problems, status=422, kept=kept)
    return SCREENS.save(code, version, text, shown=text, kept=kept)


def _current_source(code: str, version: int) -> str:
    SCREENS.known_version(code, version)
    return change_models.version_source(database(), code, version)
