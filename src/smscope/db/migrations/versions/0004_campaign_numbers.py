"""a campaign's ad-hoc numbers in a column of their own

They were a key of ``campaigns.options``, which every reader of a campaign decoded:
with a file of a million numbers, each claim of a batch and each suspension check
decoded the whole list. The column is deferred in the model; the fan-out alone reads it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 16:00:00
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_campaigns = sa.table("campaigns", sa.column("id", sa.Integer),
                      sa.column("options", sa.JSON), sa.column("numbers", sa.JSON))


def upgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("numbers", sa.JSON(), nullable=True))
    _move(lambda options, numbers: (
        {k: v for k, v in options.items() if k != "numbers"}, options.get("numbers")))


def downgrade() -> None:
    _move(lambda options, numbers: (
        {**options, "numbers": numbers} if numbers else options, None))
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("numbers")


def _move(change):  # type: ignore[no-untyped-def]
    bind = op.get_bind()
    rows = bind.execute(sa.select(_campaigns.c.id, _campaigns.c.options,
                                  _campaigns.c.numbers)).all()
    for row in rows:
        options = row.options if isinstance(row.options, dict) else json.loads(row.options or "{}")
        if "numbers" not in options and not row.numbers:
            continue
        new_options, new_numbers = change(options, row.numbers)
        bind.execute(sa.update(_campaigns).where(_campaigns.c.id == row.id)
                     .values(options=new_options, numbers=new_numbers))
