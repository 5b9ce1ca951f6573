"""The limited YAML loader every parser of user YAML goes through (``bir.yaml_input``): it reads
what ``yaml.safe_load`` reads, and refuses, with a named error and the place, aliases past a
count, nesting past a depth, more values than a budget (an alias counted as all it repeats), a
text past a size and a read past a time, before anything expands the value. Also the short
quoting of values in refusals (``bir.errors.shown``)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bir import yaml_input
from bir.classes import AttributeSpec, coerce_attribute
from bir.errors import SHOWN_CHARS, shown
from bir.yaml_input import (
    MAX_ALIASES,
    MAX_CHARS,
    MAX_DEPTH,
    MAX_NODES,
    YamlLimitExceeded,
    check_yaml_limits,
    load_yaml,
)
from tests.support.hostile_yaml import alias_bomb, aliases
from usm.services.documents import load_for_edit

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted([*(ROOT / "workflows" / "change_models").glob("*.yaml"),
                  ROOT / "bir" / "classes.yaml",
                  *(ROOT / "usm" / "services" / "audit" / "mappings").glob("*.yaml")])


def _refused(text: str) -> YamlLimitExceeded:
    with pytest.raises(YamlLimitExceeded) as refused:
        load_yaml(text)
    return refused.value


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_yaml_loads_as_safe_load_reads_it(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert load_yaml(text) == yaml.safe_load(text)


def test_an_alias_bomb_is_refused_before_it_is_expanded() -> None:
    refused = _refused(alias_bomb(9))  # 387 million strings once expanded
    # Line 9 holds the fifth level: 9 ** 5 = 59,049 values.

    assert str(refused) == (f"more than {MAX_NODES} values (an alias counts as the values it "
                            "repeats) at line 9, column 39")
    assert isinstance(refused, yaml.YAMLError) and refused.problem_mark is not None
    assert (refused.problem_mark.line + 1, refused.problem_mark.column + 1) == (9, 39)


def test_an_alias_counts_as_every_value_it_repeats() -> None:
    # 30 aliases (under the alias limit) to a list of 2,000 values: 62,031 values in all.
    text = "base: &b [" + ", ".join(["1"] * 2000) + "]\ncopies: [" + ", ".join(["*b"] * 30) + "]\n"
    assert len(text) < 7000

    assert "more than 50000 values" in str(_refused(text))


def test_merge_keys_count_what_they_merge() -> None:
    base = "base: &b {" + ", ".join(f"k{n}: v" for n in range(1000)) + "}\n"
    merged = "".join(f"m{n}: {{<<: *b}}\n" for n in range(49))

    assert "more than 50000 values" in str(_refused(base + merged))


def test_aliases_are_counted_up_to_the_limit() -> None:
    assert load_yaml(aliases(MAX_ALIASES))["values"] == ["x"] * MAX_ALIASES

    refused = _refused(aliases(MAX_ALIASES + 1))

    assert str(refused).startswith(f"more than {MAX_ALIASES} aliases (*name): write the values "
                                   "out at line 2, column ")


def test_an_alias_inside_its_own_anchor_is_refused() -> None:
    # safe_load builds a list that holds itself: walking it never ends.
    assert isinstance(yaml.safe_load("a: &a [1, *a]")["a"][1], list)

    assert str(_refused("a: &a [1, *a]")) == ("an alias inside its own anchor (*a) at line 1, "
                                              "column 11")


@pytest.mark.parametrize("deep", [
    "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5),
    "".join(f"{'  ' * n}k{n}:\n" for n in range(MAX_DEPTH)) + "  " * MAX_DEPTH + "leaf: 1\n",
    "[" * 100_000,  # safe_load's composer recursed until RecursionError
], ids=["flow", "block", "unclosed"])
def test_nesting_past_the_depth_is_refused(deep: str) -> None:
    assert str(_refused(deep)).startswith(f"nested too deeply (more than {MAX_DEPTH} levels) at "
                                          "line ")


def test_nesting_up_to_the_depth_loads() -> None:
    levels = MAX_DEPTH - 1  # the scalar inside is a level too
    assert load_yaml("[" * levels + "1" + "]" * levels) is not None


def test_a_text_over_the_size_is_refused_without_reading_it() -> None:
    assert load_yaml("a: " + "x" * (MAX_CHARS - 3)) == {"a": "x" * (MAX_CHARS - 3)}

    refused = _refused("a: " + "x" * (MAX_CHARS - 2))

    assert str(refused) == f"longer than {MAX_CHARS} characters"


def test_more_values_than_the_budget_are_refused_without_aliases() -> None:
    text = "[" + ", ".join(["1"] * MAX_NODES) + "]"

    assert str(_refused(text)).startswith(f"more than {MAX_NODES} values")


def test_a_read_past_the_time_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yaml_input, "MAX_SECONDS", -1.0)

    assert str(_refused("a: 1")).startswith("takes longer than -1 seconds to read at line 1")


def test_text_that_is_not_yaml_is_still_a_yaml_error() -> None:
    with pytest.raises(yaml.YAMLError) as refused:
        load_yaml("a: [1, 2")
    assert not isinstance(refused.value, YamlLimitExceeded)


def test_the_check_before_another_library_reads_the_text() -> None:
    check_yaml_limits("a: [1, 2")  # not YAML: left to the other library to name
    with pytest.raises(YamlLimitExceeded, match="more than 50 aliases"):
        check_yaml_limits(aliases(MAX_ALIASES + 1))
    with pytest.raises(ValueError, match=r"not valid YAML at line 2, column \d+: more than 50 "
                                         "aliases"):
        load_for_edit(aliases(MAX_ALIASES + 1))  # the designer's form edit (ruamel)


# -- values quoted in refusals -------------------------------------------------------------------

def _tower(levels: int) -> list[object]:
    value: list[object] = ["lol"] * 9
    for _ in range(levels - 1):
        value = [value] * 9
    return value


def test_a_refusal_quotes_a_value_shortly_without_expanding_it() -> None:
    huge = _tower(9)  # 387 million strings, shared: repr() would never finish
    deep: list[object] = []
    for _ in range(100_000):
        deep = [deep]

    assert len(shown(huge)) <= SHOWN_CHARS and shown(huge).startswith("[[[")
    assert shown(deep) == "[[[...]]]"
    assert "..." in shown("x" * 1000) and len(shown("x" * 1000)) <= SHOWN_CHARS
    assert shown("many") == "'many'" and shown(["in_use"]) == "['in_use']"


def test_an_attribute_given_a_list_is_refused_shortly() -> None:
    spec = AttributeSpec(name="notes", type="text")

    with pytest.raises(ValueError) as refused:
        coerce_attribute(spec, _tower(9))

    assert str(refused.value).endswith("is not a single value")
    assert len(str(refused.value)) < 120
