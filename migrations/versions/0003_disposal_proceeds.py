"""disposal proceeds on items and their versions

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 13:40:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bir.base

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('bir_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('disposal_proceeds', bir.base.Money(), nullable=True))

    with op.batch_alter_table('bir_item_version', schema=None) as batch_op:
        batch_op.add_column(sa.Column('disposal_proceeds', bir.base.Money(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('bir_item_version', schema=None) as batch_op:
        batch_op.drop_column('disposal_proceeds')

    with op.batch_alter_table('bir_item', schema=None) as batch_op:
        batch_op.drop_column('disposal_proceeds')
