"""where a user signs in (local password, LDAP directory, OpenID Connect provider) and who they
are there; directory and provider users have no local password

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08 10:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('usm_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=8), server_default='local',
                                      nullable=False))
        batch_op.add_column(sa.Column('external_id', sa.String(length=512), nullable=True))
        batch_op.alter_column('password_hash', existing_type=sa.String(length=255), nullable=True)
        batch_op.create_unique_constraint('uq_usm_user_source', ['source', 'external_id'])


def downgrade() -> None:
    # Users of a directory or provider stay (changes name them) but cannot sign in any more:
    # deactivated, with a password hash no password matches.
    op.execute("UPDATE usm_user SET active = false, password_hash = '!' "
               "WHERE source <> 'local'")
    with op.batch_alter_table('usm_user', schema=None) as batch_op:
        batch_op.drop_constraint('uq_usm_user_source', type_='unique')
        batch_op.alter_column('password_hash', existing_type=sa.String(length=255), nullable=False)
        batch_op.drop_column('external_id')
        batch_op.drop_column('source')
