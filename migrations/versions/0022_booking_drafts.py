"""The details form in steps: ``booking_draft`` keeps a browser's answers so far, encrypted,
while it holds a time (keyed by the hash that names its hold), so Back, a reload and a change
of time lose nothing. Rows go when the booking is made or the draft expires.

Revision ID: 0022
Revises: 0021
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "booking_draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("holder_hash", sa.String(64), nullable=False),
        sa.Column("answers", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_draft")),
        sa.UniqueConstraint("holder_hash", name=op.f("uq_booking_draft_holder_hash")),
    )
    op.create_index(op.f("ix_booking_draft_expires_at"), "booking_draft", ["expires_at"])


def downgrade():
    op.drop_index(op.f("ix_booking_draft_expires_at"), table_name="booking_draft")
    op.drop_table("booking_draft")
