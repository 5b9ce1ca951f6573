"""URL converters: a number in a path must fit the database's integer columns.

Flask's ``int`` takes any size; a version number of 2**40 in a URL then overflows PostgreSQL's
INTEGER in the lookup (a 500). Above the column's range nothing can match, so it is a 404.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter, Map

LARGEST_ID = 2**31 - 1


class ColumnInteger(IntegerConverter):
    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", LARGEST_ID)
        super().__init__(url_map, *args, **kwargs)


def install(app: Flask) -> None:
    """Call before any blueprint is registered: rules take their converters when added."""
    app.url_map.converters["int"] = ColumnInteger
