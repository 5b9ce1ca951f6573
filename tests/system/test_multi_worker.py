"""Sessions, the sign-in throttle and revocation hold across worker processes: the app runs under
gunicorn with two workers over one database (SQLite, and PostgreSQL when reachable), and a
browser's requests land on whichever worker accepts them (gunicorn's sync workers take one
connection each, and requests sends each request on a new one here).

Each test fails on an app that keeps these in one process's memory: a copied session cookie
worked in most requests after sign-out, the throttle let ``limit x workers`` wrong passwords
through, and a password reset or deactivation left sessions and tokens working.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.conftest import BACKENDS, PASSWORD, _fresh_url
from usm.services import accounts
from usm.services.platform import Database

WORKERS = 2
TRIES = 40
PARALLEL = 4  # requests in flight at once, so that a busy worker leaves the next to the other
CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
NEW_PASSWORD = "a-new-password-2026"
# One user per test, so the tests share one server without touching each other's accounts.
EXTRA_USERS = {"dana": ["change_coordinator"], "eve": ["service_owner"],
               "finn": ["service_owner"], "gus": ["change_coordinator"]}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    def __init__(self, base: str, access_log: Path, db: Database):
        self.base, self.access_log, self.db = base, access_log, db

    def workers_seen(self, since: int, count: int) -> set[str]:
        """The worker processes that answered the ``count`` requests logged after line ``since``
        (waiting a little for the log: a worker writes it after its answer)."""
        deadline = time.monotonic() + 10
        while True:
            lines = self.access_log.read_text(encoding="utf-8").splitlines()[since:]
            if len(lines) >= count or time.monotonic() > deadline:
                return {line.split()[0] for line in lines if line.strip()}
            time.sleep(0.05)

    def log_lines(self) -> int:
        return len(self.access_log.read_text(encoding="utf-8").splitlines())


@pytest.fixture(scope="module", params=BACKENDS)
def server(request: pytest.FixtureRequest, templates, tmp_path_factory  # type: ignore[no-untyped-def]
           ) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp(f"gunicorn-{request.param}")
    urls = _fresh_url(request.param, templates, folder)
    url = next(urls)
    db = Database.connect(url)
    for username, roles in EXTRA_USERS.items():
        accounts.add_user(db, username, PASSWORD, roles)
    port, access_log = _free_port(), folder / "access.log"
    access_log.touch()
    env = {**os.environ, "USM_DATABASE_URL": url, "USM_SECRET_KEY": "multi-worker-test",
           "USM_INSTANCE_PATH": str(folder / "instance")}
    env.pop("USM_ALLOW_ACT_AS", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", str(WORKERS), "-b", f"127.0.0.1:{port}",
         "--log-level", "warning", "--access-logfile", str(access_log),
         "--access-logformat", "%(p)s %(m)s %(U)s %(s)s", "usm.app:create_app()"],
        env=env, cwd=str(Path(__file__).resolve().parents[2]))
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, process)
        yield Server(base, access_log, db)
    finally:
        process.terminate()
        process.wait(timeout=30)
        db.dispose()
        shutil.rmtree(folder / "instance", ignore_errors=True)
        next(urls, None)  # drops the PostgreSQL database


def _wait_until_up(base: str, process: subprocess.Popen) -> None:  # type: ignore[type-arg]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn ended with {process.returncode}")
        try:
            if requests.get(base + "/login", timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer within 60 s")


def _browser() -> requests.Session:
    browser = requests.Session()
    browser.headers["Connection"] = "close"  # a new connection, so any worker, every request
    return browser


def _csrf(browser: requests.Session, url: str) -> str:
    match = CSRF_INPUT.search(browser.get(url).text)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def _sign_in(server: Server, username: str, password: str = PASSWORD,
             browser: requests.Session | None = None) -> requests.Response:
    browser = browser or _browser()
    return browser.post(server.base + "/login", allow_redirects=False, data={
        "username": username, "password": password,
        "csrf_token": _csrf(browser, server.base + "/login")})


def _signed_in(server: Server, username: str) -> requests.Session:
    browser = _browser()
    assert _sign_in(server, username, browser=browser).status_code == 302
    assert browser.get(server.base + "/", allow_redirects=False).status_code == 200
    return browser


def _post_form(server: Server, browser: requests.Session, page: str, action: str,
               data: dict[str, str]) -> requests.Response:
    token = _csrf(browser, server.base + page)
    return browser.post(server.base + action, data={**data, "csrf_token": token},
                        allow_redirects=False)


def _cookie(browser: requests.Session) -> str:
    """The browser's session cookie as it is now, to be replayed as it is (a stolen copy is not
    a browser: it keeps sending the same cookie whatever the server answers)."""
    return f"session={browser.cookies['session']}"


def _spread(server: Server, send: Callable[[], int]) -> list[int]:
    """The statuses of ``TRIES`` requests made by ``send``, four at a time so that every worker
    takes some; more rounds (at most ``TRIES`` more requests) while one has not answered yet."""
    since, statuses = server.log_lines(), []
    with ThreadPoolExecutor(PARALLEL) as pool:
        statuses += pool.map(lambda _n: send(), range(TRIES))
        for _round in range(TRIES // PARALLEL):
            if len(server.workers_seen(since, len(statuses))) == WORKERS:
                break
            statuses += pool.map(lambda _n: send(), range(PARALLEL))
    assert len(server.workers_seen(since, len(statuses))) == WORKERS, \
        "the requests reached every worker"
    return statuses


def _answers(server: Server, cookie: str, path: str = "/") -> list[int]:
    """The statuses of requests replaying ``cookie`` (at least ``TRIES``, on every worker)."""
    return _spread(server, lambda: requests.get(
        server.base + path, allow_redirects=False, timeout=30,
        headers={"Cookie": cookie, "Connection": "close"}).status_code)


def _api_answers(server: Server, token: str) -> list[int]:
    return _spread(server, lambda: requests.get(
        server.base + "/api/v1/me", timeout=30,
        headers={"Authorization": f"Bearer {token}", "Connection": "close"}).status_code)


def test_a_cookie_copied_before_sign_out_is_refused_by_every_worker(server: Server) -> None:
    browser = _signed_in(server, "carol")
    copy = _cookie(browser)
    assert set(_answers(server, copy)) == {200}, "the copy works while the session lives"

    assert _post_form(server, browser, "/", "/logout", {}).status_code == 302

    refused = _answers(server, copy)
    assert set(refused) == {302} and len(refused) >= TRIES, "refused on all (40 or more) requests"


def test_the_sign_in_throttle_counts_across_workers(server: Server) -> None:
    """Wrong passwords sent at the same moment to both workers: exactly the limit is let through
    to be checked, every other attempt is refused, and then even the right password is."""
    forms = [_browser() for _ in range(3 * accounts.FAILURE_LIMIT)]
    tokens = [_csrf(form, server.base + "/login") for form in forms]
    since = server.log_lines()

    def attempt(n: int) -> int:
        return forms[n].post(server.base + "/login", allow_redirects=False, data={
            "username": "sam", "password": "wrong password", "csrf_token": tokens[n]}
        ).status_code

    with ThreadPoolExecutor(PARALLEL) as pool:
        statuses = list(pool.map(attempt, range(len(forms))))
    blocked = _sign_in(server, "sam")  # even the right password, on whichever worker

    assert sorted(statuses) == [200] * accounts.FAILURE_LIMIT + [429] * (
        len(forms) - accounts.FAILURE_LIMIT), "exactly the limit, over all workers together"
    assert len(server.workers_seen(since, len(forms))) == WORKERS
    assert blocked.status_code == 429
    assert "Too many failed sign-ins for sam" in blocked.text


def test_a_password_reset_ends_the_users_sessions_and_tokens_everywhere(server: Server) -> None:
    token = accounts.create_token(server.db, "dana", "script").secret
    browser = _cookie(_signed_in(server, "dana"))
    assert set(_api_answers(server, token)) == {200}
    admin = _signed_in(server, "ada")

    reset = _post_form(server, admin, "/admin/users/dana", "/admin/users/dana/password",
                       {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})

    assert reset.status_code == 302
    assert set(_answers(server, browser)) == {302}
    assert set(_api_answers(server, token)) == {401}
    assert _sign_in(server, "dana", NEW_PASSWORD).status_code == 302


def test_a_reactivated_users_old_sessions_and_tokens_stay_dead(server: Server) -> None:
    token = accounts.create_token(server.db, "finn", "script").secret
    browser = _cookie(_signed_in(server, "finn"))
    admin = _signed_in(server, "ada")
    profile = {"display_name": "Finn", "roles": "service_owner"}

    assert _post_form(server, admin, "/admin/users/finn", "/admin/users/finn", profile
                      ).status_code == 302  # no "active": deactivated
    assert set(_answers(server, browser)) == {302}
    assert _post_form(server, admin, "/admin/users/finn", "/admin/users/finn",
                      {**profile, "active": "y"}).status_code == 302

    assert set(_answers(server, browser)) == {302}, "the old session stays ended"
    assert set(_api_answers(server, token)) == {401}, "the old token stays revoked"
    fresh = accounts.create_token(server.db, "finn", "new script").secret
    assert set(_api_answers(server, fresh)) == {200}


def test_sign_out_everywhere_ends_the_other_browsers_session(server: Server) -> None:
    laptop, phone = _signed_in(server, "gus"), _signed_in(server, "gus")
    laptop_cookie, phone_cookie = _cookie(laptop), _cookie(phone)
    assert set(_answers(server, phone_cookie)) == {200}

    ended = _post_form(server, laptop, "/account/tokens", "/account/sessions/end", {})

    assert ended.status_code == 302 and ended.headers["Location"].endswith("/login")
    assert set(_answers(server, phone_cookie)) == {302}
    assert set(_answers(server, laptop_cookie)) == {302}
    assert _signed_in(server, "gus") is not None, "signing in again works"
