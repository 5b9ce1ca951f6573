"""people, locations and cost centres as reference data

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 18:00:00.000000

Every value an item holds or ever held becomes a reference row, so none is lost and no register
history is rewritten: one row per distinct non-empty ``owner`` (kind person), ``location`` and
``cost_centre`` found in ``bir_item`` and in every ``bir_item_version``, trimmed. Values that
differ only in case are one row (codes are matched case-insensitively): the spelling held by the
most rows (current items and versions counted together) is kept, and among equally used
spellings the first in sort order. The row's code and name are that text; an administrator can
rename it afterwards (the code stays), merge duplicates and retire what is no longer used.
"""
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import bir.base

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = {'owner': ('person', 64), 'location': ('location', 120), 'cost_centre': ('cost_centre', 64)}


def upgrade() -> None:
    values = op.create_table('bir_reference_value',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('code', sa.String(length=120), nullable=False),
    sa.Column('folded', sa.String(length=120), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('merged_into_id', sa.Integer(), nullable=True),
    sa.Column('username', sa.String(length=64), nullable=True),
    sa.Column('item_key', sa.String(length=32), nullable=True),
    sa.Column('created_at', bir.base.UTCDateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=True),
    sa.Column('updated_at', bir.base.UTCDateTime(), nullable=False),
    sa.Column('updated_by', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['merged_into_id'], ['bir_reference_value.id'], name=op.f('fk_bir_reference_value_merged_into_id_bir_reference_value')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bir_reference_value')),
    sa.UniqueConstraint('kind', 'folded', name='uq_bir_reference_value_kind_folded')
    )
    with op.batch_alter_table('bir_reference_value', schema=None) as batch_op:
        batch_op.create_index('ix_bir_reference_value_kind_name', ['kind', 'name', 'id'], unique=False)

    bind = op.get_bind()
    now = datetime.now(UTC)
    rows = []
    for column, (kind, length) in KINDS.items():
        uses: Counter[str] = Counter()
        for table in ('bir_item', 'bir_item_version'):
            t = sa.table(table, sa.column(column, sa.String))
            for value, count in bind.execute(sa.select(t.c[column], sa.func.count())
                                             .where(t.c[column].is_not(None))
                                             .group_by(t.c[column])):
                text = value.strip()[:length]
                if text:
                    uses[text] += count
        spellings: dict[str, list[tuple[int, str]]] = {}
        for text, count in uses.items():
            spellings.setdefault(text.casefold(), []).append((-count, text))
        for key, found in sorted(spellings.items()):
            text = min(found)[1]  # the most used spelling; ties: the first in sort order
            rows.append({'kind': kind, 'code': text, 'folded': key[:120], 'name': text,
                         'active': True, 'created_at': now, 'updated_at': now})
    for start in range(0, len(rows), 1000):
        op.bulk_insert(values, rows[start:start + 1000])


def downgrade() -> None:
    with op.batch_alter_table('bir_reference_value', schema=None) as batch_op:
        batch_op.drop_index('ix_bir_reference_value_kind_name')
    op.drop_table('bir_reference_value')
