"""Settings from the environment, with an embedded SQLite default in ``instance/``."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from usm.sso_config import SingleSignOn, single_sign_on


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


def _switch(name: str) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if value not in ("", "0", "1", "true", "false", "yes", "no"):
        raise ValueError(f"{name} must be 1 or 0, not {value!r}")
    return value in ("1", "true", "yes")


def allow_act_as() -> bool:
    """``USM_ALLOW_ACT_AS=1`` lets an administrator make an API token for another user and act
    as them through it; every action through it then records both. Off by default: a token is
    made by its own user (separation of duties)."""
    return _switch("USM_ALLOW_ACT_AS")


def trusted_proxies() -> int:
    """``USM_TRUSTED_PROXIES``: how many reverse proxies stand in front of the app (0 unless
    set). With 1, the client's address and scheme are read from the ``X-Forwarded-For`` and
    ``X-Forwarded-Proto`` headers the proxy sets; without a proxy they must not be trusted."""
    value = os.environ.get("USM_TRUSTED_PROXIES", "0").strip() or "0"
    if not value.isdigit() or int(value) > 5:
        raise ValueError(f"USM_TRUSTED_PROXIES must be a number of proxies from 0 to 5, "
                         f"not {value!r}")
    return int(value)


def default_currency() -> str:
    """``USM_DEFAULT_CURRENCY``: the currency the register's forms and imports offer for an
    amount that names none (ISO 4217, EUR unless set)."""
    value = os.environ.get("USM_DEFAULT_CURRENCY", "EUR").strip().upper()
    if len(value) != 3 or not value.isalpha() or not value.isascii():
        raise ValueError(f"USM_DEFAULT_CURRENCY must be a three-letter currency code, not {value!r}")
    return value


DEFAULT_ATTACHMENT_MAX_BYTES = 20 * 1024 * 1024


def attachment_storage() -> str:
    """``USM_ATTACHMENT_STORAGE``: where uploaded attachments' bytes are kept: ``database`` (the
    default: every web worker and host reads the same database) or the absolute path of a
    directory all of them share (files named by their SHA-256, written atomically)."""
    value = os.environ.get("USM_ATTACHMENT_STORAGE", "").strip() or "database"
    if value != "database" and not Path(value).is_absolute():
        raise ValueError(f"USM_ATTACHMENT_STORAGE must be 'database' or an absolute directory "
                         f"path shared by every host, not {value!r}")
    return value


def attachment_max_bytes() -> int:
    """``USM_ATTACHMENT_MAX_BYTES``: the largest attachment accepted (20 MB unless set; at most
    1 GB)."""
    value = os.environ.get("USM_ATTACHMENT_MAX_BYTES", "").strip()
    if not value:
        return DEFAULT_ATTACHMENT_MAX_BYTES
    if not value.isdigit() or not 1024 <= int(value) <= 1024 ** 3:
        raise ValueError(f"USM_ATTACHMENT_MAX_BYTES must be a number of bytes from 1024 to "
                         f"1073741824, not {value!r}")
    return int(value)


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: str
    testing: bool = False
    secure_cookies: bool = False
    # OpenID Connect and LDAP sign-in with their role map; none by default (local accounts only).
    single_sign_on: SingleSignOn = field(default_factory=SingleSignOn)
    # USM_ALLOW_ACT_AS: administrators may make tokens for (and act as) other users.
    allow_act_as: bool = False
    # USM_TRUSTED_PROXIES: reverse proxies in front, whose X-Forwarded-For/-Proto are believed.
    trusted_proxies: int = 0
    # USM_ATTACHMENT_STORAGE ("database" or a shared directory) and USM_ATTACHMENT_MAX_BYTES.
    attachment_storage: str = "database"
    attachment_max_bytes: int = DEFAULT_ATTACHMENT_MAX_BYTES

    @classmethod
    def from_env(cls) -> Settings:
        return cls(database_url=database_url(), secret_key=secret_key(),
                   secure_cookies=secure_cookies(), single_sign_on=single_sign_on(),
                   allow_act_as=allow_act_as(), trusted_proxies=trusted_proxies(),
                   attachment_storage=attachment_storage(),
                   attachment_max_bytes=attachment_max_bytes())


def base_url() -> str | None:
    """``USM_BASE_URL``: the address people reach the app at (``https://usm.example.org``, with
    any path prefix), for links that leave the browser, such as the QR codes on asset labels;
    unset, they use the address of the request that made them."""
    value = os.environ.get("USM_BASE_URL", "").strip()
    if not value:
        return None
    if not value.startswith(("https://", "http://")) or len(value) > 200 or " " in value:
        raise ValueError(f"USM_BASE_URL must be an http(s) address such as "
                         f"https://usm.example.org, not {value!r}")
    return value.rstrip("/")
