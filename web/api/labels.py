"""Asset labels over the API: the PDF the web's *Labels* makes, for items named by key."""

from __future__ import annotations

from flask import Response

from usm.services import labels
from web.api.auth import roles_required
from web.api.blueprint import bp
from web.api.schemas.labels import LabelsQuery
from web.api.spec import api_spec, responses
from web.labels.pages import item_address, pdf_download
from web.support import access
from web.support.context import database


@bp.get("/labels")
@roles_required(*access.REGISTER_READERS)
@api_spec.validate(query=LabelsQuery, resp=responses("HTTP_404", HTTP_200=None), tags=["labels"],
                   operation_id="printLabels")
def print_labels(query: LabelsQuery) -> Response:
    """Asset labels for items, as a PDF to print on a label sheet

    Each label has a QR code of the item's page (at `USM_BASE_URL`, else this server's
    address), the key, the name and the serial number. An unknown key is a 404; more than
    1,000 keys, or a first position the sheet does not have, a 422.
    """
    chosen = labels.labels_for_keys(database(), [query.keys])
    body = labels.labels_pdf(chosen, labels.label_sheet(query.sheet), item_address(),
                             first=query.first)
    return pdf_download(chosen, body)
