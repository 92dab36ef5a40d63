"""The red-flag checklist's answers, urgent cases waiting for a call-back, and call-back records.

Urgent bookings that are still confirmed get an open case, so they appear on the staff home
page's urgent list; they get no escalation time, because escalation emails for bookings made
before this loop existed would all go out at once on the first worker run.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("intake") as batch_op:
        batch_op.add_column(sa.Column("red_flags", sa.Text(), nullable=True))
    op.create_table(
        "urgent_case",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.Column("next_escalation_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("escalations", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["appointment_id"], ["appointment.id"],
            name=op.f("fk_urgent_case_appointment_id_appointment"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["closed_by_id"], ["staff_user.id"], name=op.f("fk_urgent_case_closed_by_id_staff_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_urgent_case")),
        sa.UniqueConstraint("appointment_id", name=op.f("uq_urgent_case_appointment_id")),
    )
    op.create_index(
        op.f("ix_urgent_case_next_escalation_at"), "urgent_case", ["next_escalation_at"]
    )
    op.create_index("ix_urgent_case_closed_at_raised_at", "urgent_case", ["closed_at", "raised_at"])
    op.create_table(
        "call_back",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("staff_user_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=12), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('reached', 'emergency', 'no_answer')", name=op.f("ck_call_back_outcome")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["urgent_case.id"],
            name=op.f("fk_call_back_case_id_urgent_case"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["staff_user_id"], ["staff_user.id"], name=op.f("fk_call_back_staff_user_id_staff_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_back")),
    )
    op.create_index(op.f("ix_call_back_case_id"), "call_back", ["case_id"])
    op.execute(
        "INSERT INTO urgent_case (appointment_id, raised_at, escalations) "
        "SELECT id, created_at, 0 FROM appointment WHERE urgent AND status = 'confirmed'"
    )


def downgrade():
    op.drop_index(op.f("ix_call_back_case_id"), table_name="call_back")
    op.drop_table("call_back")
    op.drop_index("ix_urgent_case_closed_at_raised_at", table_name="urgent_case")
    op.drop_index(op.f("ix_urgent_case_next_escalation_at"), table_name="urgent_case")
    op.drop_table("urgent_case")
    with op.batch_alter_table("intake") as batch_op:
        batch_op.drop_column("red_flags")
