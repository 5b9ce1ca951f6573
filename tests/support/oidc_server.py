"""A real OpenID Connect provider for the single sign-on tests: panva's ``oidc-provider`` from the
npm registry, run by the machine's Node.js with ``tests/support/oidc/provider.mjs``.

The package is installed once into a cache folder (``~/.cache/usm-test-oidc``, or
``USM_TEST_OIDC_CACHE``) with the version ``tests/support/oidc/package.json`` pins. The provider
reads its accounts from a JSON file at every use, so a test adds accounts, changes their groups
or disables them between two sign-ins by rewriting the file.

Without ``node`` and ``npm``, or when the package cannot be installed, the tests that need it are
skipped, or fail when ``USM_REQUIRE_SSO=1`` (CI sets it).
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from tests.support.directory_server import free_port, stop, unavailable

HERE = Path(__file__).resolve().parent / "oidc"
CLIENT_ID = "usm-test"
# A loopback address without a port: the provider lets it match any port (see provider.mjs).
REDIRECT_URI = "http://127.0.0.1/login/oidc/callback"


class IdentityProvider:
    """The running provider, and its accounts file."""

    def __init__(self, issuer: str, client_secret: str, accounts_file: Path):
        self.issuer = issuer
        self.client_secret = client_secret
        self.accounts_file = accounts_file
        self._lock = threading.Lock()

    def settings(self, **overrides: str) -> dict[str, str]:
        """The ``USM_OIDC_*`` variables for this provider."""
        return {"USM_OIDC_ISSUER": self.issuer, "USM_OIDC_CLIENT_ID": CLIENT_ID,
                "USM_OIDC_CLIENT_SECRET": self.client_secret, "USM_OIDC_NAME": "Example ID",
                "USM_OIDC_SCOPES": "openid profile email groups", **overrides}

    def add_account(self, username: str, password: str, groups: list[str],
                    name: str | None = None) -> None:
        self._change(username, {"password": password, "groups": groups,
                                "name": name or username.capitalize(), "disabled": False})

    def set_groups(self, username: str, groups: list[str]) -> None:
        self._change(username, {"groups": groups})

    def disable(self, username: str) -> None:
        self._change(username, {"disabled": True})

    def _change(self, username: str, values: dict[str, object]) -> None:
        with self._lock:
            accounts = json.loads(self.accounts_file.read_text(encoding="utf-8"))
            accounts[username] = {**accounts.get(username, {}), **values}
            written = self.accounts_file.with_suffix(".tmp")
            written.write_text(json.dumps(accounts), encoding="utf-8")
            written.replace(self.accounts_file)  # the provider never reads half a file


def _cache() -> Path:
    default = Path.home() / ".cache" / "usm-test-oidc"
    return Path(os.environ.get("USM_TEST_OIDC_CACHE", default))


def _install(node: str, npm: str) -> Path:
    """The cache folder with the pinned oidc-provider installed (once; other test runs wait)."""
    cache = _cache()
    cache.mkdir(parents=True, exist_ok=True)
    wanted = (HERE / "package.json").read_text(encoding="utf-8")
    with (cache / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        installed = cache / "package.json"
        module = cache / "node_modules" / "oidc-provider" / "package.json"
        if not module.exists() or not installed.exists() or installed.read_text() != wanted:
            installed.write_text(wanted, encoding="utf-8")
            done = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--omit=dev",
                                   "--no-package-lock"], cwd=cache, capture_output=True,
                                  text=True, timeout=300)
            if done.returncode or not module.exists():
                installed.unlink(missing_ok=True)
                unavailable(f"npm could not install oidc-provider: {done.stderr.strip()[-500:]}")
    return cache


def _wait_for(process: subprocess.Popen[str], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if "listening " in log.read_text(errors="replace"):
            return
        if process.poll() is not None:
            break
        time.sleep(0.1)
    raise RuntimeError(f"the OpenID Connect provider did not start: "
                       f"{log.read_text(errors='replace')[-2000:]}")


def run_identity_provider(folder: Path) -> Iterator[IdentityProvider]:
    """Start the provider for as long as the generator is open."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        unavailable("Node.js (node and npm) is not installed")
        return
    cache = _install(node, npm)
    # Node resolves the package from the script's folder: the script runs from the cache.
    script = cache / f"provider-{os.getpid()}-{secrets.token_hex(4)}.mjs"
    shutil.copyfile(HERE / "provider.mjs", script)
    accounts, log, port = folder / "accounts.json", folder / "provider.log", free_port()
    accounts.write_text("{}", encoding="utf-8")
    secret = secrets.token_urlsafe(24)
    env = {**os.environ, "USM_OIDC_PORT": str(port), "USM_OIDC_ACCOUNTS": str(accounts),
           "USM_OIDC_CLIENT_ID": CLIENT_ID, "USM_OIDC_CLIENT_SECRET": secret,
           "USM_OIDC_REDIRECT_URI": REDIRECT_URI}
    with log.open("w") as output:
        process = subprocess.Popen([node, str(script)], env=env, stdout=output,
                                   stderr=subprocess.STDOUT, text=True)
    try:
        _wait_for(process, log)
        yield IdentityProvider(f"http://127.0.0.1:{port}", secret, accounts)
    finally:
        stop(process)
        script.unlink(missing_ok=True)
