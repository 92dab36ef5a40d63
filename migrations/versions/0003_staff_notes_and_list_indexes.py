"""Staff notes on appointments, audit detail, and indexes behind the staff list's filters.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

LIST_INDEXES = {
    "ix_appointment_status_starts_at": ["status", "starts_at"],
    "ix_appointment_consultant_starts_at": ["consultant_id", "starts_at"],
    "ix_appointment_urgent_starts_at": ["urgent", "starts_at"],
    "ix_appointment_patient_phone": ["patient_phone"],
}


def upgrade():
    op.create_table(
        "appointment_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["appointment_id"], ["appointment.id"],
            name=op.f("fk_appointment_note_appointment_id_appointment"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["staff_user.id"], name=op.f("fk_appointment_note_author_id_staff_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment_note")),
    )
    op.create_index(
        op.f("ix_appointment_note_appointment_id"), "appointment_note", ["appointment_id"]
    )
    for name, columns in LIST_INDEXES.items():
        op.create_index(name, "appointment", columns)
    op.add_column("audit_event", sa.Column("detail", sa.String(length=200), nullable=True))
    op.create_index("ix_audit_event_action_at", "audit_event", ["action", "at"])


def downgrade():
    op.drop_index("ix_audit_event_action_at", table_name="audit_event")
    with op.batch_alter_table("audit_event") as batch_op:
        batch_op.drop_column("detail")
    for name in LIST_INDEXES:
        op.drop_index(name, table_name="appointment")
    op.drop_table("appointment_note")
