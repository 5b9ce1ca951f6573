"""The ``change_models`` blueprint: every screen of the package adds its routes to it."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("change_models", __name__, url_prefix="/designer")
