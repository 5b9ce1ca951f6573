"""sign-in sessions kept on the server, sign-in attempts counted in the database, the audit log,
and who made each API token

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08 12:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import bir.base

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('usm_audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', bir.base.UTCDateTime(), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=True),
    sa.Column('acting_as', sa.String(length=64), nullable=True),
    sa.Column('action', sa.String(length=48), nullable=False),
    sa.Column('target', sa.String(length=300), nullable=True),
    sa.Column('details', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=True),
    sa.Column('via', sa.String(length=8), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_usm_audit_log'))
    )
    with op.batch_alter_table('usm_audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_usm_audit_log_acting_as', ['acting_as', 'id'], unique=False)
        batch_op.create_index('ix_usm_audit_log_action', ['action', 'id'], unique=False)
        batch_op.create_index('ix_usm_audit_log_actor', ['actor', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_usm_audit_log_at'), ['at'], unique=False)

    op.create_table('usm_sign_in_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('at', bir.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_usm_sign_in_attempt'))
    )
    with op.batch_alter_table('usm_sign_in_attempt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_usm_sign_in_attempt_at'), ['at'], unique=False)
        batch_op.create_index('ix_usm_sign_in_attempt_key', ['username', 'address', 'at'], unique=False)

    op.create_table('usm_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', bir.base.UTCDateTime(), nullable=False),
    sa.Column('last_seen_at', bir.base.UTCDateTime(), nullable=False),
    sa.Column('expires_at', bir.base.UTCDateTime(), nullable=False),
    sa.Column('revoked_at', bir.base.UTCDateTime(), nullable=True),
    sa.Column('address', sa.String(length=64), nullable=True),
    sa.Column('user_agent', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['usm_user.id'], name=op.f('fk_usm_session_user_id_usm_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_usm_session')),
    sa.UniqueConstraint('secret_hash', name=op.f('uq_usm_session_secret_hash'))
    )
    with op.batch_alter_table('usm_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_usm_session_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_usm_session_user_id'), ['user_id'], unique=False)

    # Tokens made before this revision keep created_by empty: who made them was not recorded, and
    # naming their owner would claim what nobody knows.
    with op.batch_alter_table('usm_api_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('created_by', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_usm_api_token_created_by_usm_user'), 'usm_user', ['created_by'], ['id'], ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('usm_api_token', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_usm_api_token_created_by_usm_user'), type_='foreignkey')
        batch_op.drop_column('created_by')

    with op.batch_alter_table('usm_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_usm_session_user_id'))
        batch_op.drop_index(batch_op.f('ix_usm_session_expires_at'))

    op.drop_table('usm_session')
    with op.batch_alter_table('usm_sign_in_attempt', schema=None) as batch_op:
        batch_op.drop_index('ix_usm_sign_in_attempt_key')
        batch_op.drop_index(batch_op.f('ix_usm_sign_in_attempt_at'))

    op.drop_table('usm_sign_in_attempt')
    with op.batch_alter_table('usm_audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_usm_audit_log_at'))
        batch_op.drop_index('ix_usm_audit_log_actor')
        batch_op.drop_index('ix_usm_audit_log_action')
        batch_op.drop_index('ix_usm_audit_log_acting_as')

    op.drop_table('usm_audit_log')
