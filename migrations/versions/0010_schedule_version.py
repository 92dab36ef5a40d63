"""The schedule's version rows, one per consultant (and one for the clinic), bumped in every
transaction that changes free times; the free-time cache is keyed on them. Empty at first:
the first change writes each row.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "schedule_version",
        sa.Column("scope", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("scope", name=op.f("pk_schedule_version")),
    )


def downgrade():
    op.drop_table("schedule_version")
