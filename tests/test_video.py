"""Every video patient has their link: made at booking, in every email, reminder and calendar
entry, kept when the consult moves, replaceable by staff (and used from then on), and never in
a cancellation."""

import re
from datetime import timedelta

import icalendar
import sqlalchemy as sa

from booking.appointments.changes import cancel_appointment, move_and_commit
from booking.core.audit import Actor
from booking.core.models import Appointment, AuditEvent
from booking.core.timeutil import now_utc
from booking.extensions import db
from booking.messages.outbox import dispatch_outbox
from booking.messages.reminders import queue_due_reminders
from tests.databases import BOTH_DATABASES
from tests.factories import csrf_for

LINK = re.compile(r"^https://meet\.jit\.si/consult-[0-9a-f]{32}$")


def plain(message) -> str:
    return message.get_body(("plain",)).get_content()


def ics_of(message) -> icalendar.Calendar:
    [attachment] = list(message.iter_attachments())
    return icalendar.Calendar.from_ical(attachment.get_content())


def sent_to(smtp, address):
    return [m for m in smtp.messages if m["To"] == address]


@BOTH_DATABASES
def test_a_video_booking_has_its_link_everywhere_until_staff_replace_it(
    app, client, staff_client, consultant, booking_form, smtp
):
    data = booking_form(consult_mode="video", slot_index=100)
    assert client.post("/book", data=data).status_code == 302
    appointment = db.session.scalar(sa.select(Appointment))
    link = appointment.video_link
    assert LINK.match(link)
    confirmed = client.get("/book/confirmed").get_data(as_text=True)
    assert f'href="{link}"' in confirmed

    dispatch_outbox(db.session)
    [confirmation] = sent_to(smtp, appointment.patient_email)
    assert link in plain(confirmation)
    assert f'href="{link}"' in confirmation.get_body(("html",)).get_content()
    event = ics_of(confirmation).walk("VEVENT")[0]
    assert str(event["location"]) == link and str(event["url"]) == link
    [for_consultant] = sent_to(smtp, consultant.email)
    assert link in plain(for_consultant)

    # Moved by staff: the same link, in the moved email, and the consultant told again.
    new_start = appointment.starts_at + timedelta(days=1)
    move_and_commit(
        db.session, appointment, new_start, now_utc(), Actor.staff(staff_client.user.id)
    )
    dispatch_outbox(db.session)
    db.session.expire_all()
    appointment = db.session.get(Appointment, appointment.id)
    assert appointment.video_link == link
    moved = sent_to(smtp, appointment.patient_email)[-1]
    assert "moved" in moved["Subject"].lower() or "new time" in moved["Subject"].lower()
    assert link in plain(moved)
    assert len(sent_to(smtp, consultant.email)) == 2

    # The 24-hour reminder carries it.
    day_before = appointment.starts_at - timedelta(hours=23)
    queue_due_reminders(db.session, day_before)
    dispatch_outbox(db.session, day_before)
    assert "reminder" in sent_to(smtp, appointment.patient_email)[-1]["Subject"].lower()
    assert link in plain(sent_to(smtp, appointment.patient_email)[-1])

    # Staff put the clinic's own room on it: refused when not a meeting address, then saved,
    # audited, and the 2-hour reminder carries the new one.
    page = f"/staff/appointments/{appointment.reference}"
    token = csrf_for(staff_client, page)
    bad = staff_client.post(f"{page}/video-link", data={"csrf_token": token, "link": "zoom me"})
    assert bad.status_code == 422 and "starting with https://" in bad.get_data(as_text=True)
    room = "https://clinic.zoom.example/j/123456789?pwd=abc"
    saved = staff_client.post(f"{page}/video-link", data={"csrf_token": token, "link": room})
    assert saved.status_code == 302
    db.session.expire_all()
    assert db.session.get(Appointment, appointment.id).video_link == room
    assert "video_link_changed" in db.session.scalars(sa.select(AuditEvent.action)).all()
    two_hours_before = new_start - timedelta(minutes=110)
    queue_due_reminders(db.session, two_hours_before)
    dispatch_outbox(db.session, two_hours_before)
    last = plain(sent_to(smtp, appointment.patient_email)[-1])
    assert room in last and link not in last
    assert room in plain(sent_to(smtp, consultant.email)[-1])

    # Cancelled: the email and the calendar entry no longer mention a link.
    appointment = db.session.get(Appointment, appointment.id)
    cancel_appointment(db.session, appointment, now_utc(), Actor.patient())
    db.session.commit()
    dispatch_outbox(db.session)
    cancelled = sent_to(smtp, appointment.patient_email)[-1]
    assert room not in cancelled.as_string()
    assert "url" not in ics_of(cancelled).walk("VEVENT")[0]
    # The consultant, who has the link, is told not to wait in the room.
    told = sent_to(smtp, consultant.email)[-1]
    assert told["Subject"].startswith("Cancelled: video consult")
    assert "is cancelled" in plain(told) and room not in plain(told)


def test_each_video_booking_has_its_own_unguessable_room(client, consultant, booking_form):
    for index in range(3):
        assert (
            client.post(
                "/book", data=booking_form(consult_mode="video", slot_index=index)
            ).status_code
            == 302
        )
    links = db.session.scalars(sa.select(Appointment.video_link)).all()
    assert len(set(links)) == 3 and all(LINK.match(link) for link in links)


def test_a_phone_booking_has_no_link(client, consultant, booking_form):
    assert client.post("/book", data=booking_form(consult_mode="phone")).status_code == 302
    assert db.session.scalar(sa.select(Appointment.video_link)) is None


def test_changing_a_phone_consult_to_video_gives_it_a_link(
    app, client, staff_client, consultant, booking_form, smtp
):
    assert client.post("/book", data=booking_form(consult_mode="phone")).status_code == 302
    appointment = db.session.scalar(sa.select(Appointment))
    page = f"/staff/appointments/{appointment.reference}"
    token = csrf_for(staff_client, page)
    response = staff_client.post(
        f"{page}/mode", data={"csrf_token": token, "consult_mode": "video"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    appointment = db.session.get(Appointment, appointment.id)
    assert appointment.consult_mode == "video" and LINK.match(appointment.video_link)
    assert "mode_changed" in db.session.scalars(sa.select(AuditEvent.action)).all()
    dispatch_outbox(db.session)
    assert appointment.video_link in plain(sent_to(smtp, consultant.email)[-1])
    assert appointment.video_link in staff_client.get(page).get_data(as_text=True)


def test_reassigning_a_video_consult_gives_the_new_consultant_the_link(
    client, staff_client, create_consultant, booking_form, smtp
):
    doctors = [create_consultant("Dr First"), create_consultant("Dr Second")]
    assert client.post("/book", data=booking_form(consult_mode="video")).status_code == 302
    appointment = db.session.scalar(sa.select(Appointment))
    dispatch_outbox(db.session)
    [other] = [doctor for doctor in doctors if doctor.id != appointment.consultant_id]
    assert sent_to(smtp, other.email) == []

    page = f"/staff/appointments/{appointment.reference}"
    response = staff_client.post(
        f"{page}/reassign",
        data={
            "csrf_token": csrf_for(staff_client, page),
            "consultant_id": other.id,
            "confirm": "yes",
        },
    )
    assert response.status_code == 302
    dispatch_outbox(db.session)
    [told] = sent_to(smtp, other.email)
    assert appointment.video_link in plain(told)
    assert appointment.reference in told["Subject"]


@BOTH_DATABASES
def test_a_move_then_a_cancel_reach_the_consultant_as_moved_then_cancelled(
    app, client, staff_client, consultant, booking_form, smtp
):
    """The consultant's notices are written when the worker sends them; each still says the
    change it was queued for, even when the next change came before the worker ran."""
    assert client.post("/book", data=booking_form(consult_mode="video")).status_code == 302
    appointment = db.session.scalar(sa.select(Appointment))
    dispatch_outbox(db.session)
    [booked] = sent_to(smtp, consultant.email)
    assert booked["Subject"].startswith(f"Video consult {appointment.reference}:")

    new_start = appointment.starts_at + timedelta(days=1)
    staff = Actor.staff(staff_client.user.id)
    move_and_commit(db.session, appointment, new_start, now_utc(), staff)
    appointment = db.session.get(Appointment, appointment.id)
    cancel_appointment(db.session, appointment, now_utc(), staff)
    db.session.commit()
    dispatch_outbox(db.session)

    moved, cancelled = sent_to(smtp, consultant.email)[1:]
    assert moved["Subject"].startswith(f"Moved: video consult {appointment.reference} to")
    assert "has moved: it is now at" in plain(moved) and appointment.video_link in plain(moved)
    assert cancelled["Subject"].startswith(f"Cancelled: video consult {appointment.reference}")
    assert appointment.video_link not in plain(cancelled)
