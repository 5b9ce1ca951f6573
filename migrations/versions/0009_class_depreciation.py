"""how items of a class usually depreciate, offered by the forms for a new item

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 14:30:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade() -> None:
    with op.batch_alter_table('bir_item_class', schema=None) as batch_op:
        batch_op.add_column(sa.Column('depreciation', JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('bir_item_class', schema=None) as batch_op:
        batch_op.drop_column('depreciation')
