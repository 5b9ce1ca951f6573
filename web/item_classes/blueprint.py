"""The ``item_classes`` blueprint: every screen of the package adds its routes to it."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("item_classes", __name__, url_prefix="/designer/classes")
