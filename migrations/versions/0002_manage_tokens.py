"""Manage tokens in their own table; reminder emails that can be withdrawn.

Each email with a manage link now gets its own token (reminders are rendered long after the
booking, when the first token's raw value is long gone). Existing hashes move across, so links
already sent keep working. Outbox rows name their reminder and gain the status ``withdrawn``.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

OLD_STATUSES = "status IN ('pending', 'sending', 'sent', 'dead')"
NEW_STATUSES = "status IN ('pending', 'sending', 'sent', 'dead', 'withdrawn')"


def upgrade():
    op.create_table(
        "manage_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["appointment_id"], ["appointment.id"],
            name=op.f("fk_manage_token_appointment_id_appointment"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_manage_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_manage_token_token_hash")),
    )
    op.create_index(
        op.f("ix_manage_token_appointment_id"), "manage_token", ["appointment_id"], unique=False
    )
    op.execute(
        "INSERT INTO manage_token (appointment_id, token_hash, created_at) "
        "SELECT id, manage_token_hash, created_at FROM appointment"
    )
    with op.batch_alter_table("appointment") as batch_op:
        batch_op.drop_constraint(op.f("uq_appointment_manage_token_hash"), type_="unique")
        batch_op.drop_column("manage_token_hash")

    with op.batch_alter_table("outbound_email") as batch_op:
        batch_op.add_column(sa.Column("reminder_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            op.f("ix_outbound_email_reminder_id"), ["reminder_id"], unique=False
        )
        batch_op.create_foreign_key(
            op.f("fk_outbound_email_reminder_id_reminder"), "reminder",
            ["reminder_id"], ["id"], ondelete="SET NULL",
        )
        batch_op.drop_constraint(op.f("ck_outbound_email_status"), type_="check")
        batch_op.create_check_constraint("status", NEW_STATUSES)


def downgrade():
    op.execute("UPDATE outbound_email SET status = 'dead' WHERE status = 'withdrawn'")
    with op.batch_alter_table("outbound_email") as batch_op:
        batch_op.drop_constraint(op.f("ck_outbound_email_status"), type_="check")
        batch_op.create_check_constraint("status", OLD_STATUSES)
        batch_op.drop_constraint(op.f("fk_outbound_email_reminder_id_reminder"), type_="foreignkey")
        batch_op.drop_index(op.f("ix_outbound_email_reminder_id"))
        batch_op.drop_column("reminder_id")
    with op.batch_alter_table("appointment") as batch_op:
        batch_op.add_column(sa.Column("manage_token_hash", sa.String(length=64), nullable=True))
    # Links issued after the upgrade stop working; the first one of each booking is kept.
    op.execute(
        "UPDATE appointment SET manage_token_hash = (SELECT min(token_hash) FROM manage_token "
        "WHERE manage_token.appointment_id = appointment.id)"
    )
    with op.batch_alter_table("appointment") as batch_op:
        batch_op.alter_column("manage_token_hash", nullable=False)
        batch_op.create_unique_constraint(op.f("uq_appointment_manage_token_hash"), ["manage_token_hash"])
    op.drop_table("manage_token")
