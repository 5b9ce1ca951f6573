"""Process designers' screens for item classes: the classes and their versions, a version as a
table and as YAML, the draft editor (structured form and YAML, checked on every save), the
comparison with the published version, publish, retire, and import/export as YAML files.

Every save goes through ``usm.services.class_versions``, which checks the definition on its own
and against the items registered now; a refused save stores nothing and lists every problem.
"""

from __future__ import annotations

import re
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
from flask_login import current_user

from usm.services import item_classes as versions
from usm.services.item_classes import (
    ATTRIBUTE_TYPES,
    AttributeRow,
    ClassDefinitionError,
    ClassNotFound,
    ClassVersionRefused,
    class_record,
    diff_against_published,
    form_of,
    rows_of,
)
from web.item_classes.blueprint import bp
from web.support import access
from web.support.context import database
from web.support.live_check import problems_answer
from web.support.security import roles_required
from web.support.yaml_upload import uploaded_yaml

MAX_UPLOAD_BYTES = 256 * 1024
VERSION = "/<code>/<int:version>"
_ROW = re.compile(r"^attr-(\d{1,3})-name$")
NEW_CLASS = """code: hardware.example
name: Example
key_prefix: EXA
attributes:
  - {name: colour, label: Colour, allowed: [black, white]}
"""


@bp.get("")
@roles_required(*access.DESIGNERS)
def classes() -> ResponseReturnValue:
    return render_template("item_classes/classes.html", classes=versions.list_classes(database()))


@bp.get(VERSION)
@roles_required(*access.DESIGNERS)
def class_page(code: str, version: int) -> ResponseReturnValue:
    return render_template("item_classes/class.html", v=_view(code, version))


@bp.get(f"{VERSION}/edit")
@roles_required(*access.DESIGNERS)
def edit(code: str, version: int) -> ResponseReturnValue:
    return _editor(code, version)


@bp.post(f"{VERSION}/edit")
@roles_required(*access.DESIGNERS)
def save_yaml(code: str, version: int) -> ResponseReturnValue:
    source = request.form.get("source", "")
    return _save(code, version, source, source=source)


@bp.post(f"{VERSION}/check")
@roles_required(*access.DESIGNERS)
def check(code: str, version: int) -> ResponseReturnValue:
    """The YAML being typed, checked as a save would check it; nothing is stored."""
    try:
        return problems_answer(
            lambda source: versions.draft_problems(database(), code, version, source))
    except ClassNotFound as exc:
        abort(404, description=f"{str(exc).capitalize()}.")


@bp.post(f"{VERSION}/form")
@roles_required(*access.DESIGNERS)
def save_form(code: str, version: int) -> ResponseReturnValue:
    indexes = sorted({int(m.group(1)) for key in request.form if (m := _ROW.match(key))})
    form = form_of(code, request.form, indexes)
    return _save(code, version, class_record(form), rows=form.rows)


@bp.post(f"{VERSION}/new-draft")
@roles_required(*access.DESIGNERS)
def new_draft(code: str, version: int) -> ResponseReturnValue:
    try:
        saved = versions.draft_from(database(), code, version, by=current_user.username)
    except ClassNotFound as exc:
        abort(404, description=f"{str(exc).capitalize()}.")
    except (ClassDefinitionError, ClassVersionRefused) as exc:
        flash(_("No draft was made: %(problem)s", problem=exc), "error")
        return redirect(url_for("item_classes.class_page", code=code, version=version))
    flash(_("Draft version %(draft)s made from version %(version)s; edit it here.",
            draft=saved.version, version=version), "success")
    return redirect(url_for("item_classes.edit", code=code, version=saved.version))


@bp.post(f"{VERSION}/publish")
@roles_required(*access.DESIGNERS)
def publish(code: str, version: int) -> ResponseReturnValue:
    return _status_change(
        code, version,
        lambda db, c, v: versions.publish(db, c, v, by=current_user.username),
        _l("Version %(v)s is published: changes are checked against it from now on, and it no "
           "longer changes."))


@bp.post(f"{VERSION}/retire")
@roles_required(*access.DESIGNERS)
def retire(code: str, version: int) -> ResponseReturnValue:
    return _status_change(code, version, versions.retire,
                          _l("Version %(v)s is retired; it stays as history."))


@bp.get(f"{VERSION}/diff")
@roles_required(*access.DESIGNERS)
def diff(code: str, version: int) -> ResponseReturnValue:
    try:
        found = diff_against_published(database(), code, version)
    except ClassNotFound as exc:
        abort(404, description=f"{str(exc).capitalize()}.")
    return render_template("item_classes/diff.html", diff=found)


@bp.get(f"{VERSION}.yaml")
@roles_required(*access.DESIGNERS)
def download(code: str, version: int) -> ResponseReturnValue:
    try:
        source = versions.version_yaml(database(), code, version)
    except ClassNotFound as exc:
        abort(404, description=f"{str(exc).capitalize()}.")
    return Response(source, mimetype="application/yaml", headers={
        "Content-Disposition": f'attachment; filename="{code}-v{version}.yaml"'})


@bp.get("/import")
@roles_required(*access.DESIGNERS)
def import_form() -> ResponseReturnValue:
    return render_template("item_classes/import.html", problems=[], source=NEW_CLASS)


@bp.post("/import")
@roles_required(*access.DESIGNERS)
def import_file() -> ResponseReturnValue:
    name, source, problems = uploaded_yaml(
        MAX_UPLOAD_BYTES, _("file: choose a YAML file or paste the class"))
    if problems:
        return _import_problems(problems, source)
    try:
        saved = versions.save_new_draft(database(), source, by=current_user.username, where=name)
    except ClassDefinitionError as exc:
        return _import_problems(exc.problems, source)
    except ClassVersionRefused as exc:
        return _import_problems([str(exc)], source)
    flash(_("Imported %(name)s as draft version %(version)s of %(code)s.", name=name,
            version=saved.version, code=saved.code), "success")
    return redirect(url_for("item_classes.edit", code=saved.code, version=saved.version))


def _import_problems(problems: list[str], source: str) -> ResponseReturnValue:
    return render_template("item_classes/import.html", problems=problems, source=source), 422


def _save(code: str, version: int, definition: str | dict[str, object], *,
          source: str | None = None, rows: list[AttributeRow] | None = None
          ) -> ResponseReturnValue:
    try:
        versions.update_draft(database(), code, version, definition)
    except ClassNotFound as exc:
        abort(404, description=f"{str(exc).capitalize()}.")
    except ClassVersionRefused as exc:
        return _editor(code, version, problems=[str(exc)], status=409)
    except ClassDefinitionError as exc:
        return _editor(code, version, problems=exc.problems, source=source, rows=rows,
                       status=422)
    flash(_("Saved draft version %(version)s: it passes every check.", version=version),
          "success")
    return redirect(url_for("item_classes.edit", code=code, version=version))


def _status_change(code: str, version: int,
                   action: Callable[..., versions.SavedClassVersion],
                   message: object) -> ResponseReturnValue:
    try:
        action(database(), code, version)
    except ClassNotFound as exc:
        abort(404, description=f"{str(exc).capitalize()}.")
    except ClassVersionRefused as exc:
        flash(str(exc), "error")
    except ClassDefinitionError as exc:
        flash(_("Not published: %(problems)s", problems="; ".join(exc.problems)), "error")
    else:
        flash(str(message) % {"v": version}, "success")
    return redirect(url_for("item_classes.class_page", code=code, version=version))


def _view(code: str, version: int) -> versions.ClassVersionView:
    try:
        return versions.class_version(database(), code, version)
    except ClassNotFound as exc:
        abort(404, description=f"{str(exc).capitalize()}.")


def _editor(code: str, version: int, *, problems: list[str] | None = None,
            source: str | None = None, rows: list[AttributeRow] | None = None,
            status: int = 200) -> ResponseReturnValue:
    view = _view(code, version)
    shown = rows if rows is not None else rows_of(view.spec)
    return render_template(
        "item_classes/edit.html", v=view, problems=problems or [],
        source=view.yaml if source is None else source,
        rows=[*shown, AttributeRow()], types=ATTRIBUTE_TYPES), status
