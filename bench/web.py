"""Figure 6: the register list page served by gunicorn to concurrent clients, against a bare route
(``bench.bare_app``) running the same SQL on the same database."""

from __future__ import annotations

import os
import pickle
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import requests
from sqlalchemy import event

from bench.engine_flow import COORDINATOR, PASSWORD
from bench.figures import PAGE_FILTER
from bench.report import Figure
from usm.app import create_app
from usm.config import Settings
from usm.services.platform import Database

PAGE = "/items?" + urlencode(PAGE_FILTER)
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
SECRET = "bench-only-secret"


def _login(session: Any, base: str = "") -> None:
    token = CSRF.search(session.get(base + "/login").text if base else
                        session.get("/login").get_data(as_text=True))
    assert token, "no CSRF token on the login form"
    data = {"username": COORDINATOR, "password": PASSWORD, "csrf_token": token.group(1)}
    response = session.post(base + "/login", data=data)
    assert response.status_code in (200, 302), f"login failed: {response.status_code}"


def capture_statements(db: Database, url: str) -> list[tuple[str, Any]]:
    """The statements (SQL and parameters) one request for the list page sends."""
    app = create_app(Settings(database_url=url, secret_key=SECRET), db=db)
    client = app.test_client()
    _login(client)
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, sql: str, parameters: Any, *_rest: Any) -> None:
        if sql.strip().upper() not in ("BEGIN", "COMMIT", "ROLLBACK"):  # the bare route's own
            seen.append((sql, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert client.get(PAGE).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return seen


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def gunicorn(target: str, env: dict[str, str], workers: int) -> Iterator[str]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}",
         "--log-level", "warning", target], env={**os.environ, **env})
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                requests.get(base + "/login", timeout=10)
                break
            except requests.RequestException:
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def _throughput(base: str, clients: int, total: int, login: bool) -> float:
    """Requests per second of ``clients`` threads fetching the page ``total`` times in all."""
    def make() -> requests.Session:
        session = requests.Session()
        if login:
            _login(session, base)
        return session

    sessions = [make() for _ in range(clients)]
    per_client = max(1, total // clients)

    def fetch(session: requests.Session) -> None:
        for _ in range(per_client):
            response = session.get(base + PAGE)
            assert response.status_code == 200, response.status_code

    sessions[0].get(base + PAGE)  # warm up
    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        for done in pool.map(fetch, sessions):
            del done
    return per_client * clients / (time.perf_counter() - start)


def list_page_under_load(db: Database, url: str, *, clients: int, requests: int,
                         workers: int) -> Figure:
    statements = capture_statements(db, url)
    with tempfile.TemporaryDirectory(prefix="usm-bench-web-") as folder:
        captured = Path(folder) / "statements.pickle"
        captured.write_bytes(pickle.dumps(statements))
        env = {"USM_DATABASE_URL": url, "USM_SECRET_KEY": SECRET, "USM_INSTANCE_PATH": folder,
               "USM_BENCH_STATEMENTS": str(captured)}
        with gunicorn("usm.app:create_app()", env, workers) as base:
            ours = _throughput(base, clients, requests, login=True)
        with gunicorn("bench.bare_app:create_bare()", env, workers) as base:
            bare = _throughput(base, clients, requests, login=False)
    return Figure(f"6 web list page, {clients} clients", ours, bare, "req/s", 0.5,
                  higher_is_better=True,
                  notes={"workers": workers, "requests": requests,
                         "statements_per_request": len(statements)})
