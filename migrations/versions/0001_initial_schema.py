"""initial schema: register, change process, users

Revision ID: 0001
Revises:
Create Date: 2026-11-23 09:06:46.933683
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import bir.base

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('bir_item_class',
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('parent_code', sa.String(length=64), nullable=True),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('key_prefix', sa.String(length=8), nullable=False),
    sa.Column('abstract', sa.Boolean(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('attributes', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['parent_code'], ['bir_item_class.code'], name=op.f('fk_bir_item_class_parent_code_bir_item_class')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_bir_item_class'))
    )
    with op.batch_alter_table('bir_item_class', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bir_item_class_parent_code'), ['parent_code'], unique=False)

    op.create_table('chm_definition',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=48), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('change_class', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('published_at', bir.base.UTCDateTime(), nullable=True),
    sa.Column('created_at', bir.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chm_definition')),
    sa.UniqueConstraint('code', 'version', name=op.f('uq_chm_definition_code'))
    )
    with op.batch_alter_table('chm_definition', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chm_definition_code'), ['code'], unique=False)

    op.create_table('key_counter',
    sa.Column('prefix', sa.String(length=8), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('prefix', name=op.f('pk_key_counter'))
    )
    op.create_table('usm_user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=120), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('roles', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', bir.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_usm_user')),
    sa.UniqueConstraint('username', name=op.f('uq_usm_user_username'))
    )
    op.create_table('chm_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('definition_id', sa.Integer(), nullable=False),
    sa.Column('change_class', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=48), nullable=False),
    sa.Column('step', sa.String(length=16), nullable=False),
    sa.Column('requester', sa.String(length=64), nullable=False),
    sa.Column('coordinator', sa.String(length=64), nullable=True),
    sa.Column('risk', sa.String(length=8), nullable=True),
    sa.Column('impact', sa.Text(), nullable=True),
    sa.Column('cost_estimate', bir.base.Money(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('planned_start', bir.base.UTCDateTime(), nullable=True),
    sa.Column('planned_end', bir.base.UTCDateTime(), nullable=True),
    sa.Column('services', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('approval_round', sa.Integer(), nullable=False),
    sa.Column('fields', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('created_at', bir.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', bir.base.UTCDateTime(), nullable=False),
    sa.Column('step_entered_at', bir.base.UTCDateTime(), nullable=False),
    sa.Column('implemented_at', bir.base.UTCDateTime(), nullable=True),
    sa.Column('closed_at', bir.base.UTCDateTime(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['definition_id'], ['chm_definition.id'], name=op.f('fk_chm_change_definition_id_chm_definition')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chm_change')),
    sa.UniqueConstraint('key', name=op.f('uq_chm_change_key'))
    )
    with op.batch_alter_table('chm_change', schema=None) as batch_op:
        batch_op.create_index('ix_chm_change_coordinator', ['coordinator', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_chm_change_definition_id'), ['definition_id'], unique=False)
        batch_op.create_index('ix_chm_change_step', ['step', 'id'], unique=False)

    op.create_table('bir_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('valid_from', bir.base.UTCDateTime(), nullable=False),
    sa.Column('created_change_id', sa.Integer(), nullable=False),
    sa.Column('last_change_id', sa.Integer(), nullable=False),
    sa.Column('class_code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('owner', sa.String(length=64), nullable=True),
    sa.Column('location', sa.String(length=120), nullable=True),
    sa.Column('cost_centre', sa.String(length=64), nullable=True),
    sa.Column('serial_number', sa.String(length=64), nullable=True),
    sa.Column('asset_tag', sa.String(length=64), nullable=True),
    sa.Column('manufacturer', sa.String(length=64), nullable=True),
    sa.Column('model', sa.String(length=120), nullable=True),
    sa.Column('hostname', sa.String(length=120), nullable=True),
    sa.Column('purchase_cost', bir.base.Money(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('acquired_on', sa.Date(), nullable=True),
    sa.Column('in_service_on', sa.Date(), nullable=True),
    sa.Column('depreciation_method', sa.String(length=24), nullable=True),
    sa.Column('depreciation_months', sa.Integer(), nullable=True),
    sa.Column('residual_value', bir.base.Money(), nullable=True),
    sa.Column('supplier', sa.String(length=120), nullable=True),
    sa.Column('contract', sa.String(length=64), nullable=True),
    sa.Column('invoice', sa.String(length=64), nullable=True),
    sa.Column('warranty_end', sa.Date(), nullable=True),
    sa.Column('lease_end', sa.Date(), nullable=True),
    sa.Column('end_of_life', sa.Date(), nullable=True),
    sa.Column('recurring_cost', bir.base.Money(), nullable=True),
    sa.Column('recurring_period', sa.String(length=16), nullable=True),
    sa.Column('attributes', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['class_code'], ['bir_item_class.code'], name=op.f('fk_bir_item_class_code_bir_item_class')),
    sa.ForeignKeyConstraint(['created_change_id'], ['chm_change.id'], name=op.f('fk_bir_item_created_change_id_chm_change')),
    sa.ForeignKeyConstraint(['last_change_id'], ['chm_change.id'], name=op.f('fk_bir_item_last_change_id_chm_change')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bir_item')),
    sa.UniqueConstraint('key', name=op.f('uq_bir_item_key'))
    )
    with op.batch_alter_table('bir_item', schema=None) as batch_op:
        batch_op.create_index('ix_bir_item_asset_tag', ['asset_tag'], unique=False)
        batch_op.create_index('ix_bir_item_class_code', ['class_code', 'id'], unique=False)
        batch_op.create_index('ix_bir_item_cost_centre', ['cost_centre'], unique=False)
        batch_op.create_index('ix_bir_item_hostname', ['hostname'], unique=False)
        batch_op.create_index('ix_bir_item_location', ['location'], unique=False)
        batch_op.create_index('ix_bir_item_name', ['name', 'id'], unique=False)
        batch_op.create_index('ix_bir_item_owner', ['owner'], unique=False)
        batch_op.create_index('ix_bir_item_serial_number', ['serial_number'], unique=False)
        batch_op.create_index('ix_bir_item_status', ['status', 'id'], unique=False)

    op.create_table('chm_approval',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('change_id', sa.Integer(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('approver', sa.String(length=64), nullable=False),
    sa.Column('decision', sa.String(length=16), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('automatic', sa.Boolean(), nullable=False),
    sa.Column('at', bir.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['change_id'], ['chm_change.id'], name=op.f('fk_chm_approval_change_id_chm_change'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chm_approval'))
    )
    with op.batch_alter_table('chm_approval', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chm_approval_change_id'), ['change_id'], unique=False)

    op.create_table('chm_change_operation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('change_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('op', sa.String(length=24), nullable=False),
    sa.Column('item_key', sa.String(length=32), nullable=True),
    sa.Column('payload', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['change_id'], ['chm_change.id'], name=op.f('fk_chm_change_operation_change_id_chm_change'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chm_change_operation')),
    sa.UniqueConstraint('change_id', 'seq', name=op.f('uq_chm_change_operation_change_id'))
    )
    with op.batch_alter_table('chm_change_operation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chm_change_operation_item_key'), ['item_key'], unique=False)

    op.create_table('chm_step_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('change_id', sa.Integer(), nullable=False),
    sa.Column('at', bir.base.UTCDateTime(), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('trigger', sa.String(length=48), nullable=False),
    sa.Column('from_state', sa.String(length=48), nullable=True),
    sa.Column('to_state', sa.String(length=48), nullable=False),
    sa.Column('from_step', sa.String(length=16), nullable=True),
    sa.Column('to_step', sa.String(length=16), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['change_id'], ['chm_change.id'], name=op.f('fk_chm_step_log_change_id_chm_change'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chm_step_log'))
    )
    with op.batch_alter_table('chm_step_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chm_step_log_change_id'), ['change_id'], unique=False)

    op.create_table('bir_item_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('valid_from', bir.base.UTCDateTime(), nullable=False),
    sa.Column('valid_to', bir.base.UTCDateTime(), nullable=True),
    sa.Column('change_id', sa.Integer(), nullable=False),
    sa.Column('class_code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('owner', sa.String(length=64), nullable=True),
    sa.Column('location', sa.String(length=120), nullable=True),
    sa.Column('cost_centre', sa.String(length=64), nullable=True),
    sa.Column('serial_number', sa.String(length=64), nullable=True),
    sa.Column('asset_tag', sa.String(length=64), nullable=True),
    sa.Column('manufacturer', sa.String(length=64), nullable=True),
    sa.Column('model', sa.String(length=120), nullable=True),
    sa.Column('hostname', sa.String(length=120), nullable=True),
    sa.Column('purchase_cost', bir.base.Money(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('acquired_on', sa.Date(), nullable=True),
    sa.Column('in_service_on', sa.Date(), nullable=True),
    sa.Column('depreciation_method', sa.String(length=24), nullable=True),
    sa.Column('depreciation_months', sa.Integer(), nullable=True),
    sa.Column('residual_value', bir.base.Money(), nullable=True),
    sa.Column('supplier', sa.String(length=120), nullable=True),
    sa.Column('contract', sa.String(length=64), nullable=True),
    sa.Column('invoice', sa.String(length=64), nullable=True),
    sa.Column('warranty_end', sa.Date(), nullable=True),
    sa.Column('lease_end', sa.Date(), nullable=True),
    sa.Column('end_of_life', sa.Date(), nullable=True),
    sa.Column('recurring_cost', bir.base.Money(), nullable=True),
    sa.Column('recurring_period', sa.String(length=16), nullable=True),
    sa.Column('attributes', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['change_id'], ['chm_change.id'], name=op.f('fk_bir_item_version_change_id_chm_change')),
    sa.ForeignKeyConstraint(['class_code'], ['bir_item_class.code'], name=op.f('fk_bir_item_version_class_code_bir_item_class')),
    sa.ForeignKeyConstraint(['item_id'], ['bir_item.id'], name=op.f('fk_bir_item_version_item_id_bir_item')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bir_item_version'))
    )
    with op.batch_alter_table('bir_item_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bir_item_version_change_id'), ['change_id'], unique=False)
        batch_op.create_index('ix_bir_item_version_current', ['item_id'], unique=True, sqlite_where=sa.text('valid_to IS NULL'), postgresql_where=sa.text('valid_to IS NULL'))
        batch_op.create_index('ix_bir_item_version_item_time', ['item_id', 'valid_from'], unique=False)
        batch_op.create_index('ix_bir_item_version_period', ['valid_from', 'valid_to'], unique=False)
        batch_op.create_index('uq_bir_item_version_item_version', ['item_id', 'version'], unique=True)

    op.create_table('bir_relation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('attributes', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('valid_from', bir.base.UTCDateTime(), nullable=False),
    sa.Column('valid_to', bir.base.UTCDateTime(), nullable=True),
    sa.Column('change_id', sa.Integer(), nullable=False),
    sa.Column('ended_change_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['change_id'], ['chm_change.id'], name=op.f('fk_bir_relation_change_id_chm_change')),
    sa.ForeignKeyConstraint(['ended_change_id'], ['chm_change.id'], name=op.f('fk_bir_relation_ended_change_id_chm_change')),
    sa.ForeignKeyConstraint(['source_id'], ['bir_item.id'], name=op.f('fk_bir_relation_source_id_bir_item')),
    sa.ForeignKeyConstraint(['target_id'], ['bir_item.id'], name=op.f('fk_bir_relation_target_id_bir_item')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bir_relation'))
    )
    with op.batch_alter_table('bir_relation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bir_relation_change_id'), ['change_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bir_relation_ended_change_id'), ['ended_change_id'], unique=False)
        batch_op.create_index('ix_bir_relation_source', ['source_id', 'valid_from'], unique=False)
        batch_op.create_index('ix_bir_relation_target', ['target_id', 'valid_from'], unique=False)
        batch_op.create_index('uq_bir_relation_current', ['kind', 'source_id', 'target_id'], unique=True, sqlite_where=sa.text('valid_to IS NULL'), postgresql_where=sa.text('valid_to IS NULL'))



def downgrade() -> None:
    with op.batch_alter_table('bir_relation', schema=None) as batch_op:
        batch_op.drop_index('uq_bir_relation_current', sqlite_where=sa.text('valid_to IS NULL'), postgresql_where=sa.text('valid_to IS NULL'))
        batch_op.drop_index('ix_bir_relation_target')
        batch_op.drop_index('ix_bir_relation_source')
        batch_op.drop_index(batch_op.f('ix_bir_relation_ended_change_id'))
        batch_op.drop_index(batch_op.f('ix_bir_relation_change_id'))

    op.drop_table('bir_relation')
    with op.batch_alter_table('bir_item_version', schema=None) as batch_op:
        batch_op.drop_index('uq_bir_item_version_item_version')
        batch_op.drop_index('ix_bir_item_version_period')
        batch_op.drop_index('ix_bir_item_version_item_time')
        batch_op.drop_index('ix_bir_item_version_current', sqlite_where=sa.text('valid_to IS NULL'), postgresql_where=sa.text('valid_to IS NULL'))
        batch_op.drop_index(batch_op.f('ix_bir_item_version_change_id'))

    op.drop_table('bir_item_version')
    with op.batch_alter_table('chm_step_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chm_step_log_change_id'))

    op.drop_table('chm_step_log')
    with op.batch_alter_table('chm_change_operation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chm_change_operation_item_key'))

    op.drop_table('chm_change_operation')
    with op.batch_alter_table('chm_approval', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chm_approval_change_id'))

    op.drop_table('chm_approval')
    with op.batch_alter_table('bir_item', schema=None) as batch_op:
        batch_op.drop_index('ix_bir_item_status')
        batch_op.drop_index('ix_bir_item_serial_number')
        batch_op.drop_index('ix_bir_item_owner')
        batch_op.drop_index('ix_bir_item_name')
        batch_op.drop_index('ix_bir_item_location')
        batch_op.drop_index('ix_bir_item_hostname')
        batch_op.drop_index('ix_bir_item_cost_centre')
        batch_op.drop_index('ix_bir_item_class_code')
        batch_op.drop_index('ix_bir_item_asset_tag')

    op.drop_table('bir_item')
    with op.batch_alter_table('chm_change', schema=None) as batch_op:
        batch_op.drop_index('ix_chm_change_step')
        batch_op.drop_index(batch_op.f('ix_chm_change_definition_id'))
        batch_op.drop_index('ix_chm_change_coordinator')

    op.drop_table('chm_change')
    op.drop_table('usm_user')
    op.drop_table('key_counter')
    with op.batch_alter_table('chm_definition', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chm_definition_code'))

    op.drop_table('chm_definition')
    with op.batch_alter_table('bir_item_class', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bir_item_class_parent_code'))

    op.drop_table('bir_item_class')
