"""Tables as CSV or XLSX files: every report and register export goes through here.

Values keep their type in XLSX (numbers stay numbers, dates stay dates, money is exact Decimal
written as a number with two decimals), so a vendor's auditor can sum a column. XLSX is written in
openpyxl's write-only mode, so a large export does not hold a workbook of cell objects in memory.

Text is written as text, never as a formula: anyone who can name an item can put
``=HYPERLINK(...)`` in a register field, and a spreadsheet opening the export must not run it
(CSV injection, as OWASP describes it). XLSX cells holding text are typed as strings; a CSV cell
whose text a spreadsheet would read as a formula starts with a ``'``, which ``restored`` takes off
again, so an export still imports back unchanged.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@dataclass(frozen=True)
class Sheet:
    """One table: a title (the XLSX sheet name), column headers and rows of plain values."""

    title: str
    headers: Sequence[str]
    rows: Iterable[Sequence[Any]]


# What makes a spreadsheet read a cell as a formula (OWASP's list), also after leading spaces.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
NUMBERS = (int, float, Decimal)


def neutralised(text: str) -> str:
    """``text`` with a ``'`` before it when a spreadsheet would read it as a formula."""
    return "'" + text if text.lstrip(" ").startswith(FORMULA_START) else text


def restored(text: str) -> str:
    """What ``neutralised`` made of a text, back as it was (an import reading an export)."""
    if text.startswith("'") and text[1:].lstrip(" ").startswith(FORMULA_START):
        return text[1:]
    return text


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def to_csv(sheet: Sheet) -> bytes:
    """CSV with a UTF-8 byte-order mark, so spreadsheet programs read accents right."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([neutralised(h) for h in sheet.headers])
    for row in sheet.rows:
        writer.writerow([_text(v) if isinstance(v, NUMBERS) else neutralised(_text(v))
                         for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)  # XLSX has no time zones; every time here is UTC
    if isinstance(value, Decimal | int | float | date | str) or value is None:
        return value
    return _text(value)


def to_xlsx(*sheets: Sheet) -> bytes:
    """A workbook with one sheet per table, headers bold and frozen."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    for sheet in sheets:
        ws = book.create_sheet(title=_sheet_title(sheet.title))
        ws.freeze_panes = "A2"
        header = []
        for name in sheet.headers:
            cell = WriteOnlyCell(ws, value=name)
            cell.data_type = "s"
            cell.font = Font(bold=True)
            header.append(cell)
        ws.append(header)
        for row in sheet.rows:
            cells = []
            for value in row:
                cell = WriteOnlyCell(ws, value=_cell(value))
                if cell.data_type == "f":
                    cell.data_type = "s"  # text that looks like a formula stays text
                if isinstance(value, Decimal):
                    cell.number_format = "#,##0.00"
                elif isinstance(value, datetime):
                    cell.number_format = "yyyy-mm-dd hh:mm:ss"
                elif isinstance(value, date):
                    cell.number_format = "yyyy-mm-dd"
                cells.append(cell)
            ws.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _sheet_title(title: str) -> str:
    """Excel refuses sheet names over 31 characters or with []:*?/\\ in them."""
    clean = "".join("-" if ch in "[]:*?/\\" else ch for ch in title).strip() or "Sheet"
    return clean[:31]


def export(fmt: str, *sheets: Sheet) -> tuple[bytes, str]:
    """The file for ``fmt`` ('csv' takes the first sheet only) and its media type."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if fmt == "csv":
        return to_csv(sheets[0]), FORMATS["csv"]
    return to_xlsx(*sheets), FORMATS["xlsx"]
