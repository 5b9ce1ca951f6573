"""Process designers' screens: the change models (workflow definitions)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("designer", __name__, url_prefix="/designer")
