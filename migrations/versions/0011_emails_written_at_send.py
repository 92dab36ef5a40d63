"""A booking's confirmation and staff notice are queued unwritten and written by the worker
when it sends them: an outbox row's subject and bodies may be empty until then.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

COLUMNS = (("subject", sa.String(length=200)), ("body_text", sa.Text()), ("body_html", sa.Text()))


def upgrade():
    with op.batch_alter_table("outbound_email") as batch_op:
        for name, type_ in COLUMNS:
            batch_op.alter_column(name, existing_type=type_, nullable=True)


def downgrade():
    # Going back would drop emails that were never written: refuse while any wait.
    unwritten = op.get_bind().scalar(
        sa.text("SELECT count(*) FROM outbound_email WHERE body_text IS NULL")
    )
    if unwritten:
        raise RuntimeError(
            f"{unwritten} emails in the outbox are not written yet: run the worker until they "
            "are sent, then downgrade."
        )
    with op.batch_alter_table("outbound_email") as batch_op:
        for name, type_ in COLUMNS:
            batch_op.alter_column(name, existing_type=type_, nullable=False)
