"""Two-factor sign-in for staff (TOTP), its single-use recovery codes, and the forced change of
a temporary password.

Existing accounts have no second factor yet: each sets one up at its next sign-in.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("staff_user") as batch_op:
        batch_op.add_column(sa.Column("totp_secret", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("totp_confirmed_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
    op.create_table(
        "recovery_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["staff_user_id"], ["staff_user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code_hash"),
    )
    op.create_index("ix_recovery_code_staff_user_id", "recovery_code", ["staff_user_id"])


def downgrade():
    op.drop_index("ix_recovery_code_staff_user_id", table_name="recovery_code")
    op.drop_table("recovery_code")
    with op.batch_alter_table("staff_user") as batch_op:
        for name in ("must_change_password", "totp_last_step", "totp_confirmed_at", "totp_secret"):
            batch_op.drop_column(name)
