"""Whose card or policy pays: ``intake.card_holder`` (the patient's own, a husband's or wife's,
a parent's, a son's or daughter's, another family member's, or not sure), asked for CGHS, ECHS,
ESIC, PM-JAY and the other schemes that cover a holder's family, as well as for insurance.

Bookings made before keep it empty: the staff pages show it as not asked.

Revision ID: 0021
Revises: 0020
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("intake") as batch_op:
        batch_op.add_column(sa.Column("card_holder", sa.String(20), nullable=True))


def downgrade():
    with op.batch_alter_table("intake") as batch_op:
        batch_op.drop_column("card_holder")
