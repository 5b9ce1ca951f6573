"""Where each box, arrow and label of a change-model diagram goes (see the package docstring)."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _

from usm.services.change_models import STEP_COLUMNS, ChangeModelDetail, StateView, TransitionView
from web.support.diagram.style import (
    BOX_W,
    GAP,
    LABEL_PT,
    LINE,
    MARGIN,
    META_PT,
    PITCH,
    ROW_GAP,
    START_SPACE,
    TITLE_PT,
)
from web.support.diagram.text import text_width, wrap
from web.support.vocabulary import ui

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


def who_moves(t: TransitionView) -> str:
    return _("automatic") if t.auto else ", ".join(ui(r).lower() for r in t.role_labels)


def transition_label(t: TransitionView, width: float) -> Label:
    meta = wrap(who_moves(t), width, META_PT) if who_moves(t) else []
    for guard in t.guards:
        meta += wrap(f"[{guard}]", width, META_PT)
    return Label(wrap(t.label, width, TITLE_PT, bold=True, max_lines=3), meta)


def _lane_label(t: TransitionView, width: float) -> Label:
    meta = " · ".join([w for w in [who_moves(t)] if w] + [f"[{g}]" for g in t.guards])
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

    def __init__(self, detail: ChangeModelDetail):
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
        row_gap = max([ROW_GAP] + [transition_label(t, BOX_W / 2 - 10).height + 16
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
                label = transition_label(edge.t, end - start - 18)
                top = max(edge.dst.cy - 5 - label.title_h, taken + 6)
                self.labels.append(PlacedLabel(label, (start + end) / 2, top, "middle", split=10))
                taken = top + label.height + 10
                lowest = max(lowest, taken)
        for t, src, dst in self.down:
            label = transition_label(t, BOX_W / 2 - 10)
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
                label = transition_label(loop.t, width)
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
        wanted = transition_label(loop.t, 170).width + 14
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
