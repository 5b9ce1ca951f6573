"""The label stock asset labels are printed on: common sheets of self-adhesive labels and a
label printer's roll, each described by its page and where its labels sit (millimetres)."""

from __future__ import annotations

from dataclasses import dataclass

INCH = 25.4


@dataclass(frozen=True)
class LabelSheet:
    """One kind of label stock. Positions count from 1, left to right, then top to bottom, as the
    labels sit on the sheet; ``left``/``top`` are the margins to the first label and the pitches
    the distance from one label's edge to the next one's (label plus gap)."""

    code: str
    name: str  # a product name, shown as it is
    page_width: float
    page_height: float
    columns: int
    rows: int
    label_width: float
    label_height: float
    left: float
    top: float
    pitch_x: float
    pitch_y: float

    @property
    def per_page(self) -> int:
        return self.columns * self.rows

    def corner(self, position: int) -> tuple[float, float]:
        """The top-left corner of the label at ``position`` (from 1), from the page's top-left."""
        index = position - 1
        return (self.left + (index % self.columns) * self.pitch_x,
                self.top + (index // self.columns) * self.pitch_y)


SHEETS = {sheet.code: sheet for sheet in (
    LabelSheet("avery-l7160", "Avery L7160 – A4, 21 labels (3 × 7), 63.5 × 38.1 mm",
               210, 297, 3, 7, 63.5, 38.1, 7.21, 15.15, 66.04, 38.1),
    LabelSheet("avery-l7163", "Avery L7163 – A4, 14 labels (2 × 7), 99.1 × 38.1 mm",
               210, 297, 2, 7, 99.1, 38.1, 4.65, 15.15, 101.6, 38.1),
    LabelSheet("avery-5160", "Avery 5160 – US Letter, 30 labels (3 × 10), 2⅝ × 1 in",
               8.5 * INCH, 11 * INCH, 3, 10, 2.625 * INCH, 1 * INCH, 0.1875 * INCH,
               0.5 * INCH, 2.75 * INCH, 1 * INCH),
    LabelSheet("brother-dk-11209", "Brother DK-11209 – roll, 62 × 29 mm, one label a page",
               62, 29, 1, 1, 62, 29, 0, 0, 62, 29),
)}
DEFAULT_SHEET = "avery-l7160"
