"""YAML as designers read and write it: the text of a change model or an item class."""

from __future__ import annotations

from typing import Any

import yaml


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
