"""A worker nobody can lose silently: ``worker_heartbeat`` keeps when each worker job last
ran, for the staff home page and ``/healthz``; a new message kind, ``staff_worker_late``, the
email the escalation job sends when it finds it did not run for too long.

Revision ID: 0026
Revises: 0025
"""

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
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
    "waitlist_confirm",
)


def kinds_check(kinds) -> str:
    return "kind IN ({})".format(", ".join(f"'{kind}'" for kind in kinds))


def upgrade():
    op.create_table(
        "worker_heartbeat",
        sa.Column("job", sa.String(40), nullable=False),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("job", name=op.f("pk_worker_heartbeat")),
    )
    with op.batch_alter_table("outbound_email") as batch_op:
        batch_op.drop_constraint(op.f("ck_outbound_email_kind"), type_="check")
        batch_op.create_check_constraint("kind", kinds_check((*KINDS, "staff_worker_late")))


def downgrade():
    op.execute("DELETE FROM outbound_email WHERE kind = 'staff_worker_late'")
    with op.batch_alter_table("outbound_email") as batch_op:
        batch_op.drop_constraint(op.f("ck_outbound_email_kind"), type_="check")
        batch_op.create_check_constraint("kind", kinds_check(KINDS))
    op.drop_table("worker_heartbeat")
