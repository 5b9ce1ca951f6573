"""The handle every service function takes: an engine and its session factory."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from usm.db import make_engine, session_factory, unit_of_work


@dataclass
class Database:
    engine: Engine
    sessions: sessionmaker[Session]
    writing_sessions: sessionmaker[Session]

    @classmethod
    def connect(cls, url: str) -> Database:
        engine = make_engine(url)
        return cls(engine, session_factory(engine), session_factory(engine, writes=True))

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with unit_of_work(self.writing_sessions) as session:
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        with self.sessions() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
