"""The diagram of a change model, drawn server-side as SVG in pure Python.

Layout (layered, fixed by the CHM skeleton rather than computed): one column per working step in
skeleton order, then one column for the final outcomes. A step's states stack in its column.

- Forward transitions run left to right between neighbouring columns, labelled in the gap between
  them: the trigger label above the arrow, the roles and guards (small) below it.
- Back transitions (rework) leave a box from below and loop underneath the boxes to the box they
  return to; nested loops sit at different depths so they never overlap, and their labels are put
  where no other line runs.
- Transitions that end a change early (rejected, withdrawn) often start from many states. Each is
  one horizontal lane under everything else, with a drop from every source state, that runs into
  its outcome box; its label sits at the right end, where no drop can run (a change can no longer
  be rejected or withdrawn from implementation or evaluation).
- Automatic transitions are dashed.

Every piece of text comes from designer-edited data, so the document is built with ElementTree,
which escapes text and attributes; characters XML does not allow are dropped. Text widths are
estimated from Arial's metrics (Liberation Sans has the same), which is enough to wrap labels.
"""

from __future__ import annotations

import re
import unicodedata
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from usm.services.definitions import (
    STEP_COLUMNS,
    DefinitionDetail,
    StateView,
    TransitionView,
)

SVG_NS = "http://www.w3.org/2000/svg"
FONT = "Arial, 'Liberation Sans', Helvetica, sans-serif"

BOX_W = 130.0
GAP = 108.0
PITCH = BOX_W + GAP
ROW_GAP = 30.0
MARGIN = 10.0
START_SPACE = 30.0  # left of the first column: the start marker
HEADER_H = 34.0

LABEL_PT = 12.0  # state labels
TITLE_PT = 11.0  # transition labels
META_PT = 10.0  # roles, guards, time targets
LINE = 1.25  # line height as a multiple of the font size

INK = "#1d2330"
MUTED = "#5a6578"
BAND = "#f1f4f8"
COLOURS = {
    "forward": "#2b3447",
    "back": "#a65a00",
    "rejected": "#a32020",
    "withdrawn": "#5f6b7d",
    "closed": "#1e7a3c",
}
BOX_FILL = {"closed": "#e7f3eb", "rejected": "#fbeaea", "withdrawn": "#edf0f4"}
BOX_STROKE = {"closed": COLOURS["closed"], "rejected": COLOURS["rejected"],
              "withdrawn": COLOURS["withdrawn"]}

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


def _clean(text: str) -> str:
    return _NOT_XML.sub("", text)


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _hours(value: float) -> str:
    return f"{value:g} h"


# -- layout -----------------------------------------------------------------------------------------


@dataclass
class Box:
    state: StateView
    col: int
    row: int  # row in the main band; -1 for an outcome box placed at its lanes
    lines: list[str]
    x: float = 0.0
    y: float = 0.0
    h: float = 0.0
    lowest: bool = True  # no box below it in its column: downward lines leave straight down
    ports: list[Port] = field(default_factory=list)

    @property
    def cx(self) -> float:
        return self.x + BOX_W / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2

    @property
    def right(self) -> float:
        return self.x + BOX_W

    @property
    def bottom(self) -> float:
        return self.y + self.h


@dataclass
class Port:
    """Where a downward line (loop end or lane drop) leaves or enters a box."""

    box: Box
    role: str  # "out" (loop leaves), "in" (loop returns), "drop" (into a lane)
    order: tuple[float, ...]  # position among the box's ports, left to right
    x: float = 0.0  # where the vertical line runs
    y: float = 0.0  # where it meets the box (its bottom, or low on its left side)
    side: bool = False  # meets the box on its left side (another box is below this one)


@dataclass
class Label:
    """A transition label: bold title lines and smaller meta lines (roles, guards)."""

    title: list[str]
    meta: list[str]

    @property
    def title_h(self) -> float:
        return len(self.title) * TITLE_PT * LINE

    @property
    def meta_h(self) -> float:
        return len(self.meta) * META_PT * LINE

    @property
    def height(self) -> float:
        return self.title_h + self.meta_h

    @property
    def width(self) -> float:
        widths = [text_width(t, TITLE_PT, True) for t in self.title]
        widths += [text_width(m, META_PT) for m in self.meta]
        return max(widths, default=0.0)


@dataclass
class PlacedLabel:
    label: Label
    x: float
    top: float
    anchor: str  # "middle", "start" or "end"
    split: float = 0.0  # space between title and meta (the arrow runs there)


@dataclass
class Forward:
    t: TransitionView
    src: Box
    dst: Box
    x_turn: float | None = None  # where an arrow between rows runs vertically


@dataclass
class Loop:
    """A back transition: down from one box, underneath, and up into an earlier one."""

    t: TransitionView
    src: Box
    dst: Box
    out: Port | None = None
    into: Port | None = None
    level: int = 0
    y: float = 0.0

    @property
    def span(self) -> tuple[float, float]:
        """The stretch of the band the loop and its label take up (for choosing depths)."""
        if self.src.col == self.dst.col:
            return self.src.x - 12, self.src.right
        return min(self.src.cx, self.dst.cx), max(self.src.cx, self.dst.cx)


@dataclass
class Lane:
    """A transition into a rejected or withdrawn outcome, from one or more states."""

    t: TransitionView
    sources: list[Box]
    dst: Box
    drops: list[Port] = field(default_factory=list)
    y: float = 0.0


def _who(t: TransitionView) -> str:
    return "automatic" if t.auto else ", ".join(r.lower() for r in t.role_labels)


def _label(t: TransitionView, width: float) -> Label:
    meta = wrap(_who(t), width, META_PT) if _who(t) else []
    for guard in t.guards:
        meta += wrap(f"[{guard}]", width, META_PT)
    return Label(wrap(t.label, width, TITLE_PT, bold=True, max_lines=3), meta)


def _lane_label(t: TransitionView, width: float) -> Label:
    meta = " · ".join([w for w in [_who(t)] if w] + [f"[{g}]" for g in t.guards])
    return Label(wrap(t.label, width, TITLE_PT, bold=True, max_lines=2),
                 wrap(meta, width, META_PT) if meta else [])


def _columns() -> dict[str, int]:
    """Column of each step: the working steps in skeleton order, then one for all outcomes."""
    working = [c for c in STEP_COLUMNS if c.number is not None]
    columns = {c.code: i for i, c in enumerate(working)}
    for c in STEP_COLUMNS:
        if c.number is None:
            columns[c.code] = len(working)
    return columns


COLUMNS = _columns()
OUTCOME_COL = max(COLUMNS.values())


def col_x(col: int) -> float:
    return MARGIN + START_SPACE + col * PITCH


class Layout:
    """Positions of every box, line and label; ``Drawing`` turns them into SVG."""

    def __init__(self, detail: DefinitionDetail):
        self.detail = detail
        states = {s.name: s for s in detail.states}
        lane_dests = {t.dest for t in detail.transitions
                      if t.dest in states and _ends_early(states[t.dest])}
        self.boxes: dict[str, Box] = {}
        rows: dict[int, int] = {}
        for s in detail.states:
            col = COLUMNS.get(s.step, OUTCOME_COL)
            row = -1
            if s.name not in lane_dests:
                row = rows.get(col, 0)
                rows[col] = row + 1
            lines = wrap(s.label, BOX_W - 16, LABEL_PT, bold=True, max_lines=3)
            self.boxes[s.name] = Box(s, col, row, lines)
        self.forward: list[Forward] = []
        self.down: list[tuple[TransitionView, Box, Box]] = []
        self.loops: list[Loop] = []
        self.lanes: list[Lane] = []
        self.labels: list[PlacedLabel] = []
        self._classify()
        self._place()

    def _classify(self) -> None:
        for t in self.detail.transitions:
            dst = self.boxes.get(t.dest)
            sources = [self.boxes[s] for s in t.sources if s in self.boxes]
            if dst is None or not sources:
                continue
            if dst.row < 0:
                self.lanes.append(Lane(t, sources, dst))
                continue
            for src in sources:
                if dst.col > src.col:
                    self.forward.append(Forward(t, src, dst))
                elif dst.col == src.col and dst.row == src.row + 1:
                    self.down.append((t, src, dst))
                else:
                    self.loops.append(Loop(t, src, dst))

    def _place(self) -> None:
        main = [b for b in self.boxes.values() if b.row >= 0]
        for b in self.boxes.values():
            b.h = 16 + len(b.lines) * LABEL_PT * LINE
            if b.state.time_target_hours and b.row >= 0:
                b.h += META_PT * LINE + 2
        row_h = max((b.h for b in main), default=40.0)
        row_gap = max([ROW_GAP] + [_label(t, BOX_W / 2 - 10).height + 16
                                   for t, _s, _d in self.down])
        deepest: dict[int, int] = {}
        for b in main:
            b.x = col_x(b.col)
            b.y = b.row * (row_h + row_gap) + (row_h - b.h) / 2
            deepest[b.col] = max(deepest.get(b.col, 0), b.row)
        for b in main:
            b.lowest = b.row == deepest[b.col]
        self.main_bottom = max((b.bottom for b in main), default=0.0)
        self._assign_levels()
        self._assign_ports()
        self._place_forward_labels()
        self._place_loops()
        self._place_lanes()

    def _place_forward_labels(self) -> None:
        """Label each forward arrow in the gap it crosses: title above the line, meta below.

        An arrow between boxes on different rows runs square: a short stub out of its source, a
        vertical near the source column, then straight into its target; the label sits on that
        last stretch."""
        lowest = self.main_bottom
        by_gap: dict[int, list[Forward]] = {}
        for edge in self.forward:
            by_gap.setdefault(edge.src.col, []).append(edge)
        for edges in by_gap.values():
            turns = 0
            for edge in edges:
                if abs(edge.src.cy - edge.dst.cy) >= 0.5:
                    edge.x_turn = edge.src.right + 14 + 6 * turns
                    turns += 1
            edges.sort(key=lambda e: (e.dst.cy, e.src.cy))
            taken = -1e9
            for edge in edges:
                start = edge.x_turn if edge.x_turn is not None else edge.src.right
                end = edge.dst.x if edge.dst.col == edge.src.col + 1 else start + GAP
                end -= self.gutter_width.get(edge.dst.col, 0.0)  # lines running down there
                label = _label(edge.t, end - start - 18)
                top = max(edge.dst.cy - 5 - label.title_h, taken + 6)
                self.labels.append(PlacedLabel(label, (start + end) / 2, top, "middle", split=10))
                taken = top + label.height + 10
                lowest = max(lowest, taken)
        for t, src, dst in self.down:
            label = _label(t, BOX_W / 2 - 10)
            top = src.bottom + (dst.y - src.bottom - label.height) / 2
            self.labels.append(PlacedLabel(label, src.cx + 6, top, "start"))
        self.loop_top = lowest + 12

    def _assign_levels(self) -> None:
        """Loops whose spans overlap get different depths; shorter loops sit nearer the boxes."""
        placed: list[tuple[int, float, float]] = []
        for loop in sorted(self.loops, key=lambda lp: (abs(lp.src.col - lp.dst.col), lp.src.col)):
            lo, hi = loop.span
            level = 0
            while any(lv == level and lo < p_hi and p_lo < hi for lv, p_lo, p_hi in placed):
                level += 1
            loop.level = level
            placed.append((level, lo, hi))
        self.levels = 1 + max((lp.level for lp in self.loops), default=-1)

    def _assign_ports(self) -> None:
        """Spread each box's downward lines along its bottom in the order that avoids crossings:
        loops leaving (shallow to deep), drops into lanes (lower lanes first), loops returning."""
        self.lanes.sort(key=lambda ln: (-len(ln.sources), -max(b.col for b in ln.sources)))
        first = {}
        for i, lane in enumerate(self.lanes):
            first.setdefault(id(lane.dst), i)
        self.lanes.sort(key=lambda ln: first[id(ln.dst)])  # lanes into one box stay together
        for i, lane in enumerate(self.lanes):
            lane.drops = [Port(src, "drop", (1, -i)) for src in lane.sources]
            for port in lane.drops:
                port.box.ports.append(port)
        for loop in self.loops:
            loop.out = Port(loop.src, "out", (0, loop.level, -loop.dst.col))
            loop.into = Port(loop.dst, "in", (2, -loop.level, -loop.src.col))
            loop.src.ports.append(loop.out)
            loop.dst.ports.append(loop.into)
        gutter: dict[int, int] = {}
        for box in self.boxes.values():
            box.ports.sort(key=lambda p: p.order)
            n = len(box.ports)
            for i, port in enumerate(box.ports):
                if box.lowest:
                    port.x, port.y = box.x + BOX_W * (i + 1) / (n + 1), box.bottom
                else:
                    # Another box is below: leave from the left side into the gap instead.
                    k = gutter.get(box.col, 0)
                    gutter[box.col] = k + 1
                    port.x, port.y, port.side = box.x - 9 - 5 * k, box.bottom - 6 - 5 * i, True
        self.gutter_width = {col: 9.0 + 5 * k for col, k in gutter.items()}

    def _through(self, level: int) -> list[float]:
        """x of every vertical that runs through the loop band below ``level``."""
        xs = [p.x for lane in self.lanes for p in lane.drops]
        for loop in self.loops:
            if loop.level > level and loop.out and loop.into:
                xs += [loop.out.x, loop.into.x]
        return xs

    def _place_loops(self) -> None:
        y = self.loop_top
        for level in range(self.levels):
            verticals = sorted(self._through(level))
            tallest = 0.0
            for loop in (lp for lp in self.loops if lp.level == level):
                loop.y = y
                centre, width = self._loop_label_slot(loop, verticals)
                label = _label(loop.t, width)
                self.labels.append(PlacedLabel(label, centre, y + 5, "middle"))
                tallest = max(tallest, label.height)
            y += tallest + 18
        self.loop_bottom = y if self.levels else self.loop_top - 12

    def _loop_label_slot(self, loop: Loop, verticals: list[float]) -> tuple[float, float]:
        """Centre and width for a loop's label: under its own line, clear of every line that runs
        down past it. Preferably in the gap where the loop leaves its source."""
        lo, hi = loop.span
        if loop.src.col > loop.dst.col:
            preferred = loop.src.x - GAP / 2
        else:
            preferred = (loop.out.x + loop.into.x) / 2 if loop.out and loop.into else loop.src.cx
        wanted = _label(loop.t, 170).width + 14
        edges = [lo] + [v for v in verticals if lo < v < hi] + [hi]
        slots = [(a, b) for a, b in zip(edges, edges[1:], strict=False) if b > a]
        if not slots:
            return preferred, 64.0
        home = next(((a, b) for a, b in slots if a <= preferred <= b), None)
        if home is not None:
            a, b = home
            half = min(preferred - a, b - preferred)
            if 2 * half >= wanted:
                return preferred, min(wanted, 2 * half) - 14
            if b - a >= wanted:
                centre = min(max(preferred, a + wanted / 2), b - wanted / 2)
                return centre, wanted - 14
        a, b = max(slots, key=lambda ab: ab[1] - ab[0])
        return (a + b) / 2, max(min(wanted, b - a) - 14, 64.0)

    def _place_lanes(self) -> None:
        outcome_x = col_x(OUTCOME_COL)
        cursor = self.loop_bottom + 6
        groups: list[list[Lane]] = []
        for lane in self.lanes:
            if groups and groups[-1][0].dst is lane.dst:
                groups[-1].append(lane)
            else:
                groups.append([lane])
        previous_line = cursor - 24
        for group in groups:
            labels = [_lane_label(ln.t, max(outcome_x - 26 - max(p.x for p in ln.drops), 120))
                      for ln in group]
            spacing = max(lb.height for lb in labels) + 14
            box = group[0].dst
            box.h = max(box.h, (len(group) - 1) * spacing + 30)
            first_y = max(cursor + box.h / 2 - (len(group) - 1) * spacing / 2,
                          previous_line + 8 + labels[0].height + 5)
            for i, (lane, label) in enumerate(zip(group, labels, strict=True)):
                lane.y = first_y + i * spacing
                self.labels.append(PlacedLabel(label, outcome_x - 12, lane.y - 5 - label.height,
                                               "end"))
            box.x = outcome_x
            box.y = (group[0].y + group[-1].y) / 2 - box.h / 2
            previous_line = group[-1].y
            cursor = box.bottom + 12
        self.bottom = max([self.loop_bottom, self.main_bottom]
                          + [ln.dst.bottom for ln in self.lanes]) + 10
        self.top = min([0.0] + [lb.top for lb in self.labels]) - 8


def _ends_early(state: StateView) -> bool:
    return state.final and state.step != "closed"


# -- drawing ----------------------------------------------------------------------------------------


class Drawing:
    def __init__(self, layout: Layout, title: str):
        self.layout = layout
        self.title = title
        self.root = ET.Element("svg", {"xmlns": SVG_NS, "role": "img",
                                       "aria-labelledby": "chm-diagram-title chm-diagram-desc",
                                       "font-family": FONT, "class": "chm-diagram"})

    def el(self, parent: ET.Element, tag: str, text: str | None = None, **attrs: object
           ) -> ET.Element:
        element = ET.SubElement(parent, tag, {k.rstrip("_").replace("_", "-"): _attr(v)
                                              for k, v in attrs.items() if v is not None})
        if text is not None:
            element.text = _clean(text)
        return element

    def render(self) -> str:
        lay = self.layout
        width = col_x(OUTCOME_COL) + BOX_W + MARGIN
        header_base = lay.top - 12
        top = header_base - 12 - MARGIN
        self.el(self.root, "title", self.title, id="chm-diagram-title")
        self.el(self.root, "desc", "States of the change model in the columns of the CHM steps; "
                "arrows are the transitions with the roles that may trigger them and their guards.",
                id="chm-diagram-desc")
        self._markers()
        bands = self.el(self.root, "g", class_="columns")
        for code, col in COLUMNS.items():
            if col == OUTCOME_COL and code != "closed":
                continue
            column = next(c for c in STEP_COLUMNS if c.code == code)
            x = col_x(col)
            self.el(bands, "rect", x=x - 10, y=header_base - 22, width=BOX_W + 20,
                    height=lay.bottom - header_base + 22, rx=6, fill=BAND)
            text = f"{column.number}. {column.label}" if column.number else "Outcome"
            self.el(bands, "text", text, x=x + BOX_W / 2, y=header_base, text_anchor="middle",
                    font_size=12, font_weight=700, fill=MUTED)
        lines = self.el(self.root, "g", class_="transitions", fill="none", stroke_width=1.5)
        for lane in lay.lanes:
            self._lane(lines, lane)
        for loop in lay.loops:
            self._loop(lines, loop)
        for edge in lay.forward:
            self._forward(lines, edge)
        for t, src, dst in lay.down:
            self.el(self.edge_group(lines, t), "path",
                    d=f"M{_num(src.cx)},{_num(src.bottom)} V{_num(dst.y - 1)}",
                    stroke=COLOURS["forward"], marker_end="url(#chm-arrow-forward)",
                    stroke_dasharray="5 4" if t.auto else None)
        self._start(lines)
        boxes = self.el(self.root, "g", class_="states")
        for box in lay.boxes.values():
            self._box(boxes, box)
        labels = self.el(self.root, "g", class_="labels", stroke="#fff", stroke_width=3,
                         stroke_linejoin="round", paint_order="stroke")
        for placed in lay.labels:
            self._label(labels, placed)
        legend_bottom = self._legend(lay.bottom + 22, width)
        height = legend_bottom + MARGIN - top
        self.root.set("viewBox", f"0 {_num(top)} {_num(width)} {_num(height)}")
        self.root.set("width", _num(width))
        self.root.set("height", _num(height))
        return ET.tostring(self.root, encoding="unicode")

    def edge_group(self, parent: ET.Element, t: TransitionView) -> ET.Element:
        """A group for one transition's lines, with its full description as a hover title."""
        group = self.el(parent, "g", class_="transition")
        parts = [f"{t.label} ({t.trigger})", _who(t)] + [f"[{g}]" for g in t.guards]
        self.el(group, "title", " · ".join(p for p in parts if p))
        return group

    def _markers(self) -> None:
        defs = self.el(self.root, "defs")
        for name, colour in COLOURS.items():
            marker = self.el(defs, "marker", id=f"chm-arrow-{name}", viewBox="0 0 10 10", refX=9,
                             refY=5, markerWidth=7, markerHeight=7, orient="auto-start-reverse",
                             markerUnits="userSpaceOnUse")
            self.el(marker, "path", d="M0,0 L10,5 L0,10 z", fill=colour)

    def _forward(self, parent: ET.Element, edge: Forward) -> None:
        src, dst = edge.src, edge.dst
        x1, y1, x2, y2 = src.right, src.cy, dst.x - 1, dst.cy
        if edge.x_turn is None:
            d = f"M{_num(x1)},{_num(y1)} H{_num(x2)}"
        else:
            xt, r = edge.x_turn, min(6.0, abs(y2 - y1) / 2)
            sign = 1 if y2 > y1 else -1
            d = (f"M{_num(x1)},{_num(y1)} H{_num(xt - r)} Q{_num(xt)},{_num(y1)} "
                 f"{_num(xt)},{_num(y1 + sign * r)} V{_num(y2 - sign * r)} "
                 f"Q{_num(xt)},{_num(y2)} {_num(xt + r)},{_num(y2)} H{_num(x2)}")
        colour = "closed" if dst.state.step == "closed" else "forward"
        self.el(self.edge_group(parent, edge.t), "path", d=d, stroke=COLOURS[colour],
                marker_end=f"url(#chm-arrow-{colour})",
                stroke_dasharray="5 4" if edge.t.auto else None)

    def _loop(self, parent: ET.Element, loop: Loop) -> None:
        assert loop.out and loop.into
        x1, x2, y = loop.out.x, loop.into.x, loop.y
        r = min(8.0, abs(x2 - x1) / 2) or 0.0
        sign = -1 if x2 < x1 else 1
        d = ""
        if loop.out.side:
            d += f"M{_num(loop.src.x)},{_num(loop.out.y)} H{_num(x1)} "
        else:
            d += f"M{_num(x1)},{_num(loop.out.y)} "
        d += (f"V{_num(y - r)} Q{_num(x1)},{_num(y)} {_num(x1 + sign * r)},{_num(y)} "
              f"H{_num(x2 - sign * r)} Q{_num(x2)},{_num(y)} {_num(x2)},{_num(y - r)} "
              f"V{_num(loop.into.y + (0 if loop.into.side else 1))}")
        if loop.into.side:
            d += f" H{_num(loop.dst.x - 1)}"
        self.el(self.edge_group(parent, loop.t), "path", d=d, stroke=COLOURS["back"],
                marker_end="url(#chm-arrow-back)",
                stroke_dasharray="5 4" if loop.t.auto else None)

    def _lane(self, parent: ET.Element, lane: Lane) -> None:
        colour = COLOURS[lane.dst.state.step]
        dash = "5 4" if lane.t.auto else None
        parent = self.edge_group(parent, lane.t)
        drops = sorted(lane.drops, key=lambda p: p.x)
        for i, port in enumerate(drops):
            d = (f"M{_num(port.box.x)},{_num(port.y)} H{_num(port.x)} " if port.side
                 else f"M{_num(port.x)},{_num(port.y)} ")
            if i == 0:
                r = 8.0
                d += (f"V{_num(lane.y - r)} Q{_num(port.x)},{_num(lane.y)} "
                      f"{_num(port.x + r)},{_num(lane.y)} H{_num(lane.dst.x - 1)}")
                self.el(parent, "path", d=d, stroke=colour, stroke_dasharray=dash,
                        marker_end=f"url(#chm-arrow-{lane.dst.state.step})")
            else:
                self.el(parent, "path", d=d + f"V{_num(lane.y)}", stroke=colour,
                        stroke_dasharray=dash)
                self.el(parent, "circle", cx=_num(port.x), cy=_num(lane.y), r=3, fill=colour,
                        stroke="none")

    def _start(self, parent: ET.Element) -> None:
        initial = next((b for b in self.layout.boxes.values() if b.state.initial), None)
        if initial is None:
            return
        x = initial.x - START_SPACE + 8
        self.el(parent, "circle", cx=_num(x), cy=_num(initial.cy), r=6, fill=INK, stroke="none")
        self.el(parent, "path", d=f"M{_num(x + 6)},{_num(initial.cy)} H{_num(initial.x - 1)}",
                stroke=INK, marker_end="url(#chm-arrow-forward)")

    def _box(self, parent: ET.Element, box: Box) -> None:
        s = box.state
        kind = s.step if s.final else "working"
        group = self.el(parent, "g", class_=f"state {kind}")
        tip = f"{s.label} ({s.name}) · {s.step_label}"
        if s.time_target_hours:
            tip += f" · time target {_hours(s.time_target_hours)}"
        if s.initial:
            tip += " · initial state"
        self.el(group, "title", tip)
        self.el(group, "rect", x=box.x, y=box.y, width=BOX_W, height=box.h, rx=6,
                fill=BOX_FILL.get(kind, "#ffffff"), stroke=BOX_STROKE.get(kind, "#52617a"),
                stroke_width=2.2 if s.initial else 1.2)
        target = s.time_target_hours if box.row >= 0 else None
        content = len(box.lines) * LABEL_PT * LINE + (META_PT * LINE + 2 if target else 0)
        y = box.y + (box.h - content) / 2
        for line in box.lines:
            self.el(group, "text", line, x=box.cx, y=y + LABEL_PT * 0.95, text_anchor="middle",
                    font_size=LABEL_PT, font_weight=700, fill=INK)
            y += LABEL_PT * LINE
        if target:
            self.el(group, "text", f"target {_hours(target)}", x=box.cx, y=y + 2 + META_PT * 0.95,
                    text_anchor="middle", font_size=META_PT, fill=MUTED)

    def _label(self, parent: ET.Element, placed: PlacedLabel) -> None:
        y = placed.top
        for line in placed.label.title:
            self.el(parent, "text", line, x=placed.x, y=y + TITLE_PT * 0.95,
                    text_anchor=placed.anchor, font_size=TITLE_PT, font_weight=700, fill=INK)
            y += TITLE_PT * LINE
        y += placed.split
        for line in placed.label.meta:
            self.el(parent, "text", line, x=placed.x, y=y + META_PT * 0.95,
                    text_anchor=placed.anchor, font_size=META_PT, fill=MUTED)
            y += META_PT * LINE

    def _legend(self, y: float, width: float) -> float:
        legend = self.el(self.root, "g", class_="legend", font_size=META_PT, fill=MUTED)
        items = [
            ("forward", None, "transition, with who may trigger it"),
            ("forward", "5 4", "automatic"),
            ("back", None, "back for rework"),
            ("rejected", None, "ends as rejected"),
            ("withdrawn", None, "ends as withdrawn"),
            (None, None, "[…] guard: must hold to move on"),
        ]
        x = MARGIN
        for colour, dash, text in items:
            needed = (34 if colour else 0) + text_width(text, META_PT) + 22
            if x + needed > width - MARGIN and x > MARGIN:
                x, y = MARGIN, y + 18
            if colour:
                self.el(legend, "path", d=f"M{_num(x)},{_num(y - 3.5)} h28", fill="none",
                        stroke=COLOURS[colour], stroke_width=1.5, stroke_dasharray=dash,
                        marker_end=f"url(#chm-arrow-{colour})")
                x += 34
            self.el(legend, "text", text, x=x, y=y)
            x += text_width(text, META_PT) + 22
        return y + 6


def _attr(value: object) -> str:
    return _num(value) if isinstance(value, float) else _clean(str(value))


def render_svg(detail: DefinitionDetail) -> str:
    """The model's diagram as an ``<svg>`` element, to put inline in a page."""
    title = f"{detail.name} (version {detail.version}): diagram"
    if not detail.states:
        return _empty_svg(title, "This version cannot be drawn: its definition does not validate.")
    return Drawing(Layout(detail), title).render()


def render_svg_document(detail: DefinitionDetail) -> str:
    """The diagram as a standalone SVG file."""
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + render_svg(detail) + "\n"


def _empty_svg(title: str, message: str) -> str:
    root = ET.Element("svg", {"xmlns": SVG_NS, "role": "img", "viewBox": "0 0 600 40",
                              "width": "600", "height": "40", "font-family": FONT})
    ET.SubElement(root, "title").text = _clean(title)
    text = ET.SubElement(root, "text", {"x": "8", "y": "24", "font-size": "13", "fill": MUTED})
    text.text = _clean(message)
    return ET.tostring(root, encoding="unicode")
