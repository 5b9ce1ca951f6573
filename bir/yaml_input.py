"""YAML a person wrote (a change set, a change model, an item class, an import mapping), read
with limits, so that no text can make the process run out of memory or time.

PyYAML's ``safe_load`` refuses code, not size: an alias (``*name``) is the anchored value itself,
shared, so a few hundred bytes of aliases to aliases load in a millisecond and become gigabytes
only when the value is walked later (validated, stored as JSON, echoed in an error). The loader
here counts every value as it is composed, an alias as the whole value it repeats, and refuses
the text before anything walks it. Shipped texts use no aliases; a designer may use a few.
"""

from __future__ import annotations

import time
from typing import Any

import yaml

MAX_CHARS = 512 * 1024  # the designer's upload limit for a change model, the largest YAML asked for
MAX_ALIASES = 50
MAX_DEPTH = 32  # a scalar counted as a level: a shipped change model nests 8, a change set 4
# Values, an alias counted as the values it repeats. PyYAML composes some 15,000 to 40,000 values
# a second, so this bounds the time too; the largest change set the API takes (500 operations of
# ten fields) holds some 10,500, a shipped change model some 300, the shipped classes 711.
MAX_NODES = 50_000
MAX_SECONDS = 10.0  # a last guard: the limits above keep a text well under it


class YamlLimitExceeded(yaml.MarkedYAMLError):
    """The text breaks one of the limits: ``problem`` says which, ``problem_mark`` (when known)
    where. A ``yaml.YAMLError``, so every caller names it as it names text that is not YAML:
    ``not valid YAML at line 3, column 9: more than 50 aliases (*name) ...``."""

    def __init__(self, reason: str, mark: yaml.Mark | None = None):
        super().__init__(problem=reason, problem_mark=mark)
        self.reason = reason

    def __str__(self) -> str:
        mark = self.problem_mark
        return self.reason + (f" at line {mark.line + 1}, column {mark.column + 1}" if mark
                              else "")


class LimitedLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that counts while it composes: aliases, nesting, values (an alias as the
    size of its anchor's value) and time. Use it through :func:`load_yaml`."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._nodes = 0
        self._aliases = 0
        self._sizes: dict[str, int] = {}  # anchor -> how many values its value holds
        self._open: set[str] = set()  # anchors whose value is being composed
        self._deadline = time.monotonic() + MAX_SECONDS

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        event = self.peek_event()
        if time.monotonic() > self._deadline:
            raise YamlLimitExceeded(f"takes longer than {MAX_SECONDS:g} seconds to read",
                                    event.start_mark)
        if isinstance(event, yaml.AliasEvent):
            self._count_alias(event)
            return super().compose_node(parent, index)
        anchor = event.anchor
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise YamlLimitExceeded(f"nested too deeply (more than {MAX_DEPTH} levels)",
                                    event.start_mark)
        start = self._nodes
        self._count(1, event)
        if anchor is not None:
            self._open.add(anchor)
        node = super().compose_node(parent, index)
        if anchor is not None:
            self._open.discard(anchor)
            self._sizes[anchor] = self._nodes - start
        self._depth -= 1
        return node

    def _count_alias(self, event: yaml.AliasEvent) -> None:
        if event.anchor in self._open:
            raise YamlLimitExceeded(f"an alias inside its own anchor (*{event.anchor})",
                                    event.start_mark)
        self._aliases += 1
        if self._aliases > MAX_ALIASES:
            raise YamlLimitExceeded(f"more than {MAX_ALIASES} aliases (*name): write the values "
                                    "out", event.start_mark)
        # An undefined alias counts nothing here; the composer names it.
        self._count(self._sizes.get(event.anchor or "", 0), event)

    def _count(self, values: int, event: yaml.Event) -> None:
        self._nodes += values
        if self._nodes > MAX_NODES:
            raise YamlLimitExceeded(f"more than {MAX_NODES} values (an alias counts as the "
                                    "values it repeats)", event.start_mark)


def load_yaml(text: str) -> Any:
    """``text`` loaded as ``yaml.safe_load`` would, within the limits above.

    Raises ``YamlLimitExceeded`` (a ``yaml.YAMLError``) for a text over a limit, another
    ``yaml.YAMLError`` for text that is not YAML, and ``ValueError`` for a scalar YAML resolves
    but cannot build (``2001-13-01``)."""
    _check_size(text)
    loader = LimitedLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def check_yaml_limits(text: str) -> None:
    """Raise ``YamlLimitExceeded`` when ``text`` breaks a limit, before another YAML library
    (ruamel, for editing with comments kept) reads it; text that is not YAML passes, for that
    library to name the problem its own way."""
    _check_size(text)
    loader = LimitedLoader(text)
    try:
        loader.get_single_node()
    except YamlLimitExceeded:
        raise
    except yaml.YAMLError:
        pass
    finally:
        loader.dispose()


def _check_size(text: str) -> None:
    if len(text) > MAX_CHARS:
        raise YamlLimitExceeded(f"longer than {MAX_CHARS} characters")
