"""Small real files of each kind, made in the test (no binary fixtures in the repository)."""

from __future__ import annotations

import io
import zipfile

from openpyxl import Workbook
from PIL import Image
from reportlab.pdfgen.canvas import Canvas

from usm.services.platform import Database


def pdf(text: str = "Invoice 2026-114") -> bytes:
    out = io.BytesIO()
    canvas = Canvas(out)
    canvas.drawString(72, 720, text)
    canvas.save()
    return out.getvalue()


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), (30, 30, 200)).save(out, "JPEG")
    return out.getvalue()


def xlsx() -> bytes:
    book = Workbook()
    book.active.append(["serial", "cost"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="{main}"/></Types>')
WORD_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
WORD_MACROS = "application/vnd.ms-word.document.macroEnabled.main+xml"


def docx(main: str = WORD_MAIN) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES.format(main=main))
        archive.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


def plain_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "hello")
    return out.getvalue()


HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 60
CSV = b"serial,cost\nSN-1,100.00\n"


def sample_files(db: Database, item: str = "LAP-000003") -> tuple[dict[str, str], dict[str, str]]:
    """A file attached to ``item`` and one kept with an open change: the URL values of their
    downloads (for tests that open every route)."""
    from usm.services import attachments, changes

    done = attachments.attach_file(db, attachments.Storage(), "carol", item, io.BytesIO(CSV),
                                   "serials.csv")
    assert done.change.reached, done.change.blocked
    attached = attachments.item_attachments(db, item).attachments[-1]
    change = changes.list_changes(db, open_only=True, limit=1)[0].key
    kept = attachments.add_change_file(db, attachments.Storage(), "carol", change,
                                       io.BytesIO(pdf("Quote")), "quote.pdf")
    return ({"key": item, "attachment_id": str(attached.id), "file_id": str(attached.id)},
            {"key": change, "file_id": str(kept.id)})
