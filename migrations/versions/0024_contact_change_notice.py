"""A contact change cannot quietly take over a booking: ``appointment.data_held_at`` (the
data pages stay shut after staff change an email or phone, until the desk confirms the change
by phone), and a new message kind, ``contact_changed``, the notice to the replaced address.

Revision ID: 0024
Revises: 0023
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

KINDS = (
    "confirmation",
    "reminder",
    "moved",
    "cancelled",
    "staff_new_booking",
    "staff_moved",
    "staff_cancelled",
    "staff_erased",
    "urgent_escalation",
    "consultant_video",
    "consultant_video_moved",
    "consultant_video_cancelled",
    "waitlist_offer",
    "change_link",
)


def kinds_check(kinds) -> str:
    return "kind IN ({})".format(", ".join(f"'{kind}'" for kind in kinds))


def upgrade():
    with op.batch_alter_table("outbound_email") as batch_op:
        batch_op.drop_constraint(op.f("ck_outbound_email_kind"), type_="check")
        batch_op.create_check_constraint("kind", kinds_check((*KINDS, "contact_changed")))
    with op.batch_alter_table("appointment") as batch_op:
        batch_op.add_column(sa.Column("data_held_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("appointment") as batch_op:
        batch_op.drop_column("data_held_at")
    op.execute("DELETE FROM outbound_email WHERE kind = 'contact_changed'")
    with op.batch_alter_table("outbound_email") as batch_op:
        batch_op.drop_constraint(op.f("ck_outbound_email_kind"), type_="check")
        batch_op.create_check_constraint("kind", kinds_check(KINDS))
