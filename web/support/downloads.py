"""Files the screens and the API hand out: a table as CSV or XLSX, as an attachment."""

from __future__ import annotations

from flask import Response, abort

from usm.services.platform import FORMATS, Sheet, export


def download(name: str, fmt: str, sheet: Sheet) -> Response:
    """``sheet`` as an attachment ``name.fmt`` (the web's and the API's downloads)."""
    body, media_type = export(fmt, sheet)
    return Response(body, headers={"Content-Type": media_type,
                                   "Content-Disposition": f'attachment; filename="{name}.{fmt}"'})


def known_format(fmt: str) -> str:
    """``fmt`` when it is a format the exports write; a 404 otherwise (it is part of the path)."""
    if fmt not in FORMATS:
        abort(404, description="no such format (csv, xlsx)")
    return fmt
