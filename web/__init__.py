"""The web tier: Flask blueprints, Jinja2 templates and static files.

It calls the service layer (``usm.services``) only; ``usm.app.create_app`` wires it together.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
