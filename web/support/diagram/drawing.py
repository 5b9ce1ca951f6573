"""The laid-out diagram drawn as an SVG document with ElementTree (which escapes all text)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from flask_babel import gettext as _

from usm.services.change_models import STEP_COLUMNS, ChangeModelDetail, TransitionView
from web.support.diagram.layout import (
    COLUMNS,
    OUTCOME_COL,
    Box,
    Forward,
    Lane,
    Layout,
    Loop,
    PlacedLabel,
    col_x,
    who_moves,
)
from web.support.diagram.style import (
    BAND,
    BOX_FILL,
    BOX_STROKE,
    BOX_W,
    COLOURS,
    FONT,
    INK,
    LABEL_PT,
    LINE,
    MARGIN,
    META_PT,
    MUTED,
    START_SPACE,
    SVG_NS,
    TITLE_PT,
)
from web.support.diagram.text import clean, hours, num, text_width
from web.support.vocabulary import ui

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
            element.text = clean(text)
        return element

    def render(self) -> str:
        lay = self.layout
        width = col_x(OUTCOME_COL) + BOX_W + MARGIN
        header_base = lay.top - 12
        top = header_base - 12 - MARGIN
        self.el(self.root, "title", self.title, id="chm-diagram-title")
        self.el(self.root, "desc", _("States of the change model in the columns of the CHM "
                                     "steps; arrows are the transitions with the roles that may "
                                     "trigger them and their guards."),
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
            text = f"{column.number}. {ui(column.label)}" if column.number else _("Outcome")
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
                    d=f"M{num(src.cx)},{num(src.bottom)} V{num(dst.y - 1)}",
                    stroke=COLOURS["forward"], marker_end="url(#chm-arrow-forward)",
                    stroke_dasharray="5 4" if t.auto else None)
        self._start(lines)
        boxes = self.el(self.root, "g", class_="states")
        for box in lay.boxes.values():
            self._box(boxes, box)
        labels = self.el(self.root, "g", class_="labels", stroke="#fff", stroke_width=3,
                         stroke_linejoin="round", paint_order="stroke")
        for placed in lay.labels:
            self.transition_label(labels, placed)
        legend_bottom = self._legend(lay.bottom + 22, width)
        height = legend_bottom + MARGIN - top
        self.root.set("viewBox", f"0 {num(top)} {num(width)} {num(height)}")
        self.root.set("width", num(width))
        self.root.set("height", num(height))
        return ET.tostring(self.root, encoding="unicode")

    def edge_group(self, parent: ET.Element, t: TransitionView) -> ET.Element:
        """A group for one transition's lines, with its full description as a hover title."""
        group = self.el(parent, "g", class_="transition")
        parts = [f"{t.label} ({t.trigger})", who_moves(t)] + [f"[{g}]" for g in t.guards]
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
            d = f"M{num(x1)},{num(y1)} H{num(x2)}"
        else:
            xt, r = edge.x_turn, min(6.0, abs(y2 - y1) / 2)
            sign = 1 if y2 > y1 else -1
            d = (f"M{num(x1)},{num(y1)} H{num(xt - r)} Q{num(xt)},{num(y1)} "
                 f"{num(xt)},{num(y1 + sign * r)} V{num(y2 - sign * r)} "
                 f"Q{num(xt)},{num(y2)} {num(xt + r)},{num(y2)} H{num(x2)}")
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
            d += f"M{num(loop.src.x)},{num(loop.out.y)} H{num(x1)} "
        else:
            d += f"M{num(x1)},{num(loop.out.y)} "
        d += (f"V{num(y - r)} Q{num(x1)},{num(y)} {num(x1 + sign * r)},{num(y)} "
              f"H{num(x2 - sign * r)} Q{num(x2)},{num(y)} {num(x2)},{num(y - r)} "
              f"V{num(loop.into.y + (0 if loop.into.side else 1))}")
        if loop.into.side:
            d += f" H{num(loop.dst.x - 1)}"
        self.el(self.edge_group(parent, loop.t), "path", d=d, stroke=COLOURS["back"],
                marker_end="url(#chm-arrow-back)",
                stroke_dasharray="5 4" if loop.t.auto else None)

    def _lane(self, parent: ET.Element, lane: Lane) -> None:
        colour = COLOURS[lane.dst.state.step]
        dash = "5 4" if lane.t.auto else None
        parent = self.edge_group(parent, lane.t)
        drops = sorted(lane.drops, key=lambda p: p.x)
        for i, port in enumerate(drops):
            d = (f"M{num(port.box.x)},{num(port.y)} H{num(port.x)} " if port.side
                 else f"M{num(port.x)},{num(port.y)} ")
            if i == 0:
                r = 8.0
                d += (f"V{num(lane.y - r)} Q{num(port.x)},{num(lane.y)} "
                      f"{num(port.x + r)},{num(lane.y)} H{num(lane.dst.x - 1)}")
                self.el(parent, "path", d=d, stroke=colour, stroke_dasharray=dash,
                        marker_end=f"url(#chm-arrow-{lane.dst.state.step})")
            else:
                self.el(parent, "path", d=d + f"V{num(lane.y)}", stroke=colour,
                        stroke_dasharray=dash)
                self.el(parent, "circle", cx=num(port.x), cy=num(lane.y), r=3, fill=colour,
                        stroke="none")

    def _start(self, parent: ET.Element) -> None:
        initial = next((b for b in self.layout.boxes.values() if b.state.initial), None)
        if initial is None:
            return
        x = initial.x - START_SPACE + 8
        self.el(parent, "circle", cx=num(x), cy=num(initial.cy), r=6, fill=INK, stroke="none")
        self.el(parent, "path", d=f"M{num(x + 6)},{num(initial.cy)} H{num(initial.x - 1)}",
                stroke=INK, marker_end="url(#chm-arrow-forward)")

    def _box(self, parent: ET.Element, box: Box) -> None:
        s = box.state
        kind = s.step if s.final else "working"
        group = self.el(parent, "g", class_=f"state {kind}")
        tip = f"{s.label} ({s.name}) · {ui(s.step_label)}"
        if s.time_target_hours:
            tip += " · " + _("time target %(hours)s", hours=hours(s.time_target_hours))
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
            self.el(group, "text", _("target %(hours)s", hours=hours(target)), x=box.cx,
                    y=y + 2 + META_PT * 0.95,
                    text_anchor="middle", font_size=META_PT, fill=MUTED)

    def transition_label(self, parent: ET.Element, placed: PlacedLabel) -> None:
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
            ("forward", None, _("transition, with who may trigger it")),
            ("forward", "5 4", _("automatic")),
            ("back", None, _("back for rework")),
            ("rejected", None, _("ends as rejected")),
            ("withdrawn", None, _("ends as withdrawn")),
            (None, None, _("[…] guard: must hold to move on")),
        ]
        x = MARGIN
        for colour, dash, text in items:
            needed = (34 if colour else 0) + text_width(text, META_PT) + 22
            if x + needed > width - MARGIN and x > MARGIN:
                x, y = MARGIN, y + 18
            if colour:
                self.el(legend, "path", d=f"M{num(x)},{num(y - 3.5)} h28", fill="none",
                        stroke=COLOURS[colour], stroke_width=1.5, stroke_dasharray=dash,
                        marker_end=f"url(#chm-arrow-{colour})")
                x += 34
            self.el(legend, "text", text, x=x, y=y)
            x += text_width(text, META_PT) + 22
        return y + 6


def _attr(value: object) -> str:
    return num(value) if isinstance(value, float) else clean(str(value))


def render_svg(detail: ChangeModelDetail) -> str:
    """The model's diagram as an ``<svg>`` element, to put inline in a page."""
    title = _("%(model)s (version %(version)s): diagram", model=detail.name,
              version=detail.version)
    if not detail.states:
        return _empty_svg(title, _("This version cannot be drawn: its definition does not "
                                   "validate."))
    return Drawing(Layout(detail), title).render()


def render_svg_document(detail: ChangeModelDetail) -> str:
    """The diagram as a standalone SVG file."""
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + render_svg(detail) + "\n"


def _empty_svg(title: str, message: str) -> str:
    root = ET.Element("svg", {"xmlns": SVG_NS, "role": "img", "viewBox": "0 0 600 40",
                              "width": "600", "height": "40", "font-family": FONT})
    ET.SubElement(root, "title").text = clean(title)
    text = ET.SubElement(root, "text", {"x": "8", "y": "24", "font-size": "13", "fill": MUTED})
    text.text = clean(message)
    return ET.tostring(root, encoding="unicode")
