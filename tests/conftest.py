"""Test fixtures: every database test runs on SQLite and, when reachable, on PostgreSQL.

Each backend gets one template database per session, migrated by Alembic (so the migrations are
tested too) and loaded with the shipped classes and change models; each test gets a fresh copy.
Set ``USM_REQUIRE_POSTGRES=1`` (CI does) to fail instead of skipping when PostgreSQL is missing.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from usm.db import upgrade
from usm.services.accounts import add_user
from usm.services.platform import Database, install_shipped

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PASSWORD = "correct-horse-battery"
USERS = {
    "carol": ["change_coordinator"],
    "sam": ["service_owner"],
    "pat": ["process_designer"],
    "ada": ["administrator"],
}


def _pg_admin_url() -> str | None:
    url = os.environ.get("USM_TEST_POSTGRES_URL", DEFAULT_PG)
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
    except Exception:
        return None
    return url


PG_ADMIN_URL = _pg_admin_url()
if PG_ADMIN_URL is None and os.environ.get("USM_REQUIRE_POSTGRES") == "1":
    raise pytest.UsageError(
        "USM_REQUIRE_POSTGRES=1 but PostgreSQL is not reachable at "
        f"{os.environ.get('USM_TEST_POSTGRES_URL', DEFAULT_PG)}"
    )
BACKENDS = ["sqlite"] + (["postgresql"] if PG_ADMIN_URL else [])


def pytest_report_header(config: pytest.Config) -> str:
    return f"database backends: {', '.join(BACKENDS)}"


def _pg_execute(sql: str) -> None:
    assert PG_ADMIN_URL is not None
    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(sql))
    engine.dispose()


def _pg_url(database: str) -> str:
    assert PG_ADMIN_URL is not None
    return make_url(PG_ADMIN_URL).set(database=database).render_as_string(hide_password=False)


class _Templates:
    """One migrated, seeded template database per backend, made on first use."""

    def __init__(self, root: Path):
        self.root = root
        self.made: dict[str, str] = {}
        self.tag = uuid.uuid4().hex[:8]

    def prepare(self, url: str) -> None:
        upgrade(url)
        db = Database.connect(url)
        try:
            install_shipped(db)
            for username, roles in USERS.items():
                add_user(db, username, PASSWORD, roles, display_name=username.capitalize())
        finally:
            db.dispose()

    def sqlite(self) -> Path:
        path = self.root / "template.db"
        if "sqlite" not in self.made:
            self.prepare(f"sqlite:///{path}")
            self.made["sqlite"] = str(path)
        return path

    def postgresql(self) -> str:
        name = f"usm_tpl_{self.tag}"
        if "postgresql" not in self.made:
            _pg_execute(f'DROP DATABASE IF EXISTS "{name}"')
            _pg_execute(f'CREATE DATABASE "{name}"')
            self.prepare(_pg_url(name))
            self.made["postgresql"] = name
        return name

    def cleanup(self) -> None:
        if "postgresql" in self.made:
            _pg_execute(f'DROP DATABASE IF EXISTS "{self.made["postgresql"]}" WITH (FORCE)')


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Templates]:
    made = _Templates(tmp_path_factory.mktemp("templates"))
    yield made
    made.cleanup()


def _fresh_url(backend: str, templates: _Templates, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        path = tmp_path / "usm.db"
        shutil.copyfile(templates.sqlite(), path)
        yield f"sqlite:///{path}"
        return
    template = templates.postgresql()
    name = f"usm_t_{uuid.uuid4().hex[:12]}"
    _pg_execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    try:
        yield _pg_url(name)
    finally:
        _pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, templates: _Templates, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated, seeded database on each backend."""
    yield from _fresh_url(request.param, templates, tmp_path)


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database.connect(db_url)
    yield database
    database.dispose()


@pytest.fixture
def sqlite_url(templates: _Templates, tmp_path: Path) -> Iterator[str]:
    """A fresh SQLite database only, for tests whose subject is not the database (web, CLI)."""
    yield from _fresh_url("sqlite", templates, tmp_path)


@pytest.fixture
def pg_url(templates: _Templates, tmp_path: Path) -> Iterator[str]:
    if PG_ADMIN_URL is None:
        pytest.skip("PostgreSQL is not reachable")
    yield from _fresh_url("postgresql", templates, tmp_path)


@pytest.fixture
def web_app(sqlite_url: str):  # type: ignore[no-untyped-def]
    """The web app on a fresh SQLite database (CSRF on, as in production)."""
    from tests.support.web import make_app

    app = make_app(sqlite_url)
    yield app
    app.extensions["usm_db"].dispose()


@pytest.fixture
def web_db(web_app) -> Database:  # type: ignore[no-untyped-def]
    """The web app's own database handle, to build content through the engine."""
    database: Database = web_app.extensions["usm_db"]
    return database


@pytest.fixture
def web_client(web_app):  # type: ignore[no-untyped-def]
    return web_app.test_client()
