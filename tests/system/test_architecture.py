"""Dependencies point one way (web -> usm services -> workflows -> bir), and only the engine calls
the register's writer. Parsed with ast, so a new module is covered without listing it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bir", "workflows", "usm", "web")
FORBIDDEN = {
    "bir": {"workflows", "usm", "web"},
    "workflows": {"usm", "web"},
    "usm": {"web"},
    "web": {"bir", "workflows"},  # the web calls the service layer, nothing below it
}
# The app factory binds the web tier; the CLI serves it (``usm serve``, ``usm quickstart``).
COMPOSITION_ROOT = {"usm/app.py", "usm/cli/platform.py"}


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


SERVICES = ROOT / "usm" / "services"


def _service_package(path: Path) -> str | None:
    """The capability package (``changes``, ``reports``) a file of ``usm/services`` belongs to."""
    parts = path.relative_to(SERVICES).parts
    return parts[0] if len(parts) > 1 else None


def _private_module(name: str) -> Path | None:
    """The module file ``name`` stands for when it is a module inside a service package (not a
    package's ``__init__``, its public face)."""
    parts = name.split(".")
    if parts[:2] != ["usm", "services"] or len(parts) < 4:
        return None
    file = ROOT.joinpath(*parts).with_suffix(".py")
    return file if file.is_file() else None


def test_callers_import_a_service_package_not_its_private_modules() -> None:
    """A package's ``__init__`` is its public face: other packages, the web, the CLI and the
    benchmark import that, never a module inside it."""
    callers = [*_modules("usm"), *_modules("web"), *sorted((ROOT / "bench").rglob("*.py"))]
    offences = []
    for path in callers:
        rel = path.relative_to(ROOT).as_posix()
        own = _service_package(path) if path.is_relative_to(SERVICES) else None
        for name in _imports(path):
            module = _private_module(name)
            if module is not None and _service_package(module) != own:
                offences.append(f"{rel} imports {name}")
    assert offences == []


def test_every_service_package_imports_on_its_own() -> None:
    """No package depends on being imported after another (a cycle between faces would)."""
    import subprocess
    import sys
    packages = sorted(p.name for p in SERVICES.iterdir() if (p / "__init__.py").is_file())
    failures = {}
    for package in packages:
        done = subprocess.run([sys.executable, "-c", f"import usm.services.{package}"],
                              cwd=ROOT, capture_output=True, text=True)
        if done.returncode:
            failures[package] = done.stderr.strip().splitlines()[-1]
    assert failures == {}
