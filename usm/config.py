"""Settings from the environment, with an embedded SQLite default in ``instance/``."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path


def instance_path() -> Path:
    path = Path(os.environ.get("USM_INSTANCE_PATH", "instance")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_url() -> str:
    url = os.environ.get("USM_DATABASE_URL")
    if url:
        # Accept the common postgres:// spelling and pick the psycopg 3 driver.
        if url.startswith("postgres://"):
            url = "postgresql://" + url.removeprefix("postgres://")
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        return url
    return f"sqlite:///{instance_path() / 'usm.db'}"


def secret_key() -> str:
    """``USM_SECRET_KEY``, or a random key kept in the instance folder (never in the repository)."""
    key = os.environ.get("USM_SECRET_KEY")
    if key:
        return key
    path = instance_path() / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


def secure_cookies() -> bool:
    """``USM_SECURE_COOKIES=1`` when the app is served over HTTPS: cookies are then sent over
    HTTPS only. Off by default, because the quick start serves plain HTTP on localhost."""
    value = os.environ.get("USM_SECURE_COOKIES", "").strip().lower()
    if value not in ("", "0", "1", "true", "false", "yes", "no"):
        raise ValueError(f"USM_SECURE_COOKIES must be 1 or 0, not {value!r}")
    return value in ("1", "true", "yes")


def default_currency() -> str:
    """``USM_DEFAULT_CURRENCY``: the currency the register's forms and imports offer for an
    amount that names none (ISO 4217, EUR unless set)."""
    value = os.environ.get("USM_DEFAULT_CURRENCY", "EUR").strip().upper()
    if len(value) != 3 or not value.isalpha() or not value.isascii():
        raise ValueError(f"USM_DEFAULT_CURRENCY must be a three-letter currency code, not {value!r}")
    return value


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: str
    testing: bool = False
    secure_cookies: bool = False

    @classmethod
    def from_env(cls) -> Settings:
        return cls(database_url=database_url(), secret_key=secret_key(),
                   secure_cookies=secure_cookies())
