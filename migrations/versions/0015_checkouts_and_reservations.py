"""check-outs with their expected return, and reservations

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 18:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bir.base

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('usm_checkout',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_key', sa.String(length=32), nullable=False),
    sa.Column('change_id', sa.Integer(), nullable=False),
    sa.Column('change_key', sa.String(length=16), nullable=False),
    sa.Column('assignee_kind', sa.String(length=8), nullable=False),
    sa.Column('assignee', sa.String(length=120), nullable=False),
    sa.Column('checked_out_at', bir.base.UTCDateTime(), nullable=False),
    sa.Column('expected_return', sa.Date(), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('checkin_change_id', sa.Integer(), nullable=True),
    sa.Column('checkin_change_key', sa.String(length=16), nullable=True),
    sa.Column('checked_in_at', bir.base.UTCDateTime(), nullable=True),
    sa.Column('checked_in_by', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['change_id'], ['chm_change.id'], name=op.f('fk_usm_checkout_change_id_chm_change')),
    sa.ForeignKeyConstraint(['checkin_change_id'], ['chm_change.id'], name=op.f('fk_usm_checkout_checkin_change_id_chm_change')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_usm_checkout'))
    )
    with op.batch_alter_table('usm_checkout', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_usm_checkout_change_id'), ['change_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_usm_checkout_checkin_change_id'), ['checkin_change_id'], unique=False)
        batch_op.create_index('ix_usm_checkout_created_by', ['created_by', 'expected_return'], unique=False)
        batch_op.create_index('ix_usm_checkout_due', ['expected_return'], unique=False)
        batch_op.create_index('ix_usm_checkout_item', ['item_key', 'id'], unique=False)

    op.create_table('usm_reservation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_key', sa.String(length=32), nullable=False),
    sa.Column('person', sa.String(length=120), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', bir.base.UTCDateTime(), nullable=False),
    sa.Column('cancelled_at', bir.base.UTCDateTime(), nullable=True),
    sa.Column('cancelled_by', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_usm_reservation'))
    )
    with op.batch_alter_table('usm_reservation', schema=None) as batch_op:
        batch_op.create_index('ix_usm_reservation_item', ['item_key', 'starts_on'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('usm_reservation', schema=None) as batch_op:
        batch_op.drop_index('ix_usm_reservation_item')
    op.drop_table('usm_reservation')
    with op.batch_alter_table('usm_checkout', schema=None) as batch_op:
        batch_op.drop_index('ix_usm_checkout_item')
        batch_op.drop_index('ix_usm_checkout_due')
        batch_op.drop_index('ix_usm_checkout_created_by')
        batch_op.drop_index(batch_op.f('ix_usm_checkout_checkin_change_id'))
        batch_op.drop_index(batch_op.f('ix_usm_checkout_change_id'))
    op.drop_table('usm_checkout')
