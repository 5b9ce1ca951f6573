"""Guards around signing in: throttling of failed attempts and revocation of signed-out sessions.

Both keep their state in the memory of one web process, with a bounded size. That is the
documented limit: with several worker processes each counts on its own (an attacker gets at most
``FAILURE_LIMIT`` tries per process per window), and a session cookie signed out in one worker
stays valid in another until the session lifetime (``SESSION_LIFETIME``) ends it. Flask's session
is a signed cookie, so without a server-side store this is what logout can revoke.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict, deque
from datetime import timedelta

from flask import current_app, session

FAILURE_LIMIT = 5
FAILURE_WINDOW_SECONDS = 15 * 60
TRACKED_LIMIT = 10_000  # (user, address) pairs and revoked sessions held; the oldest go first
SESSION_LIFETIME = timedelta(hours=12)
SESSION_ID = "_sid"
_EXTENSION = "usm_login_guard"


class LoginThrottle:
    """Failed sign-ins per (user name, client address) within a sliding window."""

    def __init__(self, limit: int = FAILURE_LIMIT, window: float = FAILURE_WINDOW_SECONDS,
                 tracked: int = TRACKED_LIMIT):
        self.limit, self.window, self.tracked = limit, window, tracked
        self._failures: OrderedDict[tuple[str, str], deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        failures = self._failures.get(key, deque())
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures

    def wait_seconds(self, username: str, address: str, now: float | None = None) -> int:
        """Seconds until this user may try again from this address; 0 when they may now."""
        now = time.monotonic() if now is None else now
        with self._lock:
            failures = self._recent((username.lower(), address), now)
            if len(failures) < self.limit:
                return 0
            return max(1, int(failures[-self.limit] + self.window - now) + 1)

    def failed(self, username: str, address: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        key = (username.lower(), address)
        with self._lock:
            failures = self._recent(key, now)
            failures.append(now)
            self._failures[key] = failures
            self._failures.move_to_end(key)
            while len(self._failures) > self.tracked:
                self._failures.popitem(last=False)

    def succeeded(self, username: str, address: str) -> None:
        with self._lock:
            self._failures.pop((username.lower(), address), None)


class RevokedSessions:
    """Ids of signed-out sessions, so a copy of the cookie taken before sign-out no longer works."""

    def __init__(self, tracked: int = TRACKED_LIMIT):
        self.tracked = tracked
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def revoke(self, session_id: str) -> None:
        with self._lock:
            self._ids[session_id] = None
            while len(self._ids) > self.tracked:
                self._ids.popitem(last=False)

    def __contains__(self, session_id: object) -> bool:
        with self._lock:
            return session_id in self._ids


def throttle() -> LoginThrottle:
    return _guards()[0]


def start_session() -> None:
    """Give the (just cleared) session a fresh id at sign-in."""
    session[SESSION_ID] = secrets.token_urlsafe(24)


def end_session() -> None:
    """Revoke the session's id and clear it, at sign-out."""
    session_id = session.get(SESSION_ID)
    if session_id:
        _guards()[1].revoke(session_id)
    session.clear()


def drop_revoked_session() -> None:
    """Before each request: a revoked session cookie signs nobody in."""
    session_id = session.get(SESSION_ID)
    if session_id and session_id in _guards()[1]:
        session.clear()


def _guards() -> tuple[LoginThrottle, RevokedSessions]:
    guards: tuple[LoginThrottle, RevokedSessions] = current_app.extensions.setdefault(
        _EXTENSION, (LoginThrottle(), RevokedSessions()))
    return guards
