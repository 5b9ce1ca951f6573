"""Text in SVG without a browser: widths estimated from Arial's metrics (Liberation Sans has the
same), wrapping, and dropping what XML does not allow."""

from __future__ import annotations

import re
import unicodedata

_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

# Advance widths of Arial / Liberation Sans (units of 1/1000 em) for printable ASCII.
_ASCII_WIDTHS = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278,  # space to /
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556,  # 0 to ?
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778,  # @ to O
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556,  # P to _
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556,  # ` to o
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,  # p to ~
]


def text_width(text: str, size: float, bold: bool = False) -> float:
    """Estimated width of ``text`` in pixels at font ``size``."""
    units = 0
    for ch in text:
        code = ord(ch)
        if 32 <= code <= 126:
            units += _ASCII_WIDTHS[code - 32]
        elif unicodedata.east_asian_width(ch) in ("W", "F"):
            units += 1000
        elif unicodedata.combining(ch):
            continue
        else:
            units += 620
    return units / 1000 * size * (1.07 if bold else 1.0)


def wrap(text: str, width: float, size: float, bold: bool = False, max_lines: int = 0
         ) -> list[str]:
    """Greedy word wrap to ``width`` pixels; words too long for a line are broken after a hyphen
    or, failing that, anywhere. With ``max_lines`` the last line ends in an ellipsis if cut."""
    words: list[str] = []
    for word in text.split():
        words.extend(_split_long(word, width, size, bold))
    lines: list[str] = []
    current = ""
    for word in words:
        candidate = f"{current} {word}" if current and not current.endswith("-") else current + word
        if current and text_width(candidate, size, bold) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    if max_lines and len(lines) > max_lines:
        kept = lines[:max_lines]
        last = kept[-1]
        while last and text_width(last + "…", size, bold) > width:
            last = last[:-1]
        kept[-1] = last.rstrip() + "…"
        return kept
    return lines or [""]


def _split_long(word: str, width: float, size: float, bold: bool) -> list[str]:
    # A word a little too wide is left whole: it runs a few pixels into the margin, which reads
    # better than a word broken in two.
    if text_width(word, size, bold) <= width * 1.12:
        return [word]
    parts = [p + "-" for p in word.split("-")]
    parts[-1] = parts[-1][:-1]
    if len(parts) > 1 and all(text_width(p, size, bold) <= width for p in parts):
        # Glue the hyphenated parts back with no space: wrap() joins them without one.
        return parts
    pieces, current = [], ""
    for ch in word:
        if current and text_width(current + ch, size, bold) > width:
            pieces.append(current + "-")
            current = ch
        else:
            current += ch
    return [*pieces, current]


def clean(text: str) -> str:
    return _NOT_XML.sub("", text)


def num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def hours(value: float) -> str:
    return f"{value:g} h"
