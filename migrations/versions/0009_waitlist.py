"""The waitlist: people waiting for a time that suits, and the times offered to them.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "waitlist_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("preferred_channel", sa.String(length=10), nullable=False),
        sa.Column("language", sa.String(length=10), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("weekdays", sa.String(length=20), nullable=False),
        sa.Column("day_parts", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('waiting', 'offered', 'booked', 'removed')",
            name=op.f("ck_waitlist_entry_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waitlist_entry")),
    )
    op.create_index(op.f("ix_waitlist_entry_email"), "waitlist_entry", ["email"])
    op.create_index(
        "ix_waitlist_entry_status_created_at", "waitlist_entry", ["status", "created_at"]
    )
    op.create_table(
        "waitlist_offer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "status IN ('open', 'taken', 'expired')", name=op.f("ck_waitlist_offer_status")
        ),
        sa.ForeignKeyConstraint(
            ["appointment_id"], ["appointment.id"],
            name=op.f("fk_waitlist_offer_appointment_id_appointment"), ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["waitlist_entry.id"],
            name=op.f("fk_waitlist_offer_entry_id_waitlist_entry"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waitlist_offer")),
        sa.UniqueConstraint(
            "entry_id", "starts_at", name=op.f("uq_waitlist_offer_entry_id_starts_at")
        ),
        sa.UniqueConstraint("token_hash", name=op.f("uq_waitlist_offer_token_hash")),
    )
    op.create_index(op.f("ix_waitlist_offer_entry_id"), "waitlist_offer", ["entry_id"])
    op.create_index(op.f("ix_waitlist_offer_expires_at"), "waitlist_offer", ["expires_at"])


def downgrade():
    op.drop_index(op.f("ix_waitlist_offer_expires_at"), table_name="waitlist_offer")
    op.drop_index(op.f("ix_waitlist_offer_entry_id"), table_name="waitlist_offer")
    op.drop_table("waitlist_offer")
    op.drop_index("ix_waitlist_entry_status_created_at", table_name="waitlist_entry")
    op.drop_index(op.f("ix_waitlist_entry_email"), table_name="waitlist_entry")
    op.drop_table("waitlist_entry")
