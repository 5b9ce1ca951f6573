"""indexes the benchmark showed missing: item versions by key

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 14:20:00.000000
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # item_history, item_as_of and the as-of register (keyset on key) read versions by key; without
    # this index each of them scans the whole history table.
    op.create_index('ix_bir_item_version_key', 'bir_item_version', ['key', 'valid_from'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_bir_item_version_key', table_name='bir_item_version')
