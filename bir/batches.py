"""Splitting long key lists so one statement never exceeds a driver's parameter limit.

PostgreSQL refuses more than 65,535 bound parameters in a statement and SQLite 32,766; a change
may touch 100,000 items, so lookups by key or id go in slices of ``BATCH``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")
BATCH = 5000


def batches(values: Sequence[T], size: int | None = None) -> Iterator[Sequence[T]]:
    step = size or BATCH  # read when called, so a test can make the slices small
    for start in range(0, len(values), step):
        yield values[start:start + step]
