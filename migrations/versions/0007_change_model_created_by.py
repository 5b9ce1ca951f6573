"""who made a change model version, as item class versions record it

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 12:30:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('chm_definition', schema=None) as batch_op:
        batch_op.add_column(sa.Column('created_by', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('chm_definition', schema=None) as batch_op:
        batch_op.drop_column('created_by')
