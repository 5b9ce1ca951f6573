"""Sizes, fonts and colours of the change-model diagram."""

from __future__ import annotations

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
