"""Where each label of a print run goes: pages of positions on a sheet, starting at a chosen
position so a partly used sheet can be used up. Pure arithmetic, no PDF."""

from __future__ import annotations

from bir.errors import FieldError, Invalid
from usm.services.labels.sheets import DEFAULT_SHEET, SHEETS, LabelSheet

MAX_LABELS = 1000


class TooManyLabels(Invalid):
    """More labels than one print run holds."""

    field = "keys"

    def __init__(self, count: int | None = None) -> None:
        many = f"{count:,}" if count is not None else f"more than {MAX_LABELS:,}"
        super().__init__([FieldError("keys", f"{many} labels asked for; at most {MAX_LABELS:,} "
                                             "are printed at a time: narrow the selection")])


def label_sheet(code: str | None) -> LabelSheet:
    """The sheet called ``code`` (the default one when none is given); ``Invalid`` naming the
    sheets there are otherwise."""
    sheet = SHEETS.get(code or DEFAULT_SHEET)
    if sheet is None:
        raise Invalid([FieldError("sheet", f"no label sheet {code!r}: choose one of "
                                           f"{', '.join(SHEETS)}")])
    return sheet


def label_pages(sheet: LabelSheet, count: int, first: int = 1) -> list[list[int]]:
    """The positions (from 1) ``count`` labels take, page by page: the first page from position
    ``first``, every further page from its first position. ``Invalid`` for no labels, too many,
    or a first position the sheet does not have."""
    if not 1 <= first <= sheet.per_page:
        raise Invalid([FieldError("first", f"the first label position is a number from 1 to "
                                           f"{sheet.per_page} on {sheet.name}")])
    if count < 1:
        raise Invalid([FieldError("keys", "no items to print labels for")])
    if count > MAX_LABELS:
        raise TooManyLabels(count)
    pages: list[list[int]] = []
    position = first
    for _ in range(count):
        if not pages or position > sheet.per_page:
            pages.append([])
            position = position if len(pages) == 1 else 1
        pages[-1].append(position)
        position += 1
    return pages
