"""Reading import files a row at a time (bounded memory): CSV, JSON (an array of objects, or JSON
Lines) and CycloneDX SBOMs (``cyclonedx.py``). Each reader yields ``(row number, {column:
value})``; a file that cannot be read at all is an ``ImportFailed`` naming where it broke."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import ijson

from usm.services.audit.cyclonedx import cyclonedx_rows
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
_START, _END = {"start_map", "start_array"}, {"end_map", "end_array"}


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


def _why(exc: Exception) -> str:
    return "nested too deeply" if isinstance(exc, RecursionError) else str(exc)[:200]


READERS = {"csv": csv_rows, "json": json_rows, "cyclonedx": cyclonedx_rows}


def open_rows(path: Path, reader: str, **options: Any) -> Iterator[RawRow]:
    """The rows of ``path``; ``options`` go to the reader (CycloneDX: ``host``, ``report``)."""
    with path.open("rb") as stream:
        yield from READERS[reader](stream, path.name, **options)
