"""A meeting link on each video consult; video consults already booked and still to come get
one now (the patient is sent it with their next email).

Revision ID: 0013
Revises: 0012
"""

import os
import secrets

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("appointment") as batch_op:
        batch_op.add_column(sa.Column("video_link", sa.String(length=500), nullable=True))
    base = os.environ.get("VIDEO_BASE_URL", "https://meet.jit.si/")
    if not base.endswith("/"):
        base += "/"
    bind = op.get_bind()
    ids = bind.scalars(
        sa.text(
            "SELECT id FROM appointment WHERE consult_mode = 'video' AND status = 'confirmed'"
        )
    ).all()
    if ids:
        bind.execute(
            sa.text("UPDATE appointment SET video_link = :link WHERE id = :id"),
            [{"id": id_, "link": f"{base}consult-{secrets.token_hex(16)}"} for id_ in ids],
        )


def downgrade():
    with op.batch_alter_table("appointment") as batch_op:
        batch_op.drop_column("video_link")
