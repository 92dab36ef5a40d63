"""Every message is written by the worker when it sends it: a request only inserts rows, each
message reports its own change, and what is sent is current where it can be (the question
list, a fresh manage link)."""

import re
from datetime import timedelta

import sqlalchemy as sa

from booking.appointments.changes import cancel_appointment, move_and_commit
from booking.core.audit import Actor
from booking.core.models import Appointment, OutboundEmail, PreVisitQuestion
from booking.core.timeutil import clinic_zone, format_local, now_utc
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
    text = "Bring your last scan report."
    db.session.add(PreVisitQuestion(text=text, approved_text=text, position=1, active=True))
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


@BOTH_DATABASES
def test_a_move_then_a_cancellation_each_report_their_own_change(
    app, client, consultant, booking_form, smtp
):
    """The worker is behind (the mail server was down): a move and then a cancellation are
    written later, yet each tells what happened at its moment, in order."""
    app.config["STAFF_NOTIFY_EMAILS"] = ["desk@clinic.example"]
    assert client.post("/book", data=booking_form()).status_code == 302
    appointment = db.session.scalar(sa.select(Appointment))
    first_start = appointment.starts_at
    new_start = first_start + timedelta(days=1)
    now = now_utc()
    move_and_commit(db.session, appointment, new_start, now, Actor.patient())
    appointment = db.session.scalar(sa.select(Appointment))
    cancel_appointment(
        db.session, appointment, now, Actor.staff(consultant.id), category="consultant_unavailable"
    )
    db.session.commit()

    while dispatch_outbox(db.session).claimed:
        pass
    to_patient = [m for m in smtp.messages if m["To"] == "asha.verma@example.com"]
    to_staff = [m for m in smtp.messages if m["To"] == "desk@clinic.example"]
    new_time = format_local(new_start, clinic_zone())
    assert [m["Subject"] for m in to_patient] == [
        f"Your free consult is booked: {format_local(first_start, clinic_zone())}"
        f" ({appointment.reference})",
        f"Your consult has moved to {new_time} ({appointment.reference})",
        f"Your consult {appointment.reference} is cancelled",
    ]
    # Each calendar entry carries the booking's version at its change.
    sequences = [calendar_sequence(message) for message in to_patient]
    assert sequences == [0, 1, 2]
    cancelled = to_patient[2].get_body(("plain",)).get_content()
    assert "the consultant is unavailable" in cancelled
    staff_texts = [m.get_body(("plain",)).get_content() for m in to_staff]
    assert [m["Subject"].split(" ")[0] for m in to_staff] == ["New", "Moved:", "Cancelled:"]
    first_time = format_local(first_start, clinic_zone())
    assert f"moved from {first_time} by the patient" in staff_texts[1]
    assert "cancelled by" in staff_texts[2] and consultant.name in staff_texts[2]


def calendar_sequence(message) -> int:
    [calendar] = list(message.iter_attachments())
    return int(re.search(r"SEQUENCE:(\d+)", calendar.get_content())[1])
