"""Slot claims: one row per consultant and start time, for every active booking and for each
time held while a patient fills in the form, under one unique constraint.

Every booking that holds its consultant's time (any status but cancelled) gets its claim.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "slot_claim",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consultant_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=True),
        sa.Column("holder_hash", sa.String(length=64), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(appointment_id IS NULL AND holder_hash IS NOT NULL AND expires_at IS NOT NULL)"
            " OR (appointment_id IS NOT NULL AND holder_hash IS NULL AND expires_at IS NULL)",
            name=op.f("ck_slot_claim_hold_or_booking"),
        ),
        sa.ForeignKeyConstraint(
            ["appointment_id"], ["appointment.id"],
            name=op.f("fk_slot_claim_appointment_id_appointment"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["consultant_id"], ["staff_user.id"], name=op.f("fk_slot_claim_consultant_id_staff_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slot_claim")),
        sa.UniqueConstraint("appointment_id", name=op.f("uq_slot_claim_appointment_id")),
        sa.UniqueConstraint(
            "consultant_id", "starts_at", name=op.f("uq_slot_claim_consultant_id_starts_at")
        ),
    )
    op.create_index(op.f("ix_slot_claim_expires_at"), "slot_claim", ["expires_at"])
    op.create_index(op.f("ix_slot_claim_holder_hash"), "slot_claim", ["holder_hash"])
    op.execute(
        "INSERT INTO slot_claim (consultant_id, starts_at, ends_at, appointment_id, created_at)"
        " SELECT consultant_id, starts_at, ends_at, id, created_at FROM appointment"
        " WHERE status != 'cancelled'"
    )


def downgrade():
    op.drop_index(op.f("ix_slot_claim_holder_hash"), table_name="slot_claim")
    op.drop_index(op.f("ix_slot_claim_expires_at"), table_name="slot_claim")
    op.drop_table("slot_claim")
