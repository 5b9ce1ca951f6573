"""Reading the PDFs the app makes as a person (or a scanner) would: each page rendered to an
image (PDFium) and its QR codes decoded (zxing-cpp), and the text on each page."""

from __future__ import annotations

import pypdfium2 as pdfium
import zxingcpp


def page_count(pdf: bytes) -> int:
    document = pdfium.PdfDocument(pdf)
    try:
        return len(document)
    finally:
        document.close()


def page_texts(pdf: bytes) -> list[str]:
    """The text of each page, as copying it from a viewer gives it."""
    document = pdfium.PdfDocument(pdf)
    try:
        return [page.get_textpage().get_text_bounded() for page in document]
    finally:
        document.close()


def qr_codes(pdf: bytes, page: int = 0, dpi: int = 200) -> list[str]:
    """What the QR codes on ``page`` (from 0) read, printed at ``dpi``, in reading order."""
    document = pdfium.PdfDocument(pdf)
    try:
        image = document[page].render(scale=dpi / 72).to_pil()
    finally:
        document.close()
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    found = sorted(found, key=lambda code: (round(code.position.top_left.y / 50),
                                            code.position.top_left.x))
    return [code.text for code in found]
