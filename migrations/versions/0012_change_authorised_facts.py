"""what a change was authorised with (risk, cost), so they cannot be raised before implementation
without a new authorisation

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-09 10:00:00.000000

Changes already past authorisation and not yet implemented (planning, realisation) were
authorised as they stand: they get their present risk, cost estimate, currency and change set value.
"""
from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')
# Money is stored as an integer number of cents (bir.base.Money).
CENTS = 100
QUANTUM = Decimal('0.01')


def upgrade() -> None:
    with op.batch_alter_table('chm_change', schema=None) as batch_op:
        batch_op.add_column(sa.Column('authorised', JSON, nullable=True))
    changes = sa.table('chm_change', sa.column('id', sa.Integer), sa.column('step', sa.String),
                       sa.column('risk', sa.String), sa.column('cost_estimate', sa.BigInteger),
                       sa.column('currency', sa.String), sa.column('change_set_value', JSON),
                       sa.column('authorised', JSON))
    bind = op.get_bind()
    rows = bind.execute(sa.select(changes.c.id, changes.c.risk, changes.c.cost_estimate,
                                  changes.c.currency, changes.c.change_set_value)
                        .where(changes.c.step.in_(('planning', 'realisation')))).all()
    for change_id, risk, cents, currency, value in rows:
        estimate = None if cents is None else str((Decimal(int(cents)) / CENTS).quantize(QUANTUM))
        bind.execute(changes.update().where(changes.c.id == change_id).values(authorised={
            'risk': risk, 'cost_estimate': estimate, 'currency': currency,
            'change_set_value': value or {}}))


def downgrade() -> None:
    with op.batch_alter_table('chm_change', schema=None) as batch_op:
        batch_op.drop_column('authorised')
