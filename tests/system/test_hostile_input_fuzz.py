"""Hostile input: random and mutated text fed to the definition loader, the change-set YAML field
and the import readers. Only the product's own validation errors may come out (with a message
naming the place), never another exception: anything else is a 500 on the web or a dead worker.

Each crash the fuzzing found is kept below as an explicit example, so it stays fixed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from usm.services.audit import ImportFailed, reconcile_file
from usm.services.change_models import validate_change_model_file
from usm.services.changes.forms import parse_yaml_operations
from usm.services.platform import Database
from workflows.change_model import ChangeModelError, parse_change_model

FUZZ = settings(max_examples=200, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
SHIPPED = Path(__file__).resolve().parents[2] / "workflows" / "change_models"
NORMAL = (SHIPPED / "normal-change.yaml").read_text(encoding="utf-8")

# Crashes found (each was a ValueError, RecursionError, AttributeError, TypeError or a segfault).
YAML_CRASHES = [
    "a: 2001-13-01",  # the YAML timestamp resolver matches, datetime() refuses: ValueError
    "states: 2001-02-30",
    "!!int abc",  # an explicit tag whose constructor raises ValueError
    "[" * 3000 + "]" * 3000,  # PyYAML's composer recurses: RecursionError
]
JSON_CRASHES = [  # (format, bytes, what the problem says); the original crash in the comment
    # ijson's C backend segfaulted on a 5000-digit integer, taking the process down:
    ("json", b'[{"a": 1' + b"0" * 5000 + b"}]", "row 1, column -: not valid JSON"),
    # JSON Lines, an integer over Python's 4300 digit limit: ValueError
    ("json", b'{"class": 1' + b"0" * 5000 + b"}\n", "row 1, column -: not valid JSON"),
    # JSON Lines nested too deep: RecursionError
    ("json", b'{"a":' * 5000, "row 1, column -: not valid JSON: nested too deeply"),
    # JSON Lines not UTF-8: UnicodeDecodeError
    ("json", b'{"a": 1}\n\xff\xfe\n', "not UTF-8 text"),
    # a list as status: TypeError (unhashable) in the status check
    ("json", b'[{"class": "hardware.laptop", "name": "A", "status": ["in_use"]}]',
     "row 1, column status: ['in_use'] is not a lifecycle status"),
    # metadata not an object: AttributeError
    ("cyclonedx", b'{"bomFormat": "CycloneDX", "metadata": [1]}', "column metadata.component.name"),
    # components not a list: TypeError
    ("cyclonedx", b'{"bomFormat": "CycloneDX", "metadata": {"component": {"name": "x"}}, '
                  b'"components": 5}', "column components: is not a list"),
    # RecursionError in json.load
    ("cyclonedx", b"[" * 100000, "not valid JSON: nested too deeply"),
    # ValueError (4300 digits) in json.load
    ("cyclonedx", b'{"bomFormat": "CycloneDX", "x": 1' + b"0" * 5000 + b"}",
     "row 0, column -: not valid JSON"),
]


def _mutations(text: str) -> st.SearchStrategy[str]:
    """``text`` with a random slice replaced by random characters (YAML punctuation likely)."""
    alphabet = st.sampled_from(list(":-[]{}!&*?|>'\"#%@`,\n \t0123456789abcnull~") + ["\x00"])
    return st.tuples(st.integers(0, len(text)), st.integers(0, 40),
                     st.text(alphabet, max_size=30)).map(
        lambda t: text[:t[0]] + t[2] + text[t[0] + t[1]:])


YAML_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
                         st.text(max_size=20), st.dates(), st.sampled_from(
                             ["registration", "normal", "approvals", "carol", "assess", "closed"]))
YAML_VALUES = st.recursive(YAML_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.one_of(st.text(max_size=12), st.integers(), st.sampled_from(
        ["code", "name", "states", "transitions", "initial", "step", "source", "dest", "guards",
         "params", "roles", "fields", "change_set", "count"])), inner, max_size=5)),
    max_leaves=25)


def _structure_yaml(value: Any) -> str:
    """A random structure, merged over the shipped normal change so the deeper checks run."""
    base = yaml.safe_load(NORMAL)
    if isinstance(value, dict):
        base.update(value)
        value = base
    return yaml.safe_dump(value, allow_unicode=True)


def _assert_refused_or_valid(text: str) -> None:
    try:
        parse_change_model(text, where="fuzz.yaml")
    except ChangeModelError as exc:
        assert exc.problems and all(isinstance(p, str) and p for p in exc.problems)


@pytest.mark.parametrize("text", YAML_CRASHES)
def test_yaml_that_crashed_the_loader_is_now_a_definition_error(text: str) -> None:
    with pytest.raises(ChangeModelError) as refused:
        parse_change_model(text, where="crash.yaml")
    assert "crash.yaml: not valid YAML" in str(refused.value)
    operations, errors = parse_yaml_operations(text)
    assert operations == [] and [e.field for e in errors] == ["change_set_yaml"]


@FUZZ
@given(st.one_of(_mutations(NORMAL), st.text(max_size=200)))
def test_mutated_yaml_gives_only_definition_errors(text: str) -> None:
    _assert_refused_or_valid(text)
    operations, errors = parse_yaml_operations(text)
    assert all(e.field == "change_set_yaml" and e.message for e in errors)


@FUZZ
@given(YAML_VALUES)
@example({"transitions": [{"trigger": "x", "source": "new", "dest": "new", "guards": [{1: 2}]}]})
@example({"states": [{"name": "new", "step": "registration"}], "initial": 5})
def test_random_structures_dumped_as_yaml_give_only_definition_errors(value: Any) -> None:
    _assert_refused_or_valid(_structure_yaml(value))


@FUZZ
@given(_mutations(NORMAL))
def test_definition_file_validation_gives_only_definition_errors(tmp_path_factory: Any,
                                                                  text: str) -> None:
    path = tmp_path_factory.mktemp("defs") / "fuzz.yaml"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    try:
        validate_change_model_file(path)
    except ChangeModelError as exc:
        assert str(path) in str(exc) or exc.problems


# -- import files ---------------------------------------------------------------------------------

GOOD_CSV = ("class,name,serial_number,purchase_cost,status,acquired_on,attributes.cores\n"
            "hardware.laptop,A,SN-1,10.00,in_use,2025-01-02,4\n")
GOOD_JSON = json.dumps([{"class": "hardware.laptop", "name": "A", "serial_number": "SN-1",
                         "attributes": {"cores": 4}, "status": "in_use"}])
GOOD_SBOM = json.dumps({"bomFormat": "CycloneDX", "metadata": {"component": {"name": "HW-1"}},
                        "components": [{"name": "Firefox", "version": "1", "publisher": "M"}]})
JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
              st.text(max_size=12), st.sampled_from(["hardware.laptop", "in_use", "2025-01-02",
                                                     "CycloneDX", "12.50", "hardware"])),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.one_of(
        st.text(max_size=10), st.sampled_from(
            ["class", "name", "key", "status", "serial_number", "purchase_cost", "attributes",
             "bomFormat", "metadata", "component", "components", "installed_on"])),
        inner, max_size=5)), max_leaves=20)


def _mutated_bytes(text: str) -> st.SearchStrategy[bytes]:
    raw = text.encode()
    return st.tuples(st.integers(0, len(raw)), st.integers(0, 20), st.binary(max_size=20)).map(
        lambda t: raw[:t[0]] + t[2] + raw[t[0] + t[1]:])


def _import_only_fails_cleanly(db: Database, folder: Path, fmt: str, body: bytes) -> None:
    path = folder / f"fuzz.{fmt}"
    path.write_bytes(body)
    try:
        rec = reconcile_file(db, path, fmt)
    except ImportFailed as exc:
        assert exc.problems and all(p.file == path.name and p.message for p in exc.problems)
        return
    for problem in rec.problems:
        assert problem.file == path.name and isinstance(problem.row, int) \
            and isinstance(problem.column, str) and problem.message


@pytest.fixture
def sqlite_db(sqlite_url: str) -> Iterator[Database]:
    database = Database.connect(sqlite_url)
    yield database
    database.dispose()


@pytest.mark.parametrize("fmt,body,expected", JSON_CRASHES)
def test_import_bytes_that_crashed_a_reader_are_now_import_errors(
        sqlite_db: Database, tmp_path: Path, fmt: str, body: bytes, expected: str) -> None:
    path = tmp_path / f"crash.{fmt}"
    path.write_bytes(body)
    try:
        problems = reconcile_file(sqlite_db, path, fmt).problems
    except ImportFailed as exc:
        problems = exc.problems
    assert any(str(p).startswith(f"crash.{fmt}, ") and expected in str(p) for p in problems), \
        [str(p)[:200] for p in problems]


@FUZZ
@given(fmt=st.sampled_from(["csv", "snipeit", "netbox"]),
       body=st.one_of(_mutated_bytes(GOOD_CSV), st.binary(max_size=200),
                      st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass"))))
def test_csv_imports_give_only_import_errors(sqlite_db: Database, tmp_path_factory: Any,
                                             fmt: str, body: bytes) -> None:
    _import_only_fails_cleanly(sqlite_db, tmp_path_factory.mktemp("in"), fmt, body)


@FUZZ
@given(fmt=st.sampled_from(["json", "cyclonedx"]),
       body=st.one_of(_mutated_bytes(GOOD_JSON), _mutated_bytes(GOOD_SBOM),
                      JSON_VALUES.map(lambda v: json.dumps(v).encode()),
                      st.lists(JSON_VALUES, max_size=3).map(
                          lambda vs: "\n".join(json.dumps(v) for v in vs).encode()),
                      st.binary(max_size=100)))
def test_json_imports_give_only_import_errors(sqlite_db: Database, tmp_path_factory: Any,
                                              fmt: str, body: bytes) -> None:
    _import_only_fails_cleanly(sqlite_db, tmp_path_factory.mktemp("in"), fmt, body)
