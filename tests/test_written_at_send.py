"""A booking's confirmation and staff notice are written by the worker when it sends them: the
request only inserts rows, and what is sent tells the truth at the moment it leaves."""

import re
from datetime import timedelta

import sqlalchemy as sa

from booking.core.models import Appointment, OutboundEmail, PreVisitQuestion
from booking.core.timeutil import now_utc
from booking.extensions import db
from booking.messages.outbox import backoff, dispatch_outbox
from tests.databases import BOTH_DATABASES


def raw_outbox():
    return db.session.execute(
        sa.text("SELECT kind, subject, body_text FROM outbound_email ORDER BY id")
    ).all()


def manage_path(message) -> str:
    text = message.get_body(("plain",)).get_content()
    return re.search(r"http://[^/\s]+(/manage/[A-Za-z0-9_-]+)", text)[1]


@BOTH_DATABASES
def test_the_booking_request_writes_rows_only_and_the_worker_writes_the_emails(
    app, client, consultant, booking_form, smtp
):
    app.config["STAFF_NOTIFY_EMAILS"] = ["desk@clinic.example"]
    assert client.post("/book", data=booking_form()).status_code == 302
    assert [tuple(row) for row in raw_outbox()] == [
        ("confirmation", None, None),
        ("staff_new_booking", None, None),
    ]
    # The clinic adds a question after the booking: the confirmation, written when it is
    # sent, carries it.
    db.session.add(PreVisitQuestion(text="Bring your last scan report.", position=1, active=True))
    db.session.commit()

    assert dispatch_outbox(db.session).sent == 2
    by_recipient = {message["To"]: message for message in smtp.messages}
    patient, staff = by_recipient["asha.verma@example.com"], by_recipient["desk@clinic.example"]
    appointment = db.session.scalar(sa.select(Appointment))
    assert appointment.reference in patient["Subject"]
    assert "Bring your last scan report." in patient.get_body(("plain",)).get_content()
    assert appointment.reference in staff.get_body(("plain",)).get_content()
    assert client.get(manage_path(patient)).status_code == 200  # its own, working manage link
    # What was sent is kept in the rows, encrypted like every body.
    for kind, subject, body in raw_outbox():
        assert subject and body.startswith("gAAAA"), kind


def test_a_resend_after_a_failure_is_the_same_message(app, client, consultant, booking_form, smtp):
    app.config["STAFF_NOTIFY_EMAILS"] = []
    assert client.post("/book", data=booking_form()).status_code == 302
    smtp.stop()
    now = now_utc()
    assert dispatch_outbox(db.session, now).retried == 1
    [(_, subject, first_body)] = raw_outbox()
    assert subject  # written at the first attempt, and kept

    smtp.start()
    app.config["MAIL_PORT"] = smtp.port
    assert dispatch_outbox(db.session, now + backoff(1) + timedelta(seconds=1)).sent == 1
    [(_, _, body)] = raw_outbox()
    assert body == first_body  # not written again: the same manage link and text
    [message] = smtp.messages
    assert client.get(manage_path(message)).status_code == 200


def test_an_email_whose_booking_is_gone_is_withdrawn(app, client, consultant, booking_form, smtp):
    app.config["STAFF_NOTIFY_EMAILS"] = []
    assert client.post("/book", data=booking_form()).status_code == 302
    db.session.execute(sa.update(OutboundEmail).values(appointment_id=None))
    db.session.commit()
    report = dispatch_outbox(db.session)
    assert report.claimed == 1 and report.sent == 0 and smtp.messages == []
    assert db.session.scalar(sa.select(OutboundEmail.status)) == "withdrawn"
