"""Asset labels as a PDF: per label a QR code that opens the item's page, the key in large text
and the name and serial number in small text, laid out on a label sheet (``sheets``).

The QR code is drawn as vector rectangles (segno computes the modules, reportlab draws them), so
it stays sharp on any printer and the file stays small; the text is set in Bitstream Vera, which
ships with reportlab, embedded (a subset), so accented names print and the text can be searched
and copied. Where Debian's DejaVu fonts are installed (``fonts-dejavu-core``), they are used
instead: the same design with far more letters (Polish, Czech, Greek, Cyrillic).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import reportlab
import segno
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from usm.config import base_url
from usm.services.labels.layout import label_pages
from usm.services.labels.sheets import LabelSheet

REGULAR, BOLD = "USM-Sans", "USM-Sans-Bold"
# Light modules around the code: scanners want a quiet zone; the label's own margin adds to it.
QUIET_MODULES = 2
MASK = 4
SMALL_PT = 6.5
LINE = 1.2  # line height, as a multiple of the font size


@dataclass(frozen=True)
class ItemLabel:
    """What one label shows: the item's key (and the QR code of its page), name and serial."""

    key: str
    name: str
    serial_number: str | None = None


DEJAVU = Path("/usr/share/fonts/truetype/dejavu")


@cache
def _fonts() -> None:
    if (DEJAVU / "DejaVuSans.ttf").is_file() and (DEJAVU / "DejaVuSans-Bold.ttf").is_file():
        regular, bold = DEJAVU / "DejaVuSans.ttf", DEJAVU / "DejaVuSans-Bold.ttf"
    else:
        shipped = Path(reportlab.__file__).resolve().parent / "fonts"
        regular, bold = shipped / "Vera.ttf", shipped / "VeraBd.ttf"
    pdfmetrics.registerFont(TTFont(REGULAR, str(regular)))
    pdfmetrics.registerFont(TTFont(BOLD, str(bold)))


def labels_pdf(labels: Sequence[ItemLabel], sheet: LabelSheet, address: Callable[[str], str], *,
               first: int = 1) -> bytes:
    """The labels on ``sheet`` as PDF bytes, the first at position ``first`` (a partly used
    sheet); ``address`` gives the URL of an item's page for its key. ``Invalid`` for no labels,
    more than ``MAX_LABELS`` or a position the sheet lacks."""
    pages = label_pages(sheet, len(labels), first)
    _fonts()
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=(sheet.page_width * mm, sheet.page_height * mm),
                    pageCompression=1, invariant=1)
    canvas.setTitle("Asset labels")
    canvas.setCreator("USM register")
    remaining = iter(labels)
    for positions in pages:
        for position in positions:
            label = next(remaining)
            left, top = sheet.corner(position)
            _draw_label(canvas, sheet, left, top, label, address(label.key))
        canvas.showPage()
    canvas.save()
    return out.getvalue()


def _draw_label(canvas: Canvas, sheet: LabelSheet, left: float, top: float, label: ItemLabel,
                url: str) -> None:
    """One label whose top-left corner is (``left``, ``top``) mm from the page's top-left."""
    width, height = sheet.label_width, sheet.label_height
    pad = min(2.0, height * 0.08)
    size = min(height - 2 * pad, width * 0.45)
    y_top = sheet.page_height - top  # PDF coordinates run up from the page's bottom
    _draw_qr(canvas, url, left + pad, y_top - pad - (height - 2 * pad - size) / 2, size)
    text_left = left + pad + size + pad
    _draw_text(canvas, label, text_left, y_top - pad, width - size - 3 * pad, height - 2 * pad)


def _draw_qr(canvas: Canvas, data: str, left: float, top: float, size: float) -> None:
    """A QR code of ``data``, ``size`` mm square with its quiet zone, its top-left at the point
    given (mm). Drawn in module units, each run of dark modules in a row one rectangle, written
    as PDF operators directly: a 5,000-label run draws about a million of them."""
    # A fixed mask: choosing the best of eight costs five times the encoding, and any mask reads.
    matrix = segno.make(data, error="m", micro=False, mask=MASK).matrix
    count = len(matrix)
    module = size / (count + 2 * QUIET_MODULES) * mm
    runs = []
    for row_index, row in enumerate(matrix):
        y = count - 1 - row_index
        column = 0
        while column < count:
            if not row[column]:
                column += 1
                continue
            start = column
            while column < count and row[column]:
                column += 1
            runs.append(f"{start} {y} {column - start} 1 re")
    canvas.saveState()
    canvas.translate(left * mm + QUIET_MODULES * module,
                     top * mm - QUIET_MODULES * module - count * module)
    canvas.scale(module, module)
    canvas.addLiteral("\n".join(runs) + "\nf")
    canvas.restoreState()


def _draw_text(canvas: Canvas, label: ItemLabel, left: float, top: float, width: float,
               height: float) -> None:
    """The key, as large as fits (6 to 12 pt), then the name (up to three lines) and the serial
    number in small text, as many lines as the height holds."""
    room = width * mm
    key_size = 12.0
    while key_size > 6 and pdfmetrics.stringWidth(label.key, BOLD, key_size) > room:
        key_size -= 0.5
    lines: list[tuple[str, str, float]] = [(_fitted(label.key, BOLD, key_size, room), BOLD,
                                            key_size)]
    lines += [(line, REGULAR, SMALL_PT) for line in _wrapped(label.name, room, 3)]
    if label.serial_number:
        lines.append((_fitted(f"S/N {label.serial_number}", REGULAR, SMALL_PT, room), REGULAR,
                      SMALL_PT))
    y = top * mm
    bottom = (top - height) * mm
    for text, font, size in lines:
        y -= size * LINE if font == REGULAR else size
        if y < bottom:
            break
        canvas.setFont(font, size)
        canvas.drawString(left * mm, y, text)


def _fitted(text: str, font: str, size: float, room: float) -> str:
    """``text`` cut to ``room`` points, with an ellipsis when cut."""
    if pdfmetrics.stringWidth(text, font, size) <= room:
        return text
    while text and pdfmetrics.stringWidth(text + "…", font, size) > room:
        text = text[:-1]
    return text + "…"


def _wrapped(text: str, room: float, most: int) -> list[str]:
    """``text`` in lines of at most ``room`` points at the small size, at most ``most`` lines
    (the last one cut with an ellipsis when the text goes on)."""
    lines: list[str] = []
    words = text.split()
    while words and len(lines) < most:
        line = words.pop(0)
        while words and pdfmetrics.stringWidth(f"{line} {words[0]}", REGULAR, SMALL_PT) <= room:
            line = f"{line} {words.pop(0)}"
        lines.append(line)
    if words and lines:
        lines[-1] = _fitted(f"{lines[-1]} {' '.join(words)}", REGULAR, SMALL_PT, room)
    return [_fitted(line, REGULAR, SMALL_PT, room) for line in lines]


def address_root(request_root: str) -> str:
    """Where the item pages a QR code opens live: ``USM_BASE_URL`` when it is set (the address
    people reach the app at, behind a proxy too), else ``request_root``, the address of the
    request that asks for the labels."""
    return base_url() or request_root.rstrip("/")
