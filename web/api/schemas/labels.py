"""Schemas of asset labels: which items, on which label sheet, from which position."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from usm.services import labels
from web.api.schemas.common import Query

SheetCode = Literal[tuple(labels.SHEETS)]  # type: ignore[valid-type]
MOST_POSITIONS = max(sheet.per_page for sheet in labels.SHEETS.values())


class LabelsQuery(Query):
    keys: Annotated[str, StringConstraints(min_length=1, max_length=40_000)] = Field(
        description=f"the items' keys, comma-separated, in print order (at most "
                    f"{labels.MAX_LABELS:,})")
    sheet: SheetCode = Field(labels.DEFAULT_SHEET, description="; ".join(
        f"{code}: {sheet.name}" for code, sheet in labels.SHEETS.items()))
    first: int = Field(1, ge=1, le=MOST_POSITIONS, description="the position of the first label "
                                                               "(a partly used sheet), counted "
                                                               "left to right, then top to "
                                                               "bottom; at most the sheet's "
                                                               "labels")
