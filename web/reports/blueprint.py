"""The reports blueprint and the list of report topics the index page shows."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint

bp = Blueprint("reports", __name__, url_prefix="/reports")


@dataclass(frozen=True)
class Topic:
    endpoint: str
    title: str
    summary: str


# Topic modules append theirs when they are imported; the index lists them in this order.
TOPICS: list[Topic] = []
