"""Who gets the messages about a consult: the patient, the relative who booked, or both; the
relative's own time zone and channel; and whose message each manage link was sent in.

Existing bookings: a patient who booked gets them, as before. A relative's booking goes to the
relative alone when they said the patient does not yet know or cannot decide (a message on a
shared phone must not tell the patient first), and to both otherwise. The relative's zone is
the one their booking was shown in, the only zone the service had.

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

READERS = "messages_to IN ('patient', 'relative', 'both')"


def upgrade():
    with op.batch_alter_table("appointment") as batch_op:
        batch_op.add_column(
            sa.Column("messages_to", sa.String(10), nullable=False, server_default="patient")
        )
        batch_op.add_column(sa.Column("relative_timezone", sa.String(64), nullable=True))
        batch_op.add_column(sa.Column("relative_channel", sa.String(10), nullable=True))
    op.execute(
        "UPDATE appointment SET relative_timezone = patient_timezone,"
        " messages_to = CASE WHEN patient_agrees IN ('not_yet', 'cannot_decide')"
        " THEN 'relative' ELSE 'both' END"
        " WHERE booked_by = 'caregiver' AND booker_email IS NOT NULL"
    )
    with op.batch_alter_table("appointment") as batch_op:
        batch_op.create_check_constraint("messages_to", READERS)
    with op.batch_alter_table("manage_token") as batch_op:
        batch_op.add_column(sa.Column("reader", sa.String(10), nullable=True))


def downgrade():
    with op.batch_alter_table("manage_token") as batch_op:
        batch_op.drop_column("reader")
    with op.batch_alter_table("appointment") as batch_op:
        batch_op.drop_constraint(op.f("ck_appointment_messages_to"), type_="check")
        batch_op.drop_column("relative_channel")
        batch_op.drop_column("relative_timezone")
        batch_op.drop_column("messages_to")
