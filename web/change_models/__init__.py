"""Process designers' screens for change models: the catalogue, a version as a diagram, tables and
YAML, the editor, the comparison and the dry run.

Each module of this package adds its routes to ``bp``; the imports below register them."""

from __future__ import annotations

from web.change_models.blueprint import bp

__all__ = ["bp"]

from web.change_models import catalogue, dry_run, editor  # noqa: E402,F401
