"""New booking, for a patient or family member on the phone: the same day-and-time picker and
the same questions as the public form (the safety checklist included), read out by the desk.

Staff may book inside the clinic's minimum notice; the audit log records the booking as made
by that member of staff for the patient, and the patient gets the same confirmation email and
reminders as if they had booked online.
"""

from __future__ import annotations

from flask import flash, redirect, url_for

from ..web import booking_flow as steps
from ..web.booking_flow import Flow
from . import bp
from .access import staff_actor

DESK = Flow(
    staff=True,
    actor=staff_actor,
    time_endpoint="staff.new_booking",
    choose_endpoint="staff.new_booking_time",
    details_endpoint="staff.new_booking_details",
    submit_endpoint="staff.new_booking_submit",
    time_template="staff/new_booking.html",
    details_template="staff/new_booking_details.html",
)


@bp.get("/book")
def new_booking():
    return steps.time_page(DESK)


@bp.post("/book/time")
def new_booking_time():
    return steps.choose_time(DESK)


@bp.get("/book/details")
def new_booking_details():
    return steps.details(DESK)


def _show_appointment(result):
    if not result.duplicate:
        flash(
            f"Booked {result.appointment.reference}. The confirmation email is on its way to "
            f"{result.appointment.patient_email}."
        )
    return redirect(url_for(".appointment_detail", reference=result.reference))


@bp.post("/book")
def new_booking_submit():
    return steps.submit(DESK, _show_appointment)
