"""Small server-side SVG charts for report pages: no script, no CDN, nothing the CSP refuses.

Two shapes: ``bar_chart`` (horizontal bars, label -> value, e.g. counts by status or cost per
service) and ``column_chart`` (vertical columns over a time series such as month -> count, one or
more series, stacked or side by side). Values are ``int`` or ``Decimal`` (money stays exact: sizes
are computed in Decimal and value labels are formatted from the Decimal, never through float).

Each chart is returned as ``Markup`` of a ``<figure class="chart">`` holding the SVG (``role="img"``
with an ``aria-label`` and a ``<title>``) and a visually hidden table of the same figures for screen
readers. Colours are SVG presentation attributes (``fill``), which the CSP allows; ``style=""`` is
never written. Labels are escaped.

Scaled to a phone's width, a 640-unit drawing would shrink its 12-unit text to 6 px, so each
figure carries a second drawing for narrow boxes (``NARROW`` units wide, the bars' labels above
the bars, fewer axis labels, no value labels that would collide); the stylesheet shows one of
the two by the figure's own width (a container query), so the text stays 11 px or more.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import format_decimal
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

Number = int | Decimal
# Colour-blind-safe palette (Okabe-Ito); series take the colours in order.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")
TEXT_COLOUR = "#374151"
AXIS_COLOUR = "#9CA3AF"
HUNDREDTH = Decimal("0.01")
MAX_LABEL_CHARS = 28
NARROW = 300  # the narrow drawing's width: shown at 300 to 380 px, its 12-unit text stays legible
CHAR = 7  # about how wide a character of 12-unit text is


@dataclass(frozen=True)
class Series:
    """One named row of values of a column chart, one value per label."""

    name: str
    values: Sequence[Number]


def value_text(value: Number) -> str:
    """``1,234`` for a count, ``1,234.50`` for a Decimal amount (Dutch: ``1.234,50``)."""
    locale = get_locale() or "en"
    if isinstance(value, Decimal):
        return format_decimal(value.quantize(HUNDREDTH, rounding=ROUND_HALF_UP), "#,##0.00",
                              locale=locale)
    return format_decimal(value, "#,##0", locale=locale)


def _coordinate(value: Decimal) -> str:
    return str(value.quantize(HUNDREDTH, rounding=ROUND_HALF_UP))


def _scaled(value: Number, maximum: Number, length: int) -> Decimal:
    """``value`` as a share of ``maximum`` times ``length`` (0 when the maximum is 0)."""
    if not maximum:
        return Decimal(0)
    return Decimal(value) / Decimal(maximum) * length


def _checked(values: Sequence[Number]) -> None:
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            raise TypeError(f"chart values are int or Decimal, not {type(value).__name__}")
        if value < 0:
            raise ValueError("charts show values of 0 or more")


def _short(label: str, limit: int = MAX_LABEL_CHARS) -> str:
    return label if len(label) <= limit else label[:limit - 1] + "…"


def _figure(svg: str, title: str, headers: Sequence[str], rows: Sequence[Sequence[str]],
            empty: bool, narrow: str = "") -> Markup:
    table = "".join(
        "<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in rows)
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in headers)
    note = f'<p class="empty">{escape(_l("No data to chart."))}</p>' if empty else ""
    return Markup(
        f'<figure class="chart">{svg}{narrow}{note}'
        # The wrapper hides the table: a table itself cannot be shrunk to 1px, and would widen
        # the page on a narrow screen.
        f'<div class="visually-hidden"><table><caption>{escape(title)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{table}</tbody></table></div></figure>")


def _svg_open(title: str, width: int, height: int, variant: str = "") -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart-svg{variant}" role="img" '
            f'aria-label="{escape(title)}" viewBox="0 0 {width} {height}" '
            f'width="{width}" height="{height}" font-size="12" '
            f'font-family="system-ui, sans-serif"><title>{escape(title)}</title>')


def bar_chart(data: Sequence[tuple[str, Number]], *, title: str,
              value_format: Callable[[Number], str] = value_text, width: int = 640,
              value_header: str | None = None) -> Markup:
    """Horizontal bars, one per ``(label, value)`` in the order given, each as long as its share
    of the largest value and labelled with the value. Empty data draws an empty chart with a
    note; all-zero data draws no bars but keeps the labels."""
    _checked([value for _, value in data])
    # Room on the right for the longest value label (about 7 units a character).
    longest = max((len(value_format(value)) for _, value in data), default=0)
    row_height, label_width, value_width = 26, 190, max(60, 7 * longest + 12)
    plot = width - label_width - value_width
    height = max(row_height, row_height * len(data)) + 8
    maximum = max((value for _, value in data), default=0)
    parts = [_svg_open(title, width, height)]
    for i, (label, value) in enumerate(data):
        y = 4 + i * row_height
        length = _scaled(value, maximum, plot)
        parts.append(
            f'<g class="bar"><title>{escape(label)}: {escape(value_format(value))}</title>'
            f'<text x="{label_width - 8}" y="{y + 17}" text-anchor="end" '
            f'fill="{TEXT_COLOUR}">{escape(_short(label))}</text>'
            f'<rect x="{label_width}" y="{y + 3}" width="{_coordinate(length)}" '
            f'height="{row_height - 8}" fill="{PALETTE[0]}"/>'
            f'<text x="{_coordinate(label_width + length + 6)}" y="{y + 17}" '
            f'fill="{TEXT_COLOUR}">{escape(value_format(value))}</text></g>')
    parts.append(f'<line x1="{label_width}" y1="2" x2="{label_width}" y2="{height - 2}" '
                 f'stroke="{AXIS_COLOUR}"/></svg>')
    rows = [(label, value_format(value)) for label, value in data]
    return _figure("".join(parts), title, (str(_l("Label")), str(value_header or _l("Value"))),
                   rows, not data, _narrow_bars(data, title, value_format))


def _narrow_bars(data: Sequence[tuple[str, Number]], title: str,
                 value_format: Callable[[Number], str]) -> str:
    """The bars for a narrow box: each label on its own line above its bar, so the bars get the
    whole width and the label its full length (up to what the line holds)."""
    longest = max((len(value_format(value)) for _, value in data), default=0)
    row_height, value_width = 40, max(40, CHAR * longest + 10)
    plot = NARROW - value_width
    height = max(row_height, row_height * len(data)) + 4
    maximum = max((value for _, value in data), default=0)
    parts = [_svg_open(title, NARROW, height, " narrow")]
    for i, (label, value) in enumerate(data):
        y = 2 + i * row_height
        length = _scaled(value, maximum, plot)
        parts.append(
            f'<g class="bar"><title>{escape(label)}: {escape(value_format(value))}</title>'
            f'<text x="0" y="{y + 13}" fill="{TEXT_COLOUR}">'
            f'{escape(_short(label, NARROW // CHAR))}</text>'
            f'<rect x="0" y="{y + 18}" width="{_coordinate(length)}" height="16" '
            f'fill="{PALETTE[0]}"/>'
            f'<text x="{_coordinate(length + 5)}" y="{y + 31}" '
            f'fill="{TEXT_COLOUR}">{escape(value_format(value))}</text></g>')
    parts.append("</svg>")
    return "".join(parts)


def _value_label(x: Decimal | int, y: Decimal | int, text: str) -> str:
    return (f'<text x="{_coordinate(Decimal(x))}" y="{_coordinate(Decimal(y))}" '
            f'text-anchor="middle" fill="{TEXT_COLOUR}">{escape(text)}</text>')


def column_chart(labels: Sequence[str], series: Sequence[Series], *, title: str,
                 stacked: bool = True, value_format: Callable[[Number], str] = value_text,
                 width: int = 640, height: int = 260) -> Markup:
    """Vertical columns, one slot per label (e.g. a month), one column per series stacked (or side
    by side with ``stacked=False``); heights proportional to the largest column. Stacked slots are
    labelled with their total, side-by-side columns each with its own value (a total of unlike
    figures, such as entitled and consumed, would mean nothing); zero is left unlabelled. Axis
    labels are shortened to fit their slot. A legend names the series when there is more than
    one."""
    for s in series:
        if len(s.values) != len(labels):
            raise ValueError(f"series {s.name!r} has {len(s.values)} values for "
                             f"{len(labels)} labels")
        _checked(s.values)
    left, right, top, bottom = 12, 12, 34, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum((s.values[i] for s in series), start=0) for i in range(len(labels))]
    maximum = max(totals if stacked else [v for s in series for v in s.values], default=0)
    parts = [_svg_open(title, width, height)]
    if len(series) > 1:
        x = left
        for n, s in enumerate(series):
            parts.append(f'<rect x="{x}" y="6" width="12" height="12" '
                         f'fill="{PALETTE[n % len(PALETTE)]}"/>'
                         f'<text x="{x + 16}" y="16" fill="{TEXT_COLOUR}">{escape(s.name)}</text>')
            x += 28 + 7 * len(s.name)
    slot = Decimal(plot_w) / max(1, len(labels))
    label_chars = max(4, int(slot / 7))
    column = slot * Decimal("0.7") / (1 if stacked else max(1, len(series)))
    base_y = top + plot_h
    for i, label in enumerate(labels):
        x0 = left + slot * i + slot * Decimal("0.15")
        y = Decimal(base_y)
        for n, s in enumerate(series):
            value = s.values[i]
            size = _scaled(value, maximum, plot_h)
            x = x0 if stacked else x0 + column * n
            top_y = y - size if stacked else base_y - size
            if value:
                parts.append(_bar(x, top_y, column, size, n,
                                  f"{label}, {s.name}: {value_format(value)}"))
            if stacked:
                y = top_y
            elif value:
                parts.append(_value_label(x + column / 2, top_y - 4, value_format(value)))
        centre = left + slot * i + slot / 2
        if stacked and totals[i]:
            parts.append(_value_label(centre, y - 4, value_format(totals[i])))
        parts.append(
            f'<text x="{_coordinate(centre)}" y="{base_y + 16}" text-anchor="middle" '
            f'fill="{TEXT_COLOUR}">{escape(_short(label, label_chars))}</text>')
    parts.append(f'<line x1="{left}" y1="{base_y}" x2="{width - right}" y2="{base_y}" '
                 f'stroke="{AXIS_COLOUR}"/></svg>')
    with_total = stacked and len(series) > 1
    headers = [str(_l("Label")), *(s.name for s in series)] + ([str(_l("Total"))] if with_total
                                                                else [])
    rows = [[label, *(value_format(s.values[i]) for s in series)]
            + ([value_format(totals[i])] if with_total else [])
            for i, label in enumerate(labels)]
    return _figure("".join(parts), title, headers, rows, not labels,
                   _narrow_columns(labels, series, title, stacked, value_format, totals, maximum))


def _bar(x: Decimal, top_y: Decimal, width: Decimal, height: Decimal, series: int,
         tip: str) -> str:
    """One column of a bar chart in its series' colour, its label, series and value as a tip."""
    return (f'<rect x="{_coordinate(x)}" y="{_coordinate(top_y)}" width="{_coordinate(width)}" '
            f'height="{_coordinate(height)}" fill="{PALETTE[series % len(PALETTE)]}">'
            f'<title>{escape(tip)}</title></rect>')


def _narrow_columns(labels: Sequence[str], series: Sequence[Series], title: str, stacked: bool,
                    value_format: Callable[[Number], str], totals: Sequence[Number],
                    maximum: Number) -> str:
    """The columns for a narrow box: the legend one series a line, an axis label under every
    n-th slot only (as many as fit), and a value over a column only where it fits the slot."""
    legend = len(series) if len(series) > 1 else 0
    left, right, top, bottom, height = 4, 4, 20 + 18 * legend, 24, 240 + 18 * legend
    plot_w, plot_h = NARROW - left - right, height - top - bottom
    parts = [_svg_open(title, NARROW, height, " narrow")]
    for n, s in enumerate(series if legend else ()):
        parts.append(f'<rect x="{left}" y="{4 + 18 * n}" width="12" height="12" '
                     f'fill="{PALETTE[n % len(PALETTE)]}"/>'
                     f'<text x="{left + 16}" y="{14 + 18 * n}" fill="{TEXT_COLOUR}">'
                     f'{escape(_short(s.name, (NARROW - 20) // CHAR))}</text>')
    slot = Decimal(plot_w) / max(1, len(labels))
    # Every n-th slot carries its label, at up to 10 characters each.
    chars = min(10, max((len(label) for label in labels), default=1))
    step = max(1, -(-(chars * CHAR + 6) // max(1, int(slot))))
    column = slot * Decimal("0.7") / (1 if stacked else max(1, len(series)))
    base_y = top + plot_h
    for i, label in enumerate(labels):
        x0 = left + slot * i + slot * Decimal("0.15")
        y = Decimal(base_y)
        for n, s in enumerate(series):
            value = s.values[i]
            size = _scaled(value, maximum, plot_h)
            x = x0 if stacked else x0 + column * n
            top_y = y - size if stacked else base_y - size
            if value:
                parts.append(_bar(x, top_y, column, size, n,
                                  f"{label}, {s.name}: {value_format(value)}"))
            if stacked:
                y = top_y
            elif value and len(value_format(value)) * CHAR <= column:
                parts.append(_value_label(x + column / 2, top_y - 4, value_format(value)))
        centre = left + slot * i + slot / 2
        total = value_format(totals[i])
        if stacked and totals[i] and len(total) * CHAR <= slot:
            parts.append(_value_label(centre, y - 4, total))
        if i % step == 0:
            text = _short(label, chars)
            half = Decimal(len(text) * CHAR) / 2  # kept inside the drawing at either end
            x = min(max(centre, left + half), NARROW - right - half)
            parts.append(
                f'<text x="{_coordinate(x)}" y="{base_y + 16}" text-anchor="middle" '
                f'fill="{TEXT_COLOUR}">{escape(text)}</text>')
    parts.append(f'<line x1="{left}" y1="{base_y}" x2="{NARROW - right}" y2="{base_y}" '
                 f'stroke="{AXIS_COLOUR}"/></svg>')
    return "".join(parts)


__all__ = ["PALETTE", "Series", "bar_chart", "column_chart", "value_text"]
