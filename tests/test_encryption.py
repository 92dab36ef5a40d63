"""Free text and identifiers are unreadable in the database, and survive a key rotation."""

import sqlalchemy as sa
from cryptography.fernet import Fernet

from booking.core import crypto
from booking.core.models import Intake, OutboundEmail
from booking.extensions import db
from tests.apps import TEST_KEY
from tests.factories import VALID_ANSWERS
from tests.helpers import write_unwritten_emails

ENCRYPTED = {
    "intake": [
        "diagnosis_details",
        "treatment_details",
        "treating_hospital",
        "insurer",
        "tpa",
        "policy_holder",
        "own_questions",
    ],
}


def raw_rows(table: str, columns: list[str]):
    return db.session.execute(sa.text(f"SELECT {', '.join(columns)} FROM {table}")).all()


def test_stored_rows_do_not_contain_the_plaintext(client, consultant, booking_form):
    client.post("/book", data=booking_form())
    [row] = raw_rows("intake", ENCRYPTED["intake"])
    for column, stored in zip(ENCRYPTED["intake"], row, strict=True):
        assert stored and VALID_ANSWERS[column] not in stored, column
        assert stored.startswith("gAAAA")  # a Fernet token
    # The outbox keeps the confirmation's body, which holds the patient's own questions, once
    # the worker has written it.
    write_unwritten_emails(db.session)
    for text, html in raw_rows("outbound_email", ["body_text", "body_html"]):
        assert "Can I keep working" not in text + html
    # And through the model, everything reads back.
    intake = db.session.scalar(sa.select(Intake))
    assert intake.tpa == "Medi Assist"
    [(birth_date,)] = raw_rows("intake", ["birth_date"])
    assert birth_date.startswith("gAAAA") and "1962" not in birth_date
    assert intake.birth_date == "1962-08-15"
    assert intake.own_questions == "Can I keep working during treatment?"


def test_rotate_keys_reencrypts_every_row_with_the_new_first_key(
    app, client, consultant, booking_form
):
    for index in range(3):
        client.post("/book", data=booking_form(slot_index=index))
    write_unwritten_emails(db.session)
    before = raw_rows("intake", ["tpa"])

    new_key = Fernet.generate_key().decode()
    app.config["ENCRYPTION_KEYS"] = f"{new_key},{TEST_KEY}"
    crypto.init_app(app)
    result = app.test_cli_runner().invoke(args=["rotate-keys", "--batch-size", "2"])
    assert result.exit_code == 0, (result.output, result.exception)
    assert "Re-encrypted" in result.output
    db.session.remove()

    after = raw_rows("intake", ["tpa"])
    assert before != after
    # Only the new key is needed now: the old one can be retired.
    app.config["ENCRYPTION_KEYS"] = new_key
    crypto.init_app(app)
    db.session.remove()
    administrators = db.session.scalars(sa.select(Intake.tpa)).all()
    assert administrators == ["Medi Assist"] * 3
    bodies = db.session.scalars(sa.select(OutboundEmail.body_text)).all()
    assert len(bodies) == 6 and all("CT-" in body for body in bodies)
