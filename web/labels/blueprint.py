"""The ``labels`` blueprint: every screen of the package adds its routes to it."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("labels", __name__)
