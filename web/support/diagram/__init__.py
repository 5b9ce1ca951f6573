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

from web.support.diagram.drawing import render_svg, render_svg_document
from web.support.diagram.text import text_width, wrap

__all__ = ["render_svg", "render_svg_document", "text_width", "wrap"]
