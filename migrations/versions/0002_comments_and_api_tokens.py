"""change comments and API tokens

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 09:33:23.289554
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bir.base

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('usm_api_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('token_hash', sa.String(length=128), nullable=False),
    sa.Column('created_at', bir.base.UTCDateTime(), nullable=False),
    sa.Column('last_used_at', bir.base.UTCDateTime(), nullable=True),
    sa.Column('expires_at', bir.base.UTCDateTime(), nullable=True),
    sa.Column('revoked_at', bir.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['usm_user.id'], name=op.f('fk_usm_api_token_user_id_usm_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_usm_api_token')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_usm_api_token_token_hash'))
    )
    with op.batch_alter_table('usm_api_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_usm_api_token_user_id'), ['user_id'], unique=False)

    op.create_table('chm_comment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('change_id', sa.Integer(), nullable=False),
    sa.Column('author', sa.String(length=64), nullable=False),
    sa.Column('at', bir.base.UTCDateTime(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['change_id'], ['chm_change.id'], name=op.f('fk_chm_comment_change_id_chm_change'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chm_comment'))
    )
    with op.batch_alter_table('chm_comment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chm_comment_change_id'), ['change_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('chm_comment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chm_comment_change_id'))

    op.drop_table('chm_comment')
    with op.batch_alter_table('usm_api_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_usm_api_token_user_id'))

    op.drop_table('usm_api_token')
