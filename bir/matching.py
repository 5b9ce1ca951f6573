"""Free-text matching: the one rule every search of the product uses (the register's ``q``, and the
search in the header over items, changes and people).

The text is cut into words at white space, and every word must occur, ignoring case, in at least
one of the columns searched: "Dell Latitude" finds a laptop whose manufacturer is Dell and whose
model is Latitude 7440. A word is matched literally (``%`` and ``_`` are characters, not
wildcards). The condition is ``lower(column) LIKE :word ESCAPE '\\'`` per word and column, the
words bound as parameters, so it reads the same on SQLite and PostgreSQL. On SQLite it is
``column LIKE :word``: its LIKE already ignores the case of ASCII letters, and its ``lower`` folds
no others (there "É" and "é" count as different letters either way) but copies every value,
which made a search of the register several times slower.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import String, and_, or_, true
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

# More words than this in one search are ignored: each adds a pass over every column.
MAX_WORDS = 10
LIKE_ESCAPE = "\\"


class folded(FunctionElement[str]):
    """A text column with its case folded for matching: ``lower(column)``, or on SQLite the column
    itself (see the module's docstring)."""

    name = "lower"
    type = String()
    inherit_cache = True


@compiles(folded)
def _lower(element: folded, compiler: SQLCompiler, **kw: Any) -> str:
    return f"lower({compiler.process(element.clauses, **kw)})"


@compiles(folded, "sqlite")
def _as_is(element: folded, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


def search_words(text: str | None) -> list[str]:
    """The words of ``text`` a search matches, lower-cased, each once, at most ``MAX_WORDS``."""
    words: list[str] = []
    for word in (text or "").lower().split():
        if word not in words:
            words.append(word)
    return words[:MAX_WORDS]


def contains_pattern(word: str) -> str:
    """A LIKE pattern for text containing ``word`` literally (escaped with ``LIKE_ESCAPE``)."""
    for special in (LIKE_ESCAPE, "%", "_"):
        word = word.replace(special, LIKE_ESCAPE + special)
    return f"%{word}%"


def matches_text(columns: Sequence[Any], text: str | None) -> Any:
    """The SQL condition 'every word of ``text`` occurs in one of ``columns``, ignoring case';
    true when ``text`` has no words. A column that is empty (NULL) matches no word."""
    words = search_words(text)
    if not words:
        return true()
    return and_(*(
        or_(*(folded(column).like(contains_pattern(word), escape=LIKE_ESCAPE)
              for column in columns))
        for word in words))


__all__ = ["MAX_WORDS", "contains_pattern", "folded", "matches_text", "search_words"]
