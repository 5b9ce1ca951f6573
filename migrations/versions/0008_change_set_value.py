"""what a change's change set is worth, per currency, kept beside the change for the cost guards

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 13:40:00.000000

Existing changes get the value of their stored change set: the purchase costs of the items it
creates and of the costs it sets (in the currency the operation, or else the item, names).
"""
from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade() -> None:
    with op.batch_alter_table('chm_change', schema=None) as batch_op:
        batch_op.add_column(sa.Column('change_set_value', JSON, nullable=True))
    operations = sa.table('chm_change_operation', sa.column('change_id', sa.Integer),
                          sa.column('op', sa.String), sa.column('item_key', sa.String),
                          sa.column('payload', JSON))
    items = sa.table('bir_item', sa.column('key', sa.String), sa.column('currency', sa.String))
    changes = sa.table('chm_change', sa.column('id', sa.Integer),
                       sa.column('change_set_value', JSON))
    bind = op.get_bind()
    currency_of = {key: currency for key, currency in bind.execute(sa.select(items.c.key, items.c.currency))}
    values: dict[int, dict[str, Decimal]] = {}
    rows = bind.execute(sa.select(operations.c.change_id, operations.c.item_key,
                                  operations.c.payload)
                        .where(operations.c.op.in_(('create_item', 'update_item'))))
    for change_id, item_key, payload in rows:
        fields = (payload or {}).get('fields') or {}
        cost = fields.get('purchase_cost')
        currency = fields.get('currency') or currency_of.get(item_key or '')
        if cost is not None and currency:
            value = values.setdefault(change_id, {})
            value[currency] = value.get(currency, Decimal(0)) + Decimal(str(cost))
    for change_id, value in values.items():
        bind.execute(changes.update().where(changes.c.id == change_id).values(
            change_set_value={c: f'{amount:.2f}' for c, amount in value.items()}))


def downgrade() -> None:
    with op.batch_alter_table('chm_change', schema=None) as batch_op:
        batch_op.drop_column('change_set_value')
