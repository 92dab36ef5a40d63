"""The waitlist confirms who joins and forgets who leaves: an entry starts ``pending``
until the link in its confirmation is followed; ``waitlist_link`` keeps the hashes of the links
each waitlist message carries (to confirm, see and leave); ``outbound_email.waitlist_entry_id``
ties a waitlist message to its entry, so it is deleted with it; a new message kind,
``waitlist_confirm``.

Entries made before stay as they are (waiting): they joined under the old rules.

Revision ID: 0025
Revises: 0024
"""

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
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
    "contact_changed",
)
STATUSES = ("waiting", "offered", "booked", "removed")


def in_check(column, values) -> str:
    return "{} IN ({})".format(column, ", ".join(f"'{value}'" for value in values))


def upgrade():
    op.create_table(
        "waitlist_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["waitlist_entry.id"],
            name=op.f("fk_waitlist_link_entry_id_waitlist_entry"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waitlist_link")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_waitlist_link_token_hash")),
    )
    op.create_index(op.f("ix_waitlist_link_entry_id"), "waitlist_link", ["entry_id"])
    with op.batch_alter_table("waitlist_entry") as batch_op:
        batch_op.drop_constraint(op.f("ck_waitlist_entry_status"), type_="check")
        batch_op.create_check_constraint("status", in_check("status", ("pending", *STATUSES)))
    with op.batch_alter_table("outbound_email") as batch_op:
        batch_op.add_column(sa.Column("waitlist_entry_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_outbound_email_waitlist_entry_id_waitlist_entry"),
            "waitlist_entry",
            ["waitlist_entry_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_index(op.f("ix_outbound_email_waitlist_entry_id"), ["waitlist_entry_id"])
        batch_op.drop_constraint(op.f("ck_outbound_email_kind"), type_="check")
        batch_op.create_check_constraint("kind", in_check("kind", (*KINDS, "waitlist_confirm")))


def downgrade():
    op.execute("DELETE FROM outbound_email WHERE kind = 'waitlist_confirm'")
    with op.batch_alter_table("outbound_email") as batch_op:
        batch_op.drop_constraint(op.f("ck_outbound_email_kind"), type_="check")
        batch_op.create_check_constraint("kind", in_check("kind", KINDS))
        batch_op.drop_index(op.f("ix_outbound_email_waitlist_entry_id"))
        batch_op.drop_constraint(
            op.f("fk_outbound_email_waitlist_entry_id_waitlist_entry"), type_="foreignkey"
        )
        batch_op.drop_column("waitlist_entry_id")
    op.execute("DELETE FROM waitlist_entry WHERE status = 'pending'")
    with op.batch_alter_table("waitlist_entry") as batch_op:
        batch_op.drop_constraint(op.f("ck_waitlist_entry_status"), type_="check")
        batch_op.create_check_constraint("status", in_check("status", STATUSES))
    op.drop_index(op.f("ix_waitlist_link_entry_id"), table_name="waitlist_link")
    op.drop_table("waitlist_link")
