"""The platform every capability stands on: the database handle, file exports (CSV, XLSX),
backup and restore, installing what the product ships, and the demo data.

``install_shipped`` and ``load_demo`` build on the capabilities (item classes, changes, accounts),
which all build on ``Database``; they are loaded on first use, so that importing the database
does not import every capability first.
"""

from typing import Any

from usm.config import default_currency
from usm.services.platform.backup import BackupError, backup_database, restore_database
from usm.services.platform.database import Database
from usm.services.platform.exports import FORMATS, Sheet, export, neutralised, restored

_COMPOSED = {"install_shipped": "setup", "load_demo": "demo", "DemoRefused": "demo",
             "DEMO_USERS": "demo"}


def __getattr__(name: str) -> Any:
    if name in _COMPOSED:
        from importlib import import_module
        return getattr(import_module(f"usm.services.platform.{_COMPOSED[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["DEMO_USERS", "FORMATS", "BackupError", "Database", "DemoRefused", "Sheet",
           "backup_database", "default_currency", "export", "install_shipped", "load_demo",
           "neutralised", "restore_database", "restored"]
