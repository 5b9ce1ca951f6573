"""Hostile input to the item-class loader: random and mutated YAML gives only
``ClassDefinitionError`` (each problem a message), never another exception (a 500 on the web)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import example, given
from hypothesis import strategies as st

from tests.system.test_hostile_input_fuzz import FUZZ, YAML_CRASHES, _mutations
from usm.services.item_classes import ClassDefinitionError, load_class_list
from usm.services.item_classes.checks import load_class_yaml, parse_class

SHIPPED = (Path(__file__).resolve().parents[2] / "bir" / "classes.yaml").read_text(encoding="utf-8")
LAPTOP = yaml.safe_dump(next(c for c in yaml.safe_load(SHIPPED)["classes"]
                             if c["code"] == "hardware.laptop"))
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
                    st.text(max_size=12), st.dates(),
                    st.sampled_from(["string", "integer", "cpu", "LAP", "hardware.x", ""]))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.one_of(st.text(max_size=8), st.integers(), st.sampled_from(
        ["code", "name", "key_prefix", "abstract", "attributes", "type", "allowed", "unit",
         "required", "label"])), inner, max_size=5)), max_leaves=20)


def _refused_or_valid(text: str) -> None:
    try:
        parse_class(load_class_yaml(text, where="fuzz.yaml"))
    except ClassDefinitionError as exc:
        assert exc.problems and all(isinstance(p, str) and p for p in exc.problems)
    try:
        load_class_list(text, where="fuzz.yaml")
    except ClassDefinitionError as exc:
        assert exc.problems


@pytest.mark.parametrize("text", YAML_CRASHES)
def test_yaml_that_crashes_a_loader_is_a_class_definition_error(text: str) -> None:
    with pytest.raises(ClassDefinitionError, match="fuzz.yaml: not valid YAML"):
        load_class_yaml(text, where="fuzz.yaml")


@FUZZ
@given(st.one_of(_mutations(LAPTOP), st.text(max_size=200)))
def test_mutated_class_yaml_gives_only_class_errors(text: str) -> None:
    _refused_or_valid(text)


@FUZZ
@given(VALUES)
@example({"attributes": [{"name": "x", "type": ["integer"]}]})
@example({"attributes": [{"name": "x", "allowed": [[1]]}]})
def test_random_structures_give_only_class_errors(value: Any) -> None:
    base = yaml.safe_load(LAPTOP)
    if isinstance(value, dict):
        base.update(value)
        value = base
    _refused_or_valid(yaml.safe_dump(value, allow_unicode=True))
