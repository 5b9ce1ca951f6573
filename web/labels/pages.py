"""Whoever reads the register prints labels: the form (which sheet, from which position of a
partly used sheet) and the PDF, for the items named by ``keys`` or, without keys, every item the
register search's filters in the URL find (as the register's downloads do)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Response, render_template, request, url_for
from flask.typing import ResponseReturnValue

from usm.services import labels, register
from usm.services.errors import Invalid
from web.labels.blueprint import bp
from web.support import access
from web.support.context import database
from web.support.security import roles_required

# The register search's filters a selection keeps (its sort too: labels come out in that order).
FILTERS = ("q", "class", "status", "owner", "location", "cost_centre", "service", "sort", "order")


def _selection() -> dict[str, str]:
    """The URL parameters that name the items: ``keys``, else the search's filters."""
    if request.args.get("keys", "").strip():
        return {"keys": request.args["keys"]}
    return {name: request.args[name] for name in FILTERS if request.args.get(name)}


def _selected_labels() -> list[labels.ItemLabel]:
    if request.args.get("keys", "").strip():
        return labels.labels_for_keys(database(), request.args.getlist("keys"))
    return labels.labels_for_search(database(), register.search_query(_selection()))


def _first() -> int:
    text = request.args.get("first", "1").strip() or "1"
    return int(text) if text.isdigit() and len(text) < 6 else 0


def _form(selected: list[labels.ItemLabel] | None, error: str | None, status: int
          ) -> ResponseReturnValue:
    return render_template(
        "labels/form.html", labels=selected, error=error, sheets=labels.SHEETS,
        sheet=request.args.get("sheet") or labels.DEFAULT_SHEET, first=request.args.get("first")
        or "1", selection=_selection(), limit=labels.MAX_LABELS), status


@bp.get("/labels")
@roles_required(*access.REGISTER_READERS)
def form() -> ResponseReturnValue:
    """What will be printed (how many labels, the first keys) and the choice of sheet."""
    try:
        selected = _selected_labels()
    except Invalid as exc:
        return _form(None, str(exc), 400)
    return _form(selected, None, 200)


def item_address() -> Callable[[str], str]:
    """Key -> the address of the item's page, for the QR code (see ``labels.address_root``)."""
    root = labels.address_root(request.url_root)
    return lambda key: root + url_for("register.item", key=key)[len(request.script_root):]


@bp.get("/labels.pdf")
@roles_required(*access.REGISTER_READERS)
def pdf() -> ResponseReturnValue:
    """The labels as a PDF attachment; a refusal shows the form again, naming the problem."""
    try:
        selected = _selected_labels()
    except Invalid as exc:
        return _form(None, str(exc), 400)
    try:
        body = labels.labels_pdf(selected, labels.label_sheet(request.args.get("sheet")),
                                 item_address(), first=_first())
    except Invalid as exc:
        return _form(selected, str(exc), 400)
    return pdf_download(selected, body)


def pdf_download(selected: list[labels.ItemLabel], body: bytes) -> Response:
    """The labels' PDF as an attachment, named after the item (one) or the count (several)."""
    name = f"labels-{selected[0].key}" if len(selected) == 1 else f"labels-{len(selected)}"
    return Response(body, headers={"Content-Type": "application/pdf",
                                   "Content-Disposition": f'attachment; filename="{name}.pdf"'})
