"""CSV and XLSX exports keep every value, with its type in XLSX."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from usm.services.platform import Sheet, export

ROWS = [["LAP-000001", "Laptop, 14\"", Decimal("1249.50"), date(2026, 1, 5), 3],
        ["LAP-000002", "Läptop", None, datetime(2026, 2, 1, 9, 30, tzinfo=UTC), 0]]


def _sheet() -> Sheet:
    return Sheet("Items: [all]/now and then, a very long title", ["Key", "Name", "Cost", "When",
                                                                   "Count"], ROWS)


def test_csv_round_trip() -> None:
    data, media = export("csv", _sheet())
    assert media.startswith("text/csv")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows == [["Key", "Name", "Cost", "When", "Count"],
                    ["LAP-000001", "Laptop, 14\"", "1249.50", "2026-01-05", "3"],
                    ["LAP-000002", "Läptop", "", "2026-02-01T09:30:00+00:00", "0"]]


def test_xlsx_keeps_types() -> None:
    data, media = export("xlsx", _sheet(), Sheet("Second", ["A"], [[1]]))
    assert media.endswith("spreadsheetml.sheet")
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["Items- -all--now and then, a ve", "Second"]
    ws = book.worksheets[0]
    values = [[c.value for c in row] for row in ws.iter_rows()]
    assert values[0] == ["Key", "Name", "Cost", "When", "Count"]
    assert values[1][2] == pytest.approx(1249.5) and ws["C2"].number_format == "#,##0.00"
    assert values[1][3] == datetime(2026, 1, 5)
    assert values[2][3] == datetime(2026, 2, 1, 9, 30)
    assert values[2][2] is None and values[2][4] == 0
    assert ws["A1"].font.bold


def test_unknown_format_is_named() -> None:
    with pytest.raises(ValueError, match="format must be one of csv, xlsx, not 'pdf'"):
        export("pdf", _sheet())
