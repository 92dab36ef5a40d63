"""Messages on WhatsApp and SMS: each outbox row names its channel (email for every row
already there) and, for a text, the provider's id and what it reported; numbers whose owner
turned a channel off; webhook events already handled; a reply to a WhatsApp reminder on the
booking. A new kind: the manage link sent back on WhatsApp to "I need to change".

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

CHANNELS = "channel IN ('email', 'whatsapp', 'sms')"
OLD_KINDS = (
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
)


def kinds_check(kinds) -> str:
    return "kind IN ({})".format(", ".join(f"'{kind}'" for kind in kinds))


def upgrade():
    with op.batch_alter_table("outbound_email") as batch_op:
        batch_op.add_column(
            sa.Column("channel", sa.String(10), nullable=False, server_default="email")
        )
        batch_op.add_column(sa.Column("provider_id", sa.String(100), nullable=True))
        batch_op.add_column(sa.Column("delivery", sa.String(10), nullable=True))
        batch_op.add_column(sa.Column("delivery_error", sa.String(200), nullable=True))
        batch_op.create_unique_constraint(op.f("uq_outbound_email_provider_id"), ["provider_id"])
        batch_op.create_check_constraint("channel", CHANNELS)
        batch_op.drop_constraint(op.f("ck_outbound_email_kind"), type_="check")
        batch_op.create_check_constraint("kind", kinds_check((*OLD_KINDS, "change_link")))
    with op.batch_alter_table("appointment") as batch_op:
        batch_op.add_column(sa.Column("attendance", sa.String(10), nullable=True))
        batch_op.add_column(sa.Column("attendance_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "channel_off",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("reason", sa.String(100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(CHANNELS, name=op.f("ck_channel_off_channel")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_off")),
        sa.UniqueConstraint("phone", "channel", name=op.f("uq_channel_off_phone_channel")),
    )
    op.create_table(
        "provider_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_event")),
        sa.UniqueConstraint("key", name=op.f("uq_provider_event_key")),
    )


def downgrade():
    op.drop_table("provider_event")
    op.drop_table("channel_off")
    with op.batch_alter_table("appointment") as batch_op:
        batch_op.drop_column("attendance_at")
        batch_op.drop_column("attendance")
    # Texts have no place in the older outbox: they go, and so does the newer kind.
    op.execute("DELETE FROM outbound_email WHERE channel != 'email' OR kind = 'change_link'")
    with op.batch_alter_table("outbound_email") as batch_op:
        batch_op.drop_constraint(op.f("ck_outbound_email_kind"), type_="check")
        batch_op.create_check_constraint("kind", kinds_check(OLD_KINDS))
        batch_op.drop_constraint(op.f("ck_outbound_email_channel"), type_="check")
        batch_op.drop_constraint(op.f("uq_outbound_email_provider_id"), type_="unique")
        for name in ("delivery_error", "delivery", "provider_id", "channel"):
            batch_op.drop_column(name)
