"""What an uploaded file is, read from its bytes (magic numbers), never from the name the client
gave it nor the type its browser claimed: an HTML page renamed ``invoice.pdf`` is an HTML page.

The allow-list is the kinds people attach to assets and RFCs: PDF, PNG, JPEG, GIF and WebP
images, plain text (CSV included) and Office Open XML documents (Word ``docx``, Excel ``xlsx``).
Everything else is refused with its name and what was found: web pages and SVG (they run script
in a browser), executables, archives, macro-enabled Office files. The magic numbers come from the
``filetype`` library; an Office file is a ZIP archive, accepted only when its
``[Content_Types].xml`` names a Word document or an Excel workbook as its main part.
"""

from __future__ import annotations

import io
import unicodedata
import zipfile
from xml.etree import ElementTree

import filetype

from usm.services.errors import FieldError, ValidationFailed

PDF = "application/pdf"
TEXT = "text/plain"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
IMAGES = ("image/png", "image/jpeg", "image/gif", "image/webp")
# The allowed types, with the words a refusal and the help text use.
ALLOWED = {PDF: "PDF", "image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF",
           "image/webp": "WebP", TEXT: "plain text or CSV", DOCX: "Word (.docx)",
           XLSX: "Excel (.xlsx)"}
ALLOWED_TEXT = ", ".join(ALLOWED.values())
# Types a browser may show in the page (with nosniff and the strict CSP): the rest downloads.
SHOWN_INLINE = (PDF, *IMAGES)

_OOXML_MAIN = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": DOCX,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": XLSX,
}
_MACROS = ("macroenabled", "vbaproject", "vnd.ms-office.activex")
_ZIP_TYPES = ("application/zip", DOCX, XLSX,
              "application/vnd.openxmlformats-officedocument.presentationml.presentation")
MAX_CONTENT_TYPES_XML = 256 * 1024
# Markup a browser would render as a page (or run as a script) if it ever sniffed the file.
_MARKUP = (b"<!doctype", b"<html", b"<head", b"<body", b"<script", b"<svg", b"<iframe",
           b"<?xml", b"<object", b"<embed", b"<meta", b"<a ", b"<img", b"<div", b"<style")


def content_type(data: bytes, filename: str) -> str:
    """The allowed type of ``data``; ``ValidationFailed`` at ``file`` naming the file and what
    it is when its kind is not allowed."""
    if not data:
        raise _refused(filename, "the file is empty")
    kind = filetype.guess(data)
    if kind is not None:
        if kind.mime == PDF or kind.mime in IMAGES:
            return str(kind.mime)
        if kind.mime in _ZIP_TYPES:
            return _office(data, filename)
        raise _refused(filename, f"it is {_described(kind.mime, kind.extension)}")
    return _text(data, filename)


def _described(mime: str, extension: str) -> str:
    if mime.startswith("application/x-") and extension in ("exe", "elf", "dll", "msi", "dex",
                                                           "sh", "crx", "deb", "rpm", "macho"):
        return f"an executable program ({extension})"
    if extension in ("gz", "bz2", "7z", "rar", "tar", "xz", "zst", "lz", "zip", "cab", "ar",
                     "Z", "lz4"):
        return f"an archive ({extension})"
    return f"a file of type {mime} ({extension})"


def _office(data: bytes, filename: str) -> str:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = {info.filename.lower(): info for info in archive.infolist()}
        info = names.get("[content_types].xml")
        if info is None or info.file_size > MAX_CONTENT_TYPES_XML:
            raise _refused(filename, "it is a ZIP archive, not a Word or Excel document")
        with archive.open(info) as member:
            xml = member.read(MAX_CONTENT_TYPES_XML + 1)
        root = ElementTree.fromstring(xml)
    except (zipfile.BadZipFile, ElementTree.ParseError, OSError, ValueError, RuntimeError,
            NotImplementedError, EOFError) as exc:
        raise _refused(filename, "it is a damaged or unreadable ZIP archive") from exc
    declared = {(element.get("ContentType") or "").lower()
                for element in root.iter() if element.tag.endswith(("Override", "Default"))}
    if any(marker in name for name in (*declared, *names) for marker in _MACROS):
        raise _refused(filename, "it is an Office document with macros")
    found = {_OOXML_MAIN[t] for t in declared if t in _OOXML_MAIN}
    if len(found) != 1:
        raise _refused(filename, "it is a ZIP archive, not a Word or Excel document")
    return found.pop()


def _text(data: bytes, filename: str) -> str:
    """Plain text (CSV is plain text): UTF-8, no control characters but tabs, line and page
    breaks, and no markup a browser would render."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _refused(filename, "it is binary data of no allowed kind (nor UTF-8 text)") from None
    if any(unicodedata.category(c) == "Cc" and c not in "\t\n\r\f" for c in text[:65536]):
        raise _refused(filename, "it is binary data of no allowed kind")
    head = data[:4096].lower()
    if head.lstrip().startswith(b"<") or any(marker in head for marker in _MARKUP):
        raise _refused(filename, "it is HTML, SVG or XML markup (a web page a browser would "
                                 "render)")
    return TEXT


def _refused(filename: str, found: str) -> ValidationFailed:
    return ValidationFailed([FieldError("file", f"{filename}: {found}; attach one of: "
                                                f"{ALLOWED_TEXT}")])


__all__ = ["ALLOWED", "ALLOWED_TEXT", "DOCX", "IMAGES", "PDF", "SHOWN_INLINE", "TEXT", "XLSX",
           "content_type"]
