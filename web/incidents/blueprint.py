"""The ``incidents`` blueprint: every screen of the package adds its routes to it."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("incidents", __name__)
