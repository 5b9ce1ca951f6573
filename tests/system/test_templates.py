"""What the templates name exists: every static file they link and every template they extend,
include or import (a page that links a missing stylesheet renders unstyled without an error)."""

from __future__ import annotations

import re
from pathlib import Path

import web

STATIC = re.compile(r"url_for\(\s*'static'\s*,\s*filename\s*=\s*'([^']+)'")
TEMPLATE = re.compile(r"{%-?\s*(?:extends|include|import|from)\s+\"([^\"]+)\"")
PAGES = sorted(Path(web.TEMPLATES).rglob("*.html"))


def test_every_linked_static_file_exists() -> None:
    missing = [f"{page.relative_to(web.TEMPLATES)}: {name}"
               for page in PAGES for name in STATIC.findall(page.read_text(encoding="utf-8"))
               if not (Path(web.STATIC) / name).is_file()]
    assert PAGES and missing == []


def test_every_template_a_template_names_exists() -> None:
    missing = [f"{page.relative_to(web.TEMPLATES)}: {name}"
               for page in PAGES for name in TEMPLATE.findall(page.read_text(encoding="utf-8"))
               if not (Path(web.TEMPLATES) / name).is_file()]
    assert missing == []


def test_every_template_a_view_renders_exists() -> None:
    rendered = re.compile(r"render_template\(\s*f?\"([^\"{]+)\"")
    views = sorted(Path(web.HERE).rglob("*.py"))
    missing = [f"{view.relative_to(web.HERE)}: {name}"
               for view in views for name in rendered.findall(view.read_text(encoding="utf-8"))
               if not (Path(web.TEMPLATES) / name).is_file()
               and not (Path(web.HERE) / "api" / "templates" / name).is_file()]
    assert views and missing == []
