"""The bare baseline of figure 6: one Flask route that runs the very statements the register list
page ran (captured by ``bench.web``), with no login, forms, services or templates around them."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

from flask import Flask

from usm.db import make_engine


def create_bare() -> Flask:
    """Built by gunicorn; ``USM_DATABASE_URL`` and ``USM_BENCH_STATEMENTS`` (a pickle of the
    captured (SQL, parameters) pairs) say what to run."""
    engine = make_engine(os.environ["USM_DATABASE_URL"])
    statements = pickle.loads(Path(os.environ["USM_BENCH_STATEMENTS"]).read_bytes())  # noqa: S301
    app = Flask(__name__)

    @app.get("/items")
    def items() -> str:
        rows = 0
        with engine.connect() as conn:
            for sql, parameters in statements:
                result = conn.exec_driver_sql(sql, parameters)
                if result.returns_rows:
                    rows += len(result.all())
        return f"<p>{rows} rows</p>"

    return app
