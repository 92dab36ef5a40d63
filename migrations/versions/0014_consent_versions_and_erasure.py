"""The privacy notice version each consent was given against, when a consent was withdrawn,
and when a booking's personal data was erased (the row itself stays, for the statistics and
the audit trail).

Consents given before the notice had versions keep an empty version: the staff page says so.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

DATES = ("consent_health_withdrawn_at", "consent_reminders_withdrawn_at", "erased_at")


def upgrade():
    with op.batch_alter_table("appointment") as batch_op:
        batch_op.add_column(sa.Column("consent_health_version", sa.String(20), nullable=True))
        batch_op.add_column(sa.Column("consent_reminders_version", sa.String(20), nullable=True))
        for name in DATES:
            batch_op.add_column(sa.Column(name, sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_appointment_erased_at", "appointment", ["erased_at"])
    with op.batch_alter_table("waitlist_entry") as batch_op:
        batch_op.add_column(sa.Column("consent_version", sa.String(20), nullable=True))


def downgrade():
    with op.batch_alter_table("waitlist_entry") as batch_op:
        batch_op.drop_column("consent_version")
    op.drop_index("ix_appointment_erased_at", table_name="appointment")
    with op.batch_alter_table("appointment") as batch_op:
        for name in (*reversed(DATES), "consent_reminders_version", "consent_health_version"):
            batch_op.drop_column(name)
