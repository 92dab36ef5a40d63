"""A normalised search text on each booking, for finding callers by part of a phone number, an
email, a name or the reference (trigram-indexed on PostgreSQL). Existing bookings are filled in.

Revision ID: 0012
Revises: 0011
"""

import re
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

BATCH = 2000


def _normalise(text):
    # A copy of booking.search.normalise as it is today: a migration must not change when the
    # application does.
    decomposed = unicodedata.normalize("NFKD", (text or "").casefold())
    kept = []
    for char in decomposed:
        if unicodedata.combining(char) and kept and kept[-1].isascii():
            continue
        kept.append(char)
    return unicodedata.normalize("NFC", "".join(kept))


def _search_text(row) -> str:
    def digits(value):
        return re.sub(r"\D", "", value or "")

    parts = [
        row.reference.replace("-", ""),
        row.patient_name,
        row.patient_email,
        row.booker_name,
        row.booker_email,
    ]
    phones = [digits(phone) for phone in (row.patient_phone, row.booker_phone)]
    return " | ".join(
        [_normalise(part) for part in parts if part] + ["tel:" + " ".join(filter(None, phones))]
    )


def upgrade():
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    with op.batch_alter_table("appointment") as batch_op:
        batch_op.add_column(sa.Column("search_text", sa.Text(), nullable=False, server_default=""))
    columns = (
        "id, reference, patient_name, patient_email, patient_phone, booker_name, booker_email,"
        " booker_phone"
    )
    last = 0
    while True:
        rows = bind.execute(
            sa.text(
                f"SELECT {columns} FROM appointment WHERE id > :last ORDER BY id LIMIT {BATCH}"
            ),
            {"last": last},
        ).all()
        if not rows:
            break
        bind.execute(
            sa.text("UPDATE appointment SET search_text = :text WHERE id = :id"),
            [{"id": row.id, "text": _search_text(row)} for row in rows],
        )
        last = rows[-1].id
    if postgres:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.create_index(
            "ix_appointment_search_text",
            "appointment",
            ["search_text"],
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        )
    else:
        op.create_index("ix_appointment_search_text", "appointment", ["search_text"])


def downgrade():
    op.drop_index("ix_appointment_search_text", table_name="appointment")
    with op.batch_alter_table("appointment") as batch_op:
        batch_op.drop_column("search_text")
