"""The front desk books for a caller: the same picker and questions, inside the minimum notice,
audited as booked by that member of staff, and the patient emailed as if they had booked."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa

from booking.appointments.changes import staff_rules
from booking.core.models import Appointment, AuditEvent, OutboundEmail
from booking.core.timeutil import now_utc
from booking.extensions import db
from booking.scheduling.availability import free_slots, slot_rules
from booking.web.fields import slot_value
from tests.databases import BOTH_DATABASES
from tests.factories import VALID_ANSWERS
from tests.helpers import csrf_token, offered_times

pytestmark = BOTH_DATABASES


def held_for_a_caller(staff_client, page: str, target: str, **changes) -> dict:
    """The desk holds ``target`` from the picker ``page``; the details it would then send."""
    staff_client.post("/staff/book/time", data={"csrf_token": csrf_token(page), "slot": target})
    details = staff_client.get("/staff/book/details").get_data(as_text=True)
    return dict(
        VALID_ANSWERS,
        csrf_token=csrf_token(details),
        submission_key="desk-booking-key-0000000002",
        slot=target,
        **changes,
    )


def test_the_desk_books_a_caller_inside_the_notice_and_the_patient_is_emailed(
    app, staff_client, consultant
):
    app.config["BOOKING_MIN_NOTICE"] = timedelta(hours=4)
    now = now_utc()
    public_first = next(iter(free_slots(db.session, slot_rules(app.config), now)))
    desk_first = next(iter(free_slots(db.session, staff_rules(), now)))
    assert desk_first < public_first  # staff may book inside the minimum notice

    page = staff_client.get("/staff/book?tz=Asia/Kolkata").get_data(as_text=True)
    assert "New booking for a caller" in page
    target = slot_value(desk_first)
    assert target in offered_times(page)
    response = staff_client.post(
        "/staff/book/time",
        data={"csrf_token": csrf_token(page), "slot": target, "timezone": "Asia/Kolkata"},
    )
    assert response.status_code == 303
    details = staff_client.get("/staff/book/details").get_data(as_text=True)
    assert "Held for you until" in details and 'name="red_flags"' in details

    answers = dict(
        VALID_ANSWERS,
        csrf_token=csrf_token(details),
        submission_key="desk-booking-key-0000000001",
        slot=target,
        red_flags=["fever"],
    )
    response = staff_client.post("/staff/book", data=answers)
    assert response.status_code == 302
    appointment = db.session.scalar(sa.select(Appointment))
    assert response.headers["Location"].endswith(f"/staff/appointments/{appointment.reference}")
    assert appointment.starts_at == desk_first and appointment.urgent
    assert appointment.urgent_case is not None  # the safety check works the same by phone

    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.appointment_id == appointment.id)
    )
    assert event.action == "booked_by_staff"
    assert event.staff_user_id == staff_client.user.id
    kinds = db.session.execute(
        sa.select(OutboundEmail.kind, OutboundEmail.recipient).where(
            OutboundEmail.appointment_id == appointment.id
        )
    ).all()
    assert ("confirmation", VALID_ANSWERS["patient_email"]) in [tuple(k) for k in kinds]
    shown = staff_client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Booked {appointment.reference}" in shown
    assert "booked by phone, for the patient" in shown  # the audit trail, in words


def test_the_desk_form_keeps_every_answer_when_one_is_wrong(app, staff_client, consultant):
    first = staff_client.get("/staff/book").get_data(as_text=True)
    # The second day shown: late in the clinic's evening the first has fewer than four times.
    second_day = re.findall(r"[?&]day=(\d{4}-\d\d-\d\d)", first)[1]
    page = staff_client.get(f"/staff/book?day={second_day}").get_data(as_text=True)
    target = offered_times(page)[3]
    answers = held_for_a_caller(staff_client, page, target, patient_phone="12")
    response = staff_client.post("/staff/book", data=answers)
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "country code" in text and 'value="Asha Verma"' in text
    assert db.session.scalar(sa.select(sa.func.count(Appointment.id))) == 0


def test_the_desk_is_told_the_real_reason_a_booking_is_refused(
    app, staff_client, consultant, booking_form
):
    app.config["MAX_BOOKINGS_PER_EMAIL"] = 1
    assert staff_client.post("/book", data=booking_form(slot_index=40)).status_code == 302
    page = staff_client.get("/staff/book?tz=Asia/Kolkata").get_data(as_text=True)
    answers = held_for_a_caller(staff_client, page, offered_times(page)[0])
    response = staff_client.post("/staff/book", data=answers)
    assert response.status_code == 409
    assert "This email already has 1 upcoming consults." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Appointment.id))) == 1
