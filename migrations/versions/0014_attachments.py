"""attachments of items and changes, stored in the database by default

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 18:00:00.000000

Three tables: ``attachment_blob`` (an uploaded file's bytes once per SHA-256, with the type read
from them; the bytes in the row, or in a shared directory named by the hash),
``bir_item_attachment`` (a file attached to an item by a change, valid until the change that
removed it: register data, written only at implementation) and ``chm_change_attachment`` (a file
kept with a change).
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bir.base

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('attachment_blob',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('stored_in', sa.String(length=16), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', bir.base.UTCDateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachment_blob')),
    sa.UniqueConstraint('sha256', name=op.f('uq_attachment_blob_sha256'))
    )
    with op.batch_alter_table('attachment_blob', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attachment_blob_created_at'), ['created_at'], unique=False)

    op.create_table('bir_item_attachment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('blob_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=120), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=True),
    sa.Column('valid_from', bir.base.UTCDateTime(), nullable=False),
    sa.Column('valid_to', bir.base.UTCDateTime(), nullable=True),
    sa.Column('change_id', sa.Integer(), nullable=False),
    sa.Column('ended_change_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['blob_id'], ['attachment_blob.id'], name=op.f('fk_bir_item_attachment_blob_id_attachment_blob')),
    sa.ForeignKeyConstraint(['change_id'], ['chm_change.id'], name=op.f('fk_bir_item_attachment_change_id_chm_change')),
    sa.ForeignKeyConstraint(['ended_change_id'], ['chm_change.id'], name=op.f('fk_bir_item_attachment_ended_change_id_chm_change')),
    sa.ForeignKeyConstraint(['item_id'], ['bir_item.id'], name=op.f('fk_bir_item_attachment_item_id_bir_item')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bir_item_attachment'))
    )
    with op.batch_alter_table('bir_item_attachment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bir_item_attachment_blob_id'), ['blob_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bir_item_attachment_change_id'), ['change_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bir_item_attachment_ended_change_id'), ['ended_change_id'], unique=False)
        batch_op.create_index('ix_bir_item_attachment_item', ['item_id', 'valid_from'], unique=False)
        batch_op.create_index('uq_bir_item_attachment_current', ['item_id', 'blob_id'], unique=True,
                              sqlite_where=sa.text('valid_to IS NULL'),
                              postgresql_where=sa.text('valid_to IS NULL'))

    op.create_table('chm_change_attachment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('change_id', sa.Integer(), nullable=False),
    sa.Column('blob_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=120), nullable=False),
    sa.Column('added_by', sa.String(length=64), nullable=False),
    sa.Column('at', bir.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['blob_id'], ['attachment_blob.id'], name=op.f('fk_chm_change_attachment_blob_id_attachment_blob')),
    sa.ForeignKeyConstraint(['change_id'], ['chm_change.id'], name=op.f('fk_chm_change_attachment_change_id_chm_change'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chm_change_attachment'))
    )
    with op.batch_alter_table('chm_change_attachment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chm_change_attachment_blob_id'), ['blob_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_chm_change_attachment_change_id'), ['change_id'], unique=False)


def downgrade() -> None:
    op.drop_table('chm_change_attachment')
    op.drop_table('bir_item_attachment')
    op.drop_table('attachment_blob')
