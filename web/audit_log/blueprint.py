"""The ``audit_log`` blueprint: every screen of the package adds its routes to it."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("audit_log", __name__)
