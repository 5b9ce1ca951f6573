"""incident references on changes, and failures recorded from incidents

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 19:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bir.base

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('chm_change', schema=None) as batch_op:
        batch_op.add_column(sa.Column('incident_reference', sa.String(length=64), nullable=True))
        batch_op.create_index('ix_chm_change_incident_reference', ['incident_reference', 'id'],
                              unique=False)

    op.create_table('inc_failure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_key', sa.String(length=32), nullable=False),
    sa.Column('at', bir.base.UTCDateTime(), nullable=False),
    sa.Column('incident_reference', sa.String(length=64), nullable=False),
    sa.Column('outcome', sa.String(length=8), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('recorded_by', sa.String(length=64), nullable=False),
    sa.Column('recorded_at', bir.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inc_failure')),
    sa.UniqueConstraint('item_key', 'incident_reference', 'outcome',
                        name=op.f('uq_inc_failure_item_key'))
    )
    with op.batch_alter_table('inc_failure', schema=None) as batch_op:
        batch_op.create_index('ix_inc_failure_at', ['at', 'id'], unique=False)
        batch_op.create_index('ix_inc_failure_item', ['item_key', 'at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('inc_failure', schema=None) as batch_op:
        batch_op.drop_index('ix_inc_failure_item')
        batch_op.drop_index('ix_inc_failure_at')
    op.drop_table('inc_failure')
    with op.batch_alter_table('chm_change', schema=None) as batch_op:
        batch_op.drop_index('ix_chm_change_incident_reference')
        batch_op.drop_column('incident_reference')
