"""The booking form's new answers (date of birth, therapy asked about, how care is paid for, a
caregiver's own contact details and the patient's agreement), the pre-consult health
questionnaire, and a therapy key on pre-visit questions.

Existing bookings keep every answer they gave; the new columns stay empty for them (pages say
"not asked"). Their insurance answer becomes a payment route where it says enough: an insured
booking is "private health insurance".

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("appointment") as batch_op:
        batch_op.add_column(sa.Column("booker_email", sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column("booker_phone", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("patient_agrees", sa.String(length=15), nullable=True))
    with op.batch_alter_table("intake") as batch_op:
        batch_op.add_column(sa.Column("payment_routes", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("state_scheme", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("tpa", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("policy_after_diagnosis", sa.String(length=10), nullable=True)
        )
        batch_op.add_column(
            sa.Column("cost_help", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("birth_date", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("therapy", sa.String(length=20), nullable=True))
    op.execute(
        "UPDATE intake SET payment_routes = 'private_insurance' WHERE has_insurance = 'yes'"
    )
    with op.batch_alter_table("previsit_question") as batch_op:
        batch_op.add_column(sa.Column("therapy", sa.String(length=20), nullable=True))
    op.create_table(
        "questionnaire",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("answers", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("follow_up", sa.String(length=40), nullable=True),
        sa.Column("follow_up_done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("follow_up_done_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("status IN ('started', 'done')", name=op.f("ck_questionnaire_status")),
        sa.ForeignKeyConstraint(
            ["appointment_id"], ["appointment.id"],
            name=op.f("fk_questionnaire_appointment_id_appointment"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["follow_up_done_by_id"], ["staff_user.id"],
            name=op.f("fk_questionnaire_follow_up_done_by_id_staff_user"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_questionnaire")),
        sa.UniqueConstraint("appointment_id", name=op.f("uq_questionnaire_appointment_id")),
    )


def downgrade():
    op.drop_table("questionnaire")
    with op.batch_alter_table("previsit_question") as batch_op:
        batch_op.drop_column("therapy")
    with op.batch_alter_table("intake") as batch_op:
        for column in (
            "therapy", "birth_date", "cost_help", "policy_after_diagnosis", "tpa",
            "state_scheme", "payment_routes",
        ):
            batch_op.drop_column(column)
    with op.batch_alter_table("appointment") as batch_op:
        for column in ("patient_agrees", "booker_phone", "booker_email"):
            batch_op.drop_column(column)
