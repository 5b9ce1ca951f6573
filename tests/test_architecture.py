"""Dependencies point one way (web -> usm services -> workflows -> bir), and only the engine calls
the register's writer. Parsed with ast, so a new module is covered without listing it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bir", "workflows", "usm", "web")
FORBIDDEN = {
    "bir": {"workflows", "usm", "web"},
    "workflows": {"usm", "web"},
    "usm": {"web"},
    "web": {"bir", "workflows"},  # the web calls the service layer, nothing below it
}
COMPOSITION_ROOT = {"usm/app.py", "usm/cli.py"}


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("package", PACKAGES)
def test_dependencies_point_one_way(package: str) -> None:
    offences = []
    for path in _modules(package):
        rel = path.relative_to(ROOT).as_posix()
        if rel in COMPOSITION_ROOT:
            continue
        for name in _imports(path):
            top = name.split(".")[0]
            if top in FORBIDDEN[package]:
                offences.append(f"{rel} imports {name}")
            if package == "web" and top == "usm" and not name.startswith("usm.services"):
                offences.append(f"{rel} imports {name}, not the service layer")
    assert offences == []


def test_only_the_engine_calls_the_register_writer() -> None:
    callers = []
    for package in PACKAGES:
        for path in _modules(package):
            rel = path.relative_to(ROOT).as_posix()
            if rel == "bir/writer.py":
                continue
            if any(n == "bir.writer" or n.startswith("bir.writer.") for n in _imports(path)):
                callers.append(rel)
    assert callers == ["workflows/engine.py"]


def test_only_the_writer_lifts_the_register_guard() -> None:
    """``bir.guard.register_writes`` lets a write through; only the writer may hold it."""
    holders = [path.relative_to(ROOT).as_posix()
               for package in PACKAGES for path in _modules(package)
               if "register_writes" in path.read_text(encoding="utf-8")]
    assert holders == ["bir/guard.py", "bir/writer.py"]


def test_the_app_never_creates_tables_itself() -> None:
    offenders = [
        path.relative_to(ROOT).as_posix()
        for package in PACKAGES for path in _modules(package)
        if "create_all(" in path.read_text(encoding="utf-8")
    ]
    assert offenders == [], "Alembic owns the schema"
