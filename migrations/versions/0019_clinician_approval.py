"""Clinical text a clinician approves: a clinician flag on staff accounts; each pre-visit
question's approved wording (what patients are sent), who approved it and when; and sign-offs
of the fixed clinical text by the hash of its content.

Questions already in use keep reaching patients: their wording becomes the approved one,
with no approver yet, so they appear on the review list until a clinician signs them. Going
back keeps only approved wording (a draft waiting for approval is dropped).

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("staff_user") as batch_op:
        batch_op.add_column(
            sa.Column("is_clinician", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("previsit_question") as batch_op:
        batch_op.add_column(sa.Column("approved_text", sa.String(500), nullable=True))
        batch_op.add_column(sa.Column("approved_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_previsit_question_approved_by_id_staff_user"),
            "staff_user",
            ["approved_by_id"],
            ["id"],
        )
    op.execute("UPDATE previsit_question SET approved_text = text")
    op.create_table(
        "clinical_sign_off",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item", sa.String(40), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("approved_by_id", sa.Integer(), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["approved_by_id"],
            ["staff_user.id"],
            name=op.f("fk_clinical_sign_off_approved_by_id_staff_user"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clinical_sign_off")),
        sa.UniqueConstraint("item", "content_hash", name=op.f("uq_clinical_sign_off_item_content_hash")),
    )


def downgrade():
    # The older service sends ``text`` as it is: it must be the approved wording (a draft
    # waiting for approval is dropped), and a question never approved stays out of use.
    op.execute(
        "UPDATE previsit_question SET text = approved_text WHERE approved_text IS NOT NULL"
    )
    op.execute("UPDATE previsit_question SET active = false WHERE approved_text IS NULL")
    op.drop_table("clinical_sign_off")
    with op.batch_alter_table("previsit_question") as batch_op:
        batch_op.drop_constraint(
            op.f("fk_previsit_question_approved_by_id_staff_user"), type_="foreignkey"
        )
        for name in ("approved_at", "approved_by_id", "approved_text"):
            batch_op.drop_column(name)
    with op.batch_alter_table("staff_user") as batch_op:
        batch_op.drop_column("is_clinician")
