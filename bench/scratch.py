"""Scratch tables of the same shape as the register's (same columns, types and indexes; no foreign
keys), which the raw baselines write and read with plain SQLAlchemy Core."""

from __future__ import annotations

from sqlalchemy import Column, Engine, Index, MetaData, Table

from bir.items import Item, ItemVersion
from bir.relations import Relation
from workflows.models import Change, StepLogEntry

PREFIX = "bench_"


def _copy(source: Table, metadata: MetaData) -> Table:
    table = Table(PREFIX + source.name, metadata,
                  *[Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable)
                    for c in source.columns])
    for index in source.indexes:
        Index(PREFIX + str(index.name), *[table.c[c.name] for c in index.columns],
              unique=index.unique, **index.dialect_kwargs)
    return table


class ScratchTables:
    """bench_bir_item, bench_bir_item_version, bench_bir_relation, bench_chm_change and
    bench_chm_step_log, created empty (dropped first when a previous run left them)."""

    def __init__(self, engine: Engine):
        self.metadata = MetaData()
        self.item = _copy(Item.__table__, self.metadata)  # type: ignore[arg-type]
        self.version = _copy(ItemVersion.__table__, self.metadata)  # type: ignore[arg-type]
        self.relation = _copy(Relation.__table__, self.metadata)  # type: ignore[arg-type]
        self.change = _copy(Change.__table__, self.metadata)  # type: ignore[arg-type]
        self.step_log = _copy(StepLogEntry.__table__, self.metadata)  # type: ignore[arg-type]
        self.metadata.drop_all(engine)
        self.metadata.create_all(engine)
