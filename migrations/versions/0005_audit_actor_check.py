"""Audit events name their actor from a fixed list (staff, patient, system), like every other
stored kind; the CHECK comes from the same enum as the model's.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

ACTORS = "actor IN ('staff', 'patient', 'system')"


def upgrade():
    with op.batch_alter_table("audit_event") as batch_op:
        batch_op.create_check_constraint("actor", ACTORS)


def downgrade():
    with op.batch_alter_table("audit_event") as batch_op:
        batch_op.drop_constraint(op.f("ck_audit_event_actor"), type_="check")
