"""Every message is written by the worker from what its row recorded: an encrypted
``context`` on each outbox row (the booking as it stood at the change, and the change's own
facts), and a CHECK that a row's kind is one the service knows.

Rows already in the outbox keep their written bodies and are sent as they are; a row that was
queued unwritten before this revision (a confirmation, a staff notice, a consultant's video
notice) has no context and is written from the booking as it stands when sent, as before.
Going back refuses while messages of other kinds wait unwritten: the older worker could not
write them.

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

# Every kind ever written to the outbox (booking/core/statuses.py MessageKind at this revision).
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
)
KIND_CHECK = "kind IN ({})".format(", ".join(f"'{kind}'" for kind in KINDS))


def upgrade():
    unknown = (
        op.get_bind()
        .execute(sa.text("SELECT DISTINCT kind FROM outbound_email WHERE NOT (" + KIND_CHECK + ")"))
        .scalars()
        .all()
    )
    if unknown:
        # Never drop or rewrite a message to make the constraint fit: say what was found.
        raise RuntimeError(
            f"outbound_email holds kinds this revision does not know: {sorted(unknown)}"
        )
    with op.batch_alter_table("outbound_email") as batch_op:
        batch_op.add_column(sa.Column("context", sa.Text(), nullable=True))
        batch_op.create_check_constraint("kind", KIND_CHECK)


# What the service before this revision could write when sending; the rest it wrote when queued.
WRITTEN_AT_SEND_BEFORE = (
    "confirmation",
    "staff_new_booking",
    "consultant_video",
    "consultant_video_moved",
    "consultant_video_cancelled",
)


def downgrade():
    # The older worker cannot write the other kinds, and their facts go with the column.
    waiting = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT count(*) FROM outbound_email WHERE body_text IS NULL"
                " AND status IN ('pending', 'sending') AND kind NOT IN ("
                + ", ".join(f"'{kind}'" for kind in WRITTEN_AT_SEND_BEFORE)
                + ")"
            )
        )
        .scalar_one()
    )
    if waiting:
        raise RuntimeError(
            f"{waiting} messages are not written yet and the older service cannot write them:"
            " let the worker send them first"
        )
    with op.batch_alter_table("outbound_email") as batch_op:
        batch_op.drop_constraint(op.f("ck_outbound_email_kind"), type_="check")
        batch_op.drop_column("context")
