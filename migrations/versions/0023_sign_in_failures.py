"""Sign-in failures by client: ``sign_in_failure`` records each wrong password or code with the
client's address and the account it named (none for an unknown email), so a client that keeps
failing is blocked without locking the account for its owner. The account's own counter and
lock (``staff_user.failed_logins``, ``locked_until``) go: anyone who knew a staff email could
lock it, again and again.

Revision ID: 0023
Revises: 0022
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "sign_in_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_user_id", sa.Integer(), nullable=True),
        sa.Column("client", sa.String(45), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_user_id"],
            ["staff_user.id"],
            name=op.f("fk_sign_in_failure_staff_user_id_staff_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_failure")),
    )
    op.create_index("ix_sign_in_failure_client_at", "sign_in_failure", ["client", "at"])
    op.create_index("ix_sign_in_failure_staff_user_at", "sign_in_failure", ["staff_user_id", "at"])
    with op.batch_alter_table("staff_user") as batch_op:
        batch_op.drop_column("locked_until")
        batch_op.drop_column("failed_logins")


def downgrade():
    with op.batch_alter_table("staff_user") as batch_op:
        batch_op.add_column(
            sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
    op.drop_index("ix_sign_in_failure_staff_user_at", table_name="sign_in_failure")
    op.drop_index("ix_sign_in_failure_client_at", table_name="sign_in_failure")
    op.drop_table("sign_in_failure")
