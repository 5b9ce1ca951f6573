"""Process designers' screens for item classes: the classes and their versions, a version as a
table and as YAML, the draft editor (structured form and YAML, checked on every save), the
comparison with the published version, publish, retire, and import/export as YAML files.

What every versioned document has is ``web.support.documents``; the item class's own is here: the
list of classes, a version's page and the structured form of attribute rows. Every save goes
through ``usm.services.item_classes``, which checks the definition on its own and against the items
registered now; a refused save stores nothing and lists every problem.
"""

from __future__ import annotations

import re

from flask import render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l

from usm.services import item_classes
from usm.services.item_classes import (
    ATTRIBUTE_TYPES,
    DEPRECIATION_METHODS,
    AttributeRow,
    class_record,
    form_of,
    rows_of,
)
from web.item_classes.blueprint import bp
from web.support import access
from web.support.context import database
from web.support.documents import DocumentScreens
from web.support.security import roles_required

VERSION = "/<code>/<int:version>"
_ROW = re.compile(r"^attr-(\d{1,3})-name$")
NEW_CLASS = """code: hardware.example
name: Example
key_prefix: EXA
attributes:
  - {name: colour, label: Colour, allowed: [black, white]}
"""


def _editor(code: str, version: int, *, problems: list[str] | None = None,
            source: str | None = None, rows: list[AttributeRow] | None = None,
            status: int = 200) -> ResponseReturnValue:
    view = item_classes.class_version(database(), code, version)
    shown = rows if rows is not None else rows_of(view.spec)
    return render_template(
        "item_classes/edit.html", v=view, problems=problems or [],
        source=view.yaml if source is None else source,
        rows=[*shown, AttributeRow()], types=ATTRIBUTE_TYPES,
        depreciation_methods=DEPRECIATION_METHODS), status


SCREENS = DocumentScreens(
    bp=bp, documents=item_classes.ITEM_CLASSES, version_path=VERSION, import_path="/import",
    page="item_classes.class_page", templates="item_classes", max_upload=256 * 1024,
    missing_file=_l("file: choose a YAML file or paste the class"),
    saved=_l("Saved draft version %(version)s: it passes every check."),
    published=_l("Version %(v)s is published: changes are checked against it from now on, and "
                 "it no longer changes."),
    retired=_l("Version %(v)s is retired; it stays as history."),
    render_editor=_editor, new_import=NEW_CLASS,
    missing_version=_l("There is no item class %(code)s version %(version)s."))
SCREENS.add_routes()


@bp.get("")
@roles_required(*access.DESIGNERS)
def classes() -> ResponseReturnValue:
    return render_template("item_classes/classes.html",
                           classes=item_classes.list_classes(database()))


@bp.get(VERSION)
@roles_required(*access.DESIGNERS)
def class_page(code: str, version: int) -> ResponseReturnValue:
    SCREENS.known_version(code, version)
    return render_template("item_classes/class.html",
                           v=item_classes.class_version(database(), code, version))


@bp.post(f"{VERSION}/form")
@roles_required(*access.DESIGNERS)
def save_form(code: str, version: int) -> ResponseReturnValue:
    indexes = sorted({int(m.group(1)) for key in request.form if (m := _ROW.match(key))})
    form = form_of(code, request.form, indexes)
    return SCREENS.save(code, version, class_record(form), rows=form.rows)
