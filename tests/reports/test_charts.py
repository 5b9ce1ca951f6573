"""The server-side SVG charts: sizes proportional to the values (worked out by hand), empty and
all-zero data, exact money labels, escaping, accessibility and nothing the CSP refuses."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from web.support.charts import Series, bar_chart, column_chart, value_text

RECT = re.compile(r'<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"')


def wide(html: str) -> str:
    """The figure's drawing for a wide box (the drawing for a narrow one follows it)."""
    return html[:html.index("</svg>")]


def bars(svg: str) -> list[tuple[str, str, str, str]]:
    return RECT.findall(wide(svg))


def test_bars_are_proportional_to_the_values() -> None:
    html = bar_chart([("In use", 10), ("In stock", 5), ("Retired", 0)], title="By status")
    # The longest value label is "10" (2 characters: 7 x 2 + 12 = 26, so the minimum 60 holds):
    # the plot is 640 - 190 (labels) - 60 (values) = 390 wide: 10 -> 390, 5 -> 195, 0 -> 0.
    assert [width for _, _, width, _ in bars(html)] == ["390.00", "195.00", "0.00"]
    assert [y for _, y, _, _ in bars(html)] == ["7", "33", "59"]  # rows 26 apart
    assert ">10</text>" in html and ">5</text>" in html  # value labels


def test_money_is_labelled_exactly_without_float() -> None:
    html = bar_chart([("E-mail", Decimal("1234.50")), ("Portal", Decimal("0.10"))],
                     title="Cost per service")
    assert ">1,234.50</text>" in html and ">0.10</text>" in html
    # "1,234.50" is 8 characters: values take 7 x 8 + 12 = 68, the plot 640 - 190 - 68 = 382;
    # 0.10 / 1234.50 x 382 = 0.03094... -> 0.03
    assert [width for _, _, width, _ in bars(html)] == ["382.00", "0.03"]
    assert value_text(Decimal("0.005")) == "0.01"  # half up, as money is shown
    with pytest.raises(TypeError):
        bar_chart([("x", 1.5)], title="floats are refused")  # type: ignore[list-item]
    with pytest.raises(ValueError):
        bar_chart([("x", -1)], title="negative")


def test_empty_and_all_zero_data() -> None:
    empty = bar_chart([], title="Nothing")
    assert "<rect" not in empty and "No data to chart." in empty and "</svg>" in empty
    zeros = bar_chart([("a", 0), ("b", 0)], title="Zeros")
    assert [width for _, _, width, _ in bars(zeros)] == ["0.00", "0.00"]
    no_months = column_chart([], [Series("Warranty", [])], title="No months")
    assert "No data to chart." in no_months
    quiet = column_chart(["Jan", "Feb"], [Series("Warranty", [0, 0])], title="Quiet")
    assert "<rect" not in quiet and ">Jan</text>" in quiet


def test_labels_are_escaped_and_nothing_inline_is_written() -> None:
    html = str(bar_chart([('<script>alert("x")</script> & co', 3)], title='A "title" <b>'))
    assert "<script>" not in html and "&lt;script&gt;" in html and "&amp; co" in html
    assert 'aria-label="A &#34;title&#34; &lt;b&gt;"' in html
    assert "style=" not in html and "<style" not in html
    assert 'role="img"' in html and "<title>A &#34;title&#34; &lt;b&gt;</title>" in html
    # The same figures in a table for screen readers.
    assert '<div class="visually-hidden"><table><caption>A &#34;title&#34; &lt;b&gt;</caption>' in html
    long = bar_chart([("A very long class name that goes on and on", 1)], title="t")
    assert "A very long class name that…" in long


def test_stacked_columns_per_month() -> None:
    html = column_chart(["Jan", "Feb"], [Series("Warranty", [2, 0]), Series("Lease", [1, 3])],
                        title="Expiries")
    # Plot height 260 - 34 - 40 = 186, base line at y = 220; both months total 3 (the maximum).
    # Jan: warranty 2/3 x 186 = 124 (y 220 - 124 = 96), lease 1/3 x 186 = 62 on top (y 34).
    # Feb: lease 3/3 x 186 = 186 (y 34); the zero warranty draws nothing.
    # Slots are 616 / 2 = 308 wide, columns 0.7 x 308 = 215.6 from 12 + 0.15 x 308 = 58.2.
    columns = [r for r in bars(html) if r[2] != "12"]  # legend squares are 12 x 12
    assert columns == [("58.20", "96.00", "215.60", "124.00"), ("58.20", "34.00", "215.60", "62.00"),
                       ("366.20", "34.00", "215.60", "186.00")]
    assert ">Warranty</text>" in html and ">Lease</text>" in html  # legend
    assert wide(html).count(">3</text>") == 2  # each month's total
    assert "<td>Jan</td><td>2</td><td>1</td><td>3</td>" in html


def test_axis_labels_shrink_to_their_slot() -> None:
    months = [f"2026-{m:02d} month" for m in range(1, 13)]
    html = column_chart(months, [Series("n", [1] * 12)], title="Months")
    # 12 slots of 616 / 12 = 51.33 units: int(51.33 / 7) = 7 characters, the last an ellipsis.
    assert ">2026-0…</text>" in html and "2026-01 month" in html  # full text stays in the table


def test_side_by_side_columns_scale_to_the_largest_single_value() -> None:
    html = column_chart(["Jan", "Feb"], [Series("Warranty", [2, 0]), Series("Lease", [1, 4])],
                        title="Expiries", stacked=False)
    # Largest single value 4 -> 186; 2 -> 93; 1 -> 46.5. Columns 215.6 / 2 = 107.8 wide.
    heights = [(x, height) for x, _, width, height in bars(html) if width == "107.80"]
    assert heights == [("58.20", "93.00"), ("166.00", "46.50"), ("474.00", "186.00")]
    # Each column carries its own value (no total of unlike figures); a zero carries none.
    labels = re.findall(r'<text x="([0-9.]+)" y="([0-9.]+)" text-anchor="middle" '
                        r'fill="[^"]+">([0-9]+)</text>', wide(html))
    # Centres: 58.2 + 107.8 / 2 = 112.1, 166 + 53.9 = 219.9, 474 + 53.9 = 527.9; 4 above each top.
    assert labels == [("112.10", "123.00", "2"), ("219.90", "169.50", "1"),
                      ("527.90", "30.00", "4")]
    assert "<th scope=\"col\">Total</th>" not in html
    with pytest.raises(ValueError):
        column_chart(["Jan"], [Series("Warranty", [1, 2])], title="mismatch")


def _narrow(html: str) -> str:
    start = html.index('<svg xmlns="http://www.w3.org/2000/svg" class="chart-svg narrow"')
    return html[start:html.index("</svg>", start)]


def _font_px(svg: str, shown_at: int) -> float:
    """The size text of ``svg`` is shown at when the drawing is ``shown_at`` px wide."""
    width = int(re.search(r'viewBox="0 0 (\d+) ', svg).group(1))
    size = int(re.search(r'font-size="(\d+)"', svg).group(1))
    return size * shown_at / width


def test_a_narrow_box_gets_a_drawing_whose_text_stays_legible() -> None:
    """At 375 px a chart is about 310 px wide (in a dashboard panel): the wide drawing's text
    would be 6 px there, the narrow one's 11 or more."""
    html = str(bar_chart([("A very long class name that goes on and on", 10), ("Short", 5)],
                         title="By class"))
    narrow = _narrow(html)
    assert _font_px(wide(html), 310) < 6 and _font_px(narrow, 310) >= 11
    # The label has its own line above the bar, so the bar takes the whole width.
    assert ">A very long class name that goes on and on</text>" in narrow  # 42 characters fit
    assert [w for _, _, w, _ in RECT.findall(narrow)] == ["260.00", "130.00"]  # 300 - 40
    assert html.count('role="img"') == 2 and html.count("<table>") == 1  # one table of figures


def test_narrow_columns_label_every_nth_month_and_drop_colliding_values() -> None:
    months = [f"2026-{m:02d}" for m in range(1, 13)]
    html = str(column_chart(months, [Series("Warranty", [100] * 12),
                                     Series("Lease", [1200] * 12)], title="Expiries"))
    narrow = _narrow(html)
    axis = re.findall(r'text-anchor="middle" fill="[^"]+">(2026-\d\d)</text>', narrow)
    # Slots of 292 / 12 = 24 units; a 7-character label needs 55: every third month.
    assert axis == ["2026-01", "2026-04", "2026-07", "2026-10"]
    assert ">1,300</text>" in wide(html)
    assert ">1,300</text>" not in narrow  # a total wider than its slot is left to the table
    positions = [float(x) for x in re.findall(r'<text x="([0-9.]+)"[^>]*text-anchor="middle"',
                                             narrow)]
    assert min(positions) >= 4 + 7 * 7 / 2  # the first label is not cut off at the left
    assert ">Warranty</text>" in narrow and ">Lease</text>" in narrow  # legend, a line each
