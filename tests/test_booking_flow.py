"""A patient books through the form; one worker dispatch delivers both emails over real SMTP."""

import re
from datetime import datetime

import icalendar
import sqlalchemy as sa

from booking.appointments.changes import cancel_appointment
from booking.core.audit import Actor
from booking.core.models import Appointment, AuditEvent, Intake, OutboundEmail, Reminder
from booking.core.timeutil import now_utc
from booking.extensions import db
from booking.messages.outbox import dispatch_outbox
from tests.databases import BOTH_DATABASES

# The flows staff and patients use every day run on both databases.
pytestmark = BOTH_DATABASES

FREE_TEXT = [
    "Lesion on the left shoulder",
    "Pembrolizumab since March",
    "City Cancer Hospital",
    "POL-12345678",
    "Star Health",
    "Ravi Verma",
    "Can I keep working",
    "Melanoma",
]


def body(message) -> str:
    return message.get_body(("plain",)).get_content()


def by_recipient(messages, recipient):
    return [m for m in messages if m["To"] == recipient]


def test_home_leads_to_the_form(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/book")


def test_booking_emails_reach_the_patient_and_staff(client, consultant, booking_form, smtp):
    data = booking_form(tz="America/New_York", consult_mode="video")
    chosen = datetime.fromisoformat(data["slot"])
    response = client.post("/book", data=data)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/book/confirmed")

    report = dispatch_outbox(db.session)
    assert report.sent == 3  # the patient, the desk, and the consultant (a video consult)
    appointment = db.session.scalar(sa.select(Appointment))

    patient = by_recipient(smtp.messages, "asha.verma@example.com")
    assert len(patient) == 1
    text = body(patient[0])
    assert appointment.reference in patient[0]["Subject"]
    assert "What is the goal of treatment for me" in text  # for everyone
    assert "checkpoint inhibitors or targeted therapy for melanoma" in text  # the cancer type
    assert "High-dose interleukin-2 needs a hospital stay" in text  # the therapy asked about
    assert "combining interleukin-2 with my checkpoint inhibitor" in text  # therapy + treatment
    assert "interferon injections" not in text  # they asked about IL-2, not interferon
    assert "/questionnaire" in text
    assert "Can I keep working during treatment?" in text  # their own question
    assert "/manage/" in text
    assert "America/New_York" in text and "Asia/Kolkata" in text

    attachment = next(part for part in patient[0].iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    calendar = icalendar.Calendar.from_ical(attachment.get_content())
    event = calendar.walk("VEVENT")[0]
    assert event.decoded("dtstart") == chosen
    assert str(event["uid"]).startswith(appointment.reference)
    assert calendar["method"] == "REQUEST"
    assert int(event["sequence"]) == 0

    staff = by_recipient(smtp.messages, "reception@clinic.example")
    assert len(staff) == 1
    staff_text = staff[0].as_string()
    assert appointment.reference in staff[0]["Subject"]
    assert "URGENT" not in staff[0]["Subject"]
    assert f"/staff/appointments/{appointment.reference}" in staff_text
    for secret in FREE_TEXT:
        assert secret.lower() not in staff_text.lower(), secret

    # The consultant of a video consult gets its link with the reference and time only.
    [mine] = by_recipient(smtp.messages, consultant.email)
    mine_text = body(mine)
    assert appointment.video_link in mine_text and appointment.reference in mine["Subject"]
    for secret in [*FREE_TEXT, "Melanoma", "Asha"]:
        assert secret.lower() not in mine.as_string().lower(), secret


def test_one_transaction_writes_every_row(client, consultant, booking_form):
    client.post("/book", data=booking_form())
    appointment = db.session.scalar(sa.select(Appointment))
    assert appointment.status == "confirmed"
    assert appointment.consultant_id == consultant.id
    assert db.session.scalar(sa.select(sa.func.count(Intake.id))) == 1
    reminders = db.session.scalars(sa.select(Reminder).order_by(Reminder.offset_minutes)).all()
    assert [r.offset_minutes for r in reminders] == [120, 24 * 60]
    kinds = db.session.scalars(sa.select(OutboundEmail.kind).order_by(OutboundEmail.kind)).all()
    assert kinds == ["confirmation", "staff_new_booking"]
    audit = db.session.scalars(sa.select(AuditEvent)).all()
    assert [(event.actor, event.action) for event in audit] == [("patient", "booked")]


def test_reminders_already_past_are_skipped(client, consultant, booking_form):
    # The first free slot is 2 hours ahead (the minimum notice): the 24 h reminder is past.
    client.post("/book", data=booking_form(slot_index=0))
    statuses = dict(db.session.execute(sa.select(Reminder.offset_minutes, Reminder.status)).all())
    assert statuses[24 * 60] == "skipped"


def test_no_reminder_consent_means_no_pending_reminders(client, consultant, booking_form):
    client.post("/book", data=booking_form(slot_index=200, consent_reminders=None))
    statuses = set(db.session.scalars(sa.select(Reminder.status)))
    assert statuses == {"skipped"}


def test_confirmation_page_and_calendar_download(client, consultant, booking_form):
    data = booking_form(tz="America/New_York")
    client.post("/book", data=data)
    appointment = db.session.scalar(sa.select(Appointment))
    page = client.get("/book/confirmed").get_data(as_text=True)
    assert appointment.reference in page
    assert "at the clinic" in page  # both zones are shown
    assert "should not wait" not in page
    ics = client.get("/book/confirmed/consult.ics")
    assert ics.mimetype == "text/calendar"
    calendar = icalendar.Calendar.from_ical(ics.data)
    event = calendar.walk("VEVENT")[0]
    assert event.decoded("dtstart") == datetime.fromisoformat(data["slot"])
    # Calendars are shared with family: no link that could cancel the booking.
    assert "/manage/" not in ics.get_data(as_text=True)
    assert "+91 99 3070 9000" in str(event["description"])

    # Cancelled since (through the manage link): the file now removes the event.
    cancel_appointment(db.session, appointment, now_utc(), Actor.patient(), reason=None)
    db.session.commit()
    cancelled = icalendar.Calendar.from_ical(client.get("/book/confirmed/consult.ics").data)
    assert cancelled["method"] == "CANCEL"
    assert cancelled.walk("VEVENT")[0]["status"] == "CANCELLED"


def test_confirmation_needs_the_booking_session(client):
    assert client.get("/book/confirmed").status_code == 404
    assert client.get("/book/confirmed/consult.ics").status_code == 404


def test_second_submit_of_the_same_form_makes_one_booking(client, consultant, booking_form):
    data = booking_form()
    first = client.post("/book", data=data)
    second = client.post("/book", data=data)
    assert first.status_code == second.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(Appointment.id))) == 1
    assert db.session.scalar(sa.select(sa.func.count(OutboundEmail.id))) == 2


# A son booking for his mother, with his own contact details.
BY_HER_SON = {
    "booked_by": "caregiver",
    "booker_name": "Ravi Verma",
    "booker_relationship": "son",
    "booker_email": "ravi@example.com",
    "booker_phone": "+91 91234 56789",
    "patient_agrees": "yes",
    "relative_channel": "email",
}


def test_caregiver_booking_keeps_who_booked(client, consultant, booking_form, smtp):
    client.post("/book", data=booking_form(**BY_HER_SON))
    appointment = db.session.scalar(sa.select(Appointment))
    assert (appointment.booker_name, appointment.booker_relationship) == ("Ravi Verma", "son")
    dispatch_outbox(db.session)
    # The patient knows and agrees, so both get the messages, each spoken to in turn.
    text = body(by_recipient(smtp.messages, "asha.verma@example.com")[0])
    assert text.startswith(
        "Hello Asha Verma,\r\nYour son Ravi Verma booked a free consult for you."
    )
    [copy] = by_recipient(smtp.messages, "ravi@example.com")
    assert "is booked" in copy["Subject"] and re.search(r"/manage/[\w-]+", body(copy))
    assert body(copy).startswith("Hello Ravi Verma,\r\nYou booked a free consult for Asha Verma.")


def test_a_relative_who_gives_the_patient_s_address_gets_one_confirmation(
    client, consultant, booking_form, smtp
):
    same_address = {**BY_HER_SON, "booker_email": "Asha.Verma@example.com"}
    client.post("/book", data=booking_form(**same_address))
    dispatch_outbox(db.session)
    confirmations = [m for m in smtp.messages if "is booked" in m["Subject"]]
    assert len(confirmations) == 1


def test_slots_are_shown_in_the_patients_zone(client, consultant):
    page = client.get("/book?tz=America/New_York").get_data(as_text=True)
    assert "EST" in page or "EDT" in page
    assert "(clinic" in page
    assert (
        'value="America/New_York" selected' in page or 'selected value="America/New_York"' in page
    )
