"""The designers' screens every versioned document has (change models, item classes): the draft
editor's YAML save and live check, a new draft from a version, publish, retire, the comparison
with the published version, the YAML download and the import of a file.

One implementation of these screens; each kind gives its blueprint, its service (a
``usm.services.documents.Lifecycle``), its words and how its editor renders (``DocumentScreens``).
A refused save stores nothing and shows every problem next to the editor; a version that does not
exist is the 404 page of its ``NotFound``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from usm.services.documents import MAX_VERSION, Lifecycle
from usm.services.errors import Invalid, Refused
from web.support import access
from web.support.context import database
from web.support.live_check import problems_answer
from web.support.security import roles_required
from web.support.yaml_upload import uploaded_yaml

Editor = Callable[..., ResponseReturnValue]


@dataclass(frozen=True)
class DocumentScreens:
    """What a kind of document brings to the shared screens."""

    bp: Blueprint
    documents: Lifecycle[Any]
    version_path: str  # the route of one version, e.g. "/definitions/<code>/<int:version>"
    import_path: str
    page: str  # endpoint of a version's own page
    templates: str  # the folder of the kind's templates (import.html, diff.html)
    max_upload: int
    missing_file: Any  # (lazy) text: what to give when nothing was uploaded or pasted
    saved: Any  # (lazy) message after a save; ``%(version)s`` is the version
    published: Any  # (lazy) message after publishing; ``%(v)s`` is the version
    retired: Any
    render_editor: Editor  # (code, version, *, problems, source, status, **kind's own) -> page
    missing_version: Any  # (lazy) text naming a version that cannot exist: %(code)s, %(version)s
    new_import: str = ""  # what the import form starts with

    def add_routes(self) -> None:
        """The shared screens as routes of the kind's blueprint (endpoints ``edit``,
        ``save_yaml``, ``check``, ``new_draft``, ``publish``, ``retire``, ``diff``,
        ``download``, ``import_form``, ``import_file``)."""
        version, designers = self.version_path, roles_required(*access.DESIGNERS)
        for rule, endpoint, view, method in (
                (f"{version}/edit", "edit", self.edit, "GET"),
                (f"{version}/edit", "save_yaml", self.save_yaml, "POST"),
                (f"{version}/check", "check", self.check, "POST"),
                (f"{version}/new-draft", "new_draft", self.new_draft, "POST"),
                (f"{version}/publish", "publish", self.publish, "POST"),
                (f"{version}/retire", "retire", self.retire, "POST"),
                (f"{version}/diff", "diff", self.diff, "GET"),
                (f"{version}.yaml", "download", self.download, "GET"),
                (self.import_path, "import_form", self.import_form, "GET"),
                (self.import_path, "import_file", self.import_file, "POST")):
            self.bp.add_url_rule(rule, endpoint, designers(view), methods=[method])

    # -- the views -------------------------------------------------------------------------------

    def edit(self, code: str, version: int) -> ResponseReturnValue:
        self.known_version(code, version)
        return self.render_editor(code, version)

    def save_yaml(self, code: str, version: int) -> ResponseReturnValue:
        text = request.form.get("source", "")
        return self.save(code, version, text, shown=text)

    def check(self, code: str, version: int) -> ResponseReturnValue:
        """The YAML being typed, checked as a save would check it; nothing is stored."""
        self.known_version(code, version)
        return problems_answer(
            lambda source: self.documents.draft_problems(database(), code, version, source))

    def new_draft(self, code: str, version: int) -> ResponseReturnValue:
        try:
            saved = self.documents.draft_from(database(), code, version,
                                              by=current_user.username)
        except (Invalid, Refused) as exc:
            flash(_("No draft was made: %(problem)s", problem=exc), "error")
            return redirect(url_for(self.page, code=code, version=version))
        flash(_("Draft version %(draft)s made from version %(version)s; edit it here.",
                draft=saved.version, version=version), "success")
        return redirect(url_for(f"{self.bp.name}.edit", code=code, version=saved.version))

    def publish(self, code: str, version: int) -> ResponseReturnValue:
        return self._status_change(code, version, lambda: self.documents.publish(
            database(), code, version, by=current_user.username), self.published)

    def retire(self, code: str, version: int) -> ResponseReturnValue:
        return self._status_change(code, version, lambda: self.documents.retire(
            database(), code, version), self.retired)

    def diff(self, code: str, version: int) -> ResponseReturnValue:
        self.known_version(code, version)
        found = self.documents.diff_against_published(database(), code, version)
        return render_template(f"{self.templates}/diff.html", diff=found)

    def download(self, code: str, version: int) -> ResponseReturnValue:
        self.known_version(code, version)
        text = self.documents.version_text(database(), code, version)
        return Response(text, mimetype="application/yaml", headers={
            "Content-Disposition": f'attachment; filename="{code}-v{version}.yaml"'})

    def import_form(self) -> ResponseReturnValue:
        return render_template(f"{self.templates}/import.html", problems=[],
                               source=self.new_import)

    def import_file(self) -> ResponseReturnValue:
        name, source, problems = uploaded_yaml(self.max_upload, str(self.missing_file))
        if not problems:
            try:
                saved = self.documents.save_new_draft(database(), source,
                                                      by=current_user.username, where=name)
            except Invalid as exc:
                problems = exc.problems
            except Refused as exc:
                problems = [str(exc)]
            else:
                flash(_("Imported %(name)s as draft version %(version)s of %(code)s.", name=name,
                        version=saved.version, code=saved.code), "success")
                return redirect(url_for(f"{self.bp.name}.edit", code=saved.code,
                                        version=saved.version))
        return render_template(f"{self.templates}/import.html", problems=problems,
                               source=source), 422

    # -- what the kind's own views share ---------------------------------------------------------

    def save(self, code: str, version: int, source: Any, *, shown: str | None = None,
             done: str | None = None, **editor: Any) -> ResponseReturnValue:
        """Save ``source`` over the draft and go back to the editor; a refusal stores nothing and
        shows the editor again with the problems (and ``shown`` as the text, when given)."""
        self.known_version(code, version)
        try:
            self.documents.update_draft(database(), code, version, source)
        except Refused as exc:
            return self.render_editor(code, version, problems=[str(exc)], source=shown,
                                      status=409, **editor)
        except Invalid as exc:
            return self.render_editor(code, version, problems=exc.problems, source=shown,
                                      status=422, **editor)
        if done:
            flash(done, "success")
        flash(str(self.saved) % {"version": version}, "success")
        return redirect(url_for(f"{self.bp.name}.edit", code=code, version=version))

    def _status_change(self, code: str, version: int, action: Callable[[], object],
                       message: Any) -> ResponseReturnValue:
        self.known_version(code, version)
        try:
            action()
        except Refused as exc:
            flash(str(exc), "error")
        except Invalid as exc:
            flash(_("Not published: %(problems)s", problems="; ".join(exc.problems)), "error")
        else:
            flash(str(message) % {"v": version}, "success")
        return redirect(url_for(self.page, code=code, version=version))


    def known_version(self, code: str, version: int) -> None:
        """A version number no database column can hold names no version (404, not a
        failure)."""
        if version > MAX_VERSION:
            abort(404, description=str(self.missing_version) % {"code": code,
                                                                  "version": version})
