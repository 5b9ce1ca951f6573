"""item class versions: drafts, published and superseded definitions of each class

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 16:40:00.000000

Each existing class gets version 1, published, made from its current row (``bir_item_class`` stays
the projection of the published version).
"""
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import bir.base

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade() -> None:
    versions = op.create_table('bir_item_class_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('spec', JSON, nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=True),
    sa.Column('created_at', bir.base.UTCDateTime(), nullable=False),
    sa.Column('published_at', bir.base.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bir_item_class_version')),
    sa.UniqueConstraint('code', 'version', name=op.f('uq_bir_item_class_version_code'))
    )
    with op.batch_alter_table('bir_item_class_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bir_item_class_version_code'), ['code'], unique=False)

    classes = sa.table('bir_item_class', sa.column('code', sa.String), sa.column('name', sa.String),
                       sa.column('key_prefix', sa.String), sa.column('abstract', sa.Boolean),
                       sa.column('description', sa.Text), sa.column('attributes', JSON))
    now = datetime.now(UTC)
    rows = []
    for row in op.get_bind().execute(sa.select(classes).order_by(classes.c.code)).mappings():
        spec = {'code': row['code'], 'name': row['name'], 'key_prefix': row['key_prefix'],
                'abstract': bool(row['abstract']), 'attributes': list(row['attributes'] or [])}
        if row['description'] is not None:
            spec['description'] = row['description']
        rows.append({'code': row['code'], 'version': 1, 'status': 'published', 'spec': spec,
                     'created_by': 'setup', 'created_at': now, 'published_at': now})
    if rows:
        op.bulk_insert(versions, rows)


def downgrade() -> None:
    with op.batch_alter_table('bir_item_class_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bir_item_class_version_code'))

    op.drop_table('bir_item_class_version')
