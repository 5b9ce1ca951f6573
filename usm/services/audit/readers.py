"""Reading import files a row at a time (bounded memory): CSV, JSON (an array of objects, or JSON
Lines) and CycloneDX SBOMs. Each reader yields ``(row number, {column: value})``; a file that
cannot be read at all is an ``ImportFailed`` naming where it broke."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import ijson

from usm.services.audit.found import ImportFailed, ImportProblem
from usm.services.user_input import nesting_depth

RawRow = tuple[int, dict[str, Any]]
# The pure-Python ijson backend: the C one (yajl2_c) kills the process with a segmentation fault
# on an integer longer than Python's int conversion limit (4300 digits), so one hostile upload
# would take a web worker down. The Python backend reports it as a JSON error.
_IJSON = ijson.get_backend("python")
# A row is one object, its class attributes an object in it (a value may be a short list): any
# deeper is refused before it is built (ijson builds a deep value in quadratic time: a 390 KB
# tower of brackets outlasted a worker). A row over MAX_ROW_CHARS, keys and text counted, is
# refused too, as CSV refuses a field over its limit (131072 characters).
MAX_ROW_DEPTH = 4
MAX_ROW_CHARS = 128 * 1024
_TOO_DEEP = (f"nested too deeply: more than {MAX_ROW_DEPTH} levels (a row is one object, its "
             "attributes an object in it)")
_TOO_LARGE = f"the row is larger than {MAX_ROW_CHARS} characters"


@contextmanager
def _text(stream: IO[bytes]) -> Iterator[io.TextIOWrapper]:
    """The stream as UTF-8 text; the caller keeps (and closes) the byte stream."""
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")  # type: ignore[type-var]
    try:
        yield text
    finally:
        text.detach()


def csv_rows(stream: IO[bytes], name: str) -> Iterator[RawRow]:
    """Rows of a CSV file with a header line; row numbers count the header as 1. Comma,
    semicolon and tab separators are recognised from the header line."""
    with _text(stream) as text:
        yield from _csv_rows(text, name)


def _csv_rows(text: io.TextIOWrapper, name: str) -> Iterator[RawRow]:
    reader = None
    try:
        header_line = text.readline()
        if not header_line.strip():
            raise ImportFailed([ImportProblem(name, 1, "-", "the file is empty: a CSV import "
                                              "starts with a header line naming its columns")])
        delimiter = max(",;\t", key=header_line.count)  # the separator the header uses most
        headers = next(csv.reader([header_line], delimiter=delimiter))
        headers = [h.strip() for h in headers]
        blank = [i for i, h in enumerate(headers, 1) if not h]
        if blank:
            raise ImportFailed([ImportProblem(name, 1, f"#{blank[0]}", "the header names no "
                                              "column here")])
        reader = csv.reader(text, delimiter=delimiter)
        for number, values in enumerate(reader, start=2):
            if not any(v.strip() for v in values):
                continue
            if len(values) != len(headers):
                raise ImportFailed([ImportProblem(
                    name, number, "-", f"the row has {len(values)} fields where the header has "
                                       f"{len(headers)}: a quote or separator is out of place")])
            yield number, dict(zip(headers, values, strict=True))
    except UnicodeDecodeError as exc:
        raise ImportFailed([ImportProblem(name, 0, "-", f"not UTF-8 text ({exc.reason})")]) from exc
    except csv.Error as exc:
        raise ImportFailed([ImportProblem(name, reader.line_num if reader else 1,
                                          "-", f"not valid CSV: {exc}")]) from exc


def json_rows(stream: IO[bytes], name: str) -> Iterator[RawRow]:
    """The objects of a JSON array (streamed with ijson), or of JSON Lines (one per line). The
    stream must be seekable."""
    head = stream.read(1)
    while head and head.isspace():
        head = stream.read(1)
    stream.seek(0)  # import files are files on disk, so they can be read again
    if head != b"[":
        yield from _json_lines(stream, name)
        return
    row = _JsonRow(name)
    try:
        for event, value in _IJSON.basic_parse(stream, use_float=False):
            if row.take(event, value):
                yield row.number, row.value()
    except ImportFailed:
        raise
    except (ijson.JSONError, ValueError) as exc:
        message = (str(exc).splitlines() or ["unreadable"])[0][:120]  # a symbol may be huge
        raise ImportFailed([ImportProblem(name, row.number + (row.builder is None), "-",
                                          f"not valid JSON: {message}")]) from exc


class _JsonRow:
    """The rows of a JSON array, built one at a time from ijson's events, each refused as soon
    as it nests deeper than ``MAX_ROW_DEPTH`` or grows past ``MAX_ROW_CHARS``."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.number = 0  # of the row being read, or of the last one read
        self.opened = False  # the array's own start was read
        self.builder: ijson.ObjectBuilder | None = None  # the row being read
        self.path: list[str | None] = []  # per open container of the row: its current key
        self.chars = 0

    def take(self, event: str, value: Any) -> bool:
        """Read one event; True when it completed a row."""
        if self.builder is None:
            if not self.opened or event == "end_array":  # the array's own start and end
                self.opened = True
                return False
            self.number += 1
            if event != "start_map":
                raise self._refused("-", "is not a JSON object")
            self.builder, self.path, self.chars = ijson.ObjectBuilder(), [], 0
        self.chars += len(value) if isinstance(value, str) else 1
        if self.chars > MAX_ROW_CHARS:
            raise self._refused(self._column(), _TOO_LARGE)
        if event == "map_key":
            self.path[-1] = value
        elif event in _START:
            if len(self.path) >= MAX_ROW_DEPTH:
                raise self._refused(self._column(), _TOO_DEEP)
            self.path.append(None)
        elif event in _END:
            self.path.pop()
        self.builder.event(event, value)
        return not self.path

    def value(self) -> dict[str, Any]:
        """The row just completed."""
        assert self.builder is not None
        row: dict[str, Any] = self.builder.value
        self.builder = None
        return row

    def _column(self) -> str:
        return ".".join(k for k in self.path[:2] if isinstance(k, str)) or "-"

    def _refused(self, column: str, message: str) -> ImportFailed:
        return ImportFailed([ImportProblem(self.name, self.number, column, message)])


def _json_lines(stream: IO[bytes], name: str) -> Iterator[RawRow]:
    try:
        with _text(stream) as text:
            yield from _json_lines_of(text, name)
    except UnicodeDecodeError as exc:
        raise ImportFailed([ImportProblem(name, 0, "-", f"not UTF-8 text ({exc.reason})")]) from exc


def _json_lines_of(text: io.TextIOWrapper, name: str) -> Iterator[RawRow]:
    number = 0
    while line := text.readline(MAX_ROW_CHARS + 1):  # a line is never read past the limit
        number += 1
        if len(line) > MAX_ROW_CHARS:
            raise ImportFailed([ImportProblem(name, number, "-", _TOO_LARGE)])
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ImportFailed([ImportProblem(name, number, f"character {exc.colno}",
                                              f"not valid JSON: {exc.msg}")]) from exc
        except (ValueError, RecursionError) as exc:  # an integer over 4300 digits, deep nesting
            raise ImportFailed([ImportProblem(name, number, "-", "not valid JSON: "
                                              f"{_why(exc)}")]) from exc
        if not isinstance(value, dict):
            raise ImportFailed([ImportProblem(name, number, "-", "is not a JSON object")])
        if nesting_depth(value) > MAX_ROW_DEPTH:
            raise ImportFailed([ImportProblem(name, number, "-", _TOO_DEEP)])
        yield number, value


def cyclonedx_rows(stream: IO[bytes], name: str) -> Iterator[RawRow]:
    """The components of a CycloneDX SBOM (JSON) as software installations on the device the
    SBOM describes (``metadata.component.name``: its key or host name).

    Streamed in two passes over the (seekable) file, so a large SBOM is never held whole: the
    first checks the JSON and finds the device, which the specification lets come after the
    components; the second builds one component at a time."""
    outline = _sbom_outline(stream, name)
    if not outline.top_is_object or outline.bom_format != "CycloneDX":
        raise ImportFailed([ImportProblem(name, 0, "bomFormat", "not a CycloneDX SBOM "
                                          "(bomFormat must be 'CycloneDX')")])
    device = outline.device
    if not isinstance(device, str) or not device.strip():
        raise ImportFailed([ImportProblem(name, 0, "metadata.component.name", "names no device: "
                                          "give the key or host name the software is on")])
    if outline.components == "other":
        raise ImportFailed([ImportProblem(name, 0, "components", "is not a list of components")])
    if outline.components != "list":
        return  # absent, null or empty: nothing installed
    for number, component in enumerate(_sbom_components(stream, name, outline.lists), start=1):
        if not isinstance(component, dict):
            raise ImportFailed([ImportProblem(name, number, "components", "is not an object")])
        supplier = component.get("supplier")
        vendor = component.get("publisher") or (supplier.get("name")
                                                if isinstance(supplier, dict) else None)
        product = component.get("name")
        row = {"class": "software.installation", "installed_on": device.strip(),
               "attributes.product": product, "attributes.product_version":
               component.get("version"), "attributes.vendor": vendor}
        yield number, {k: v for k, v in row.items() if v is not None}


MAX_DEPTH = 500  # JSON nested deeper is refused (json.load gave up near 1000, by recursion)
_START, _END = {"start_map", "start_array"}, {"end_map", "end_array"}
_BOM = "\ufeff".encode()


@dataclass
class _Outline:
    """What the first pass over an SBOM finds: as ``json.load`` would, the last of repeated
    keys wins."""

    top_is_object: bool = False
    bom_format: Any = None
    device: Any = None  # metadata.component.name
    components: str = "absent"  # list, empty (null, false, 0, "" or {}), other
    lists: int = 0  # how many top-level "components" keys were lists (the last one counts)


def _events(stream: IO[bytes], name: str) -> Iterator[tuple[str, Any]]:
    """ijson's events from the start of ``stream`` (a UTF-8 BOM skipped); bad JSON, JSON nested
    deeper than ``MAX_DEPTH`` and numbers over Python's digit limit are ``ImportFailed``."""
    stream.seek(0)
    if stream.read(len(_BOM)) != _BOM:
        stream.seek(0)
    depth = 0
    try:
        for event, value in _IJSON.basic_parse(stream, use_float=False):
            depth += (event in _START) - (event in _END)
            if depth > MAX_DEPTH:
                raise RecursionError
            yield event, value
        _check_utf8_ending(stream)
    except (ijson.JSONError, ValueError, RecursionError) as exc:  # also UnicodeDecodeError
        message = "nested too deeply" if isinstance(exc, RecursionError) else \
            (str(exc).splitlines() or ["unreadable"])[0][:120]  # a symbol may be huge
        raise ImportFailed([ImportProblem(name, 0, "-", f"not valid JSON: {message}")]) from exc


def _check_utf8_ending(stream: IO[bytes]) -> None:
    """ijson ignores a UTF-8 sequence cut short at the very end of the file; refuse it too."""
    size = stream.seek(0, io.SEEK_END)
    stream.seek(max(0, size - 4))
    stream.read().lstrip(bytes(range(0x80, 0xC0))).decode("utf-8")


def _sbom_outline(stream: IO[bytes], name: str) -> _Outline:
    """The first pass: the whole file is valid JSON (or ``ImportFailed``), and what it says."""
    outline = _Outline()
    path: list[str | None] = []  # per open container: the current key of a map, None in a list
    empty_map_check = False  # "components" began as an object: is it the empty one?
    first = True
    for event, value in _events(stream, name):
        if first:
            outline.top_is_object, first = event == "start_map", False
        if empty_map_check:
            outline.components = "empty" if event == "end_map" else "other"
            empty_map_check = False
        if event == "map_key":
            path[-1] = value
            continue
        if event in _END:
            path.pop()
            continue
        where = tuple(path)  # a value (or a container starting) at this place
        if where == ("bomFormat",):
            outline.bom_format = value if event not in _START else None
        elif where in (("metadata",), ("metadata", "component")):
            outline.device = None
        elif where == ("metadata", "component", "name"):
            outline.device = value if event == "string" else None
        elif where == ("components",):
            if event == "start_array":
                outline.components, outline.lists = "list", outline.lists + 1
            elif event == "start_map":
                empty_map_check = True
            else:
                outline.components = "other" if value else "empty"
        if event in _START:
            path.append("" if event == "start_map" else None)
    return outline


def _sbom_components(stream: IO[bytes], name: str, lists: int) -> Iterator[Any]:
    """Each item of the last top-level ``components`` list, built one at a time."""
    path: list[str | None] = []  # as in _sbom_outline
    seen = 0  # top-level "components" lists begun
    builder: ijson.ObjectBuilder | None = None  # the component being built
    for event, value in _events(stream, name):
        if builder is not None:
            builder.event(event, value)
        elif seen == lists and path == ["components", None] and event != "end_array":
            if event in _START:
                builder = ijson.ObjectBuilder()
                builder.event(event, value)
            else:
                yield value  # not an object: the caller names it
        if event == "map_key":
            path[-1] = value
        elif event in _END:
            path.pop()
            if builder is not None and len(path) == 2:  # back in the list: the item is whole
                yield builder.value
                builder = None
        elif event in _START:
            if path == ["components"] and event == "start_array":
                seen += 1
            path.append("" if event == "start_map" else None)


def _why(exc: Exception) -> str:
    return "nested too deeply" if isinstance(exc, RecursionError) else str(exc)[:200]


READERS = {"csv": csv_rows, "json": json_rows, "cyclonedx": cyclonedx_rows}


def open_rows(path: Path, reader: str) -> Iterator[RawRow]:
    with path.open("rb") as stream:
        yield from READERS[reader](stream, path.name)
