"""Benchmarks: a synthetic register built through the change engine, each figure measured as a
ratio against raw SQLAlchemy Core on the same data in the same run. ``python -m bench --help``."""
