"""YAML as designers read and write it: the text of a change model or an item class."""

from __future__ import annotations

import io
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError as RuamelError

from bir.yaml_input import YamlLimitExceeded, check_yaml_limits


class _Dumper(yaml.SafeDumper):
    """Writes text with line breaks as a ``|`` block, as a designer would, not a quoted string."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    # PyYAML falls back to quoting by itself when a block cannot hold the text exactly.
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def dump_yaml(data: dict[str, Any]) -> str:
    """YAML as a designer writes it: keys in order, multi-line text as blocks."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=None,
                     allow_unicode=True, width=4096)


def normalised(text: Any) -> Any:
    """A text with its line endings as ``\n`` (a browser posts a textarea with ``\r\n``, and a
    file may come from Windows): what is stored and compared; anything else as it is."""
    if not isinstance(text, str):
        return text
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _round_trip() -> YAML:
    handler = YAML(typ="rt")
    handler.indent(mapping=2, sequence=4, offset=2)  # "  - name: ...", as the shipped texts
    handler.width = 4096
    handler.preserve_quotes = True
    return handler


def load_for_edit(text: str) -> Any:
    """A designer's text loaded so that it can be edited and written back with its comments,
    order and layout kept (ruamel's round trip; PyYAML forgets comments). ``ValueError`` with
    the place of the problem when the text does not load, or breaks a limit of
    ``bir.yaml_input`` (checked first: ruamel has no limits of its own)."""
    try:
        check_yaml_limits(text)
    except YamlLimitExceeded as exc:
        mark = exc.problem_mark
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ValueError(f"not valid YAML{at}: {exc.reason}") from exc
    try:
        return _round_trip().load(text)
    except RuamelError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ValueError(f"not valid YAML{at}: {getattr(exc, 'problem', None) or exc}") from exc
    except RecursionError as exc:
        raise ValueError("not valid YAML: nested too deeply") from exc


def dump_edited(data: Any) -> str:
    """The text of what ``load_for_edit`` gave, after the edit: what was not edited reads as
    before, comments included."""
    out = io.StringIO()
    _round_trip().dump(data, out)
    return out.getvalue()
