"""The patient's pages: choosing a time (held while the form is filled in), the details form,
the confirmation and its calendar file. The steps themselves are in ``web/booking_flow.py``,
shared with the staff's booking for a caller."""

from __future__ import annotations

import math
import time

from flask import Response, abort, current_app, redirect, render_template, session, url_for

from ..appointments.changes import patient_can_change
from ..appointments.waitlist import OFFER_KEY, take_offer
from ..core.models import Appointment
from ..core.statuses import AppointmentStatus, Reader
from ..core.timeutil import now_utc
from ..core.tokens import issue_manage_token
from ..extensions import csrf, db, limiter
from ..intake import choices
from ..messages.channels import text_channel
from ..messages.notifications import build_ics, consult_how, safety_context, times
from ..messages.readers import reader_of, readers
from ..privacy.notice import NOTICE_VERSION, grievance_contact, video_service
from ..web import booking_flow as steps
from ..web.booking_flow import CONFIRMED_KEY, REBOOK_KEY, Flow, patient_actor
from ..web.booking_form import BookingForm
from ..web.fields import chosen_timezone
from . import bp

PATIENT = Flow(
    staff=False,
    actor=patient_actor,
    time_endpoint="public.book",
    choose_endpoint="public.choose_time",
    details_endpoint="public.details",
    submit_endpoint="public.book_submit",
    time_template="public/book_time.html",
    details_template="public/book.html",
    in_steps=True,
)


def booking_rate_limit() -> str:
    return current_app.config["BOOKING_RATE_LIMIT"]


def _made(response) -> bool:
    """Only what was made counts against the booking limit (a hold, a waitlist entry), not a
    form shown again with errors: many patients share one mobile network address."""
    return response.status_code in (302, 303)


def _booked(response) -> bool:
    """On the details form only the booking itself counts (302 to its confirmation): the
    steps on the way (303 to the next) do not, or one booking would use up six."""
    return response.status_code == 302


def over_the_limit(limit, what: str, button: str) -> tuple[str, dict[str, str]]:
    """What a form refused by the booking limit says (the answers are kept, when to press the
    button again, the clinic's phone), and the Retry-After header of the 429."""
    minutes = max(math.ceil((limit.reset_at - time.time()) / 60), 1)
    config = current_app.config
    notice = (
        f"Many {what} have come from your network in the last hour, so we cannot take "
        f"another just now. Your answers are kept: please press {button} again in {minutes} "
        f"minute{'s' if minutes != 1 else ''}, or call {config['CLINIC_PHONE']} "
        f"({config['CLINIC_PHONE_HOURS']})."
    )
    return notice, {"Retry-After": str(minutes * 60)}


def _too_many(limit):
    """Over the booking limit: the form again, every answer kept, and when to try again."""
    notice, headers = over_the_limit(limit, "bookings", "Book")
    form = BookingForm()
    tz_name = chosen_timezone(form.timezone.data, current_app.config["CLINIC_TIMEZONE"])
    body, _ = steps.render_details(PATIENT, form, tz_name, now_utc(), notice=notice)
    return Response(body, status=429, headers=headers)


@bp.get("/")
def home():
    return redirect(url_for(".book"))


@bp.get("/book")
def book():
    return steps.time_page(PATIENT)


@bp.post("/book/time")
@csrf.exempt  # checked by the form, so that an expired page just shows the times again
@limiter.shared_limit(booking_rate_limit, scope="booking", deduct_when=_made)
def choose_time():
    return steps.choose_time(PATIENT)


@bp.get("/book/details")
def details():
    return steps.details(PATIENT)


def _show_confirmation(result):
    session.pop(REBOOK_KEY, None)  # the new booking is made: the old answers are done with
    offer_id = session.pop(OFFER_KEY, None)
    if offer_id is not None and not result.duplicate:
        take_offer(db.session, offer_id, result.appointment)  # off the waitlist
        db.session.commit()
    # Only the booking's id: the session cookie is signed, not secret, so it never holds a
    # manage link (which can cancel the booking). The page's links make one when followed.
    session[CONFIRMED_KEY] = result.appointment_id
    return redirect(url_for(".confirmed"))


@bp.post("/book")
@csrf.exempt  # the form checks its own token, so an expired one can keep the patient's answers
@limiter.shared_limit(booking_rate_limit, scope="booking", deduct_when=_booked, on_breach=_too_many)
def book_submit():
    return steps.submit(PATIENT, _show_confirmation)


def _confirmed_appointment() -> Appointment:
    appointment_id = session.get(CONFIRMED_KEY)
    appointment = db.session.get(Appointment, appointment_id) if appointment_id else None
    if appointment is None or appointment.erased_at is not None:
        abort(404)
    return appointment


@bp.get("/book/confirmed")
def confirmed():
    appointment = _confirmed_appointment()
    # Whoever filled in the form reads this page: the relative, when they booked.
    reader = reader_of(appointment, Reader.RELATIVE)
    return render_template(
        "public/confirmed.html",
        appointment=appointment,
        can_change=patient_can_change(appointment, now_utc()),
        mode=choices.label(choices.CONSULT_MODES, appointment.consult_mode),
        readers=readers(appointment),
        reader=reader,
        how=consult_how(appointment, reader),
        texts={
            each.role: text_channel(db.session, each.channel, each.phone)
            for each in readers(appointment)
        },
        **safety_context(appointment, reader),
        **times(appointment, reader.timezone),
    )


@bp.get("/book/confirmed/<any(manage, questionnaire):page>")
@limiter.limit(lambda: current_app.config["MANAGE_RATE_LIMIT"])  # each click makes a link
def confirmed_link(page):
    """From the confirmation page to the booking's manage page or questionnaire: a manage link
    is made when the patient follows it, for this browser's own booking."""
    appointment = _confirmed_appointment()
    # The link of whoever booked: a change made with it is told as theirs.
    reader = reader_of(appointment, Reader.RELATIVE).role
    token = issue_manage_token(db.session, appointment, now_utc(), reader)
    db.session.commit()
    if page == "questionnaire":
        return redirect(url_for(".questionnaire", token=token))
    return redirect(url_for(".manage", token=token))


@bp.get("/book/confirmed/consult.ics")
def confirmed_ics():
    appointment = _confirmed_appointment()
    # After a cancellation (from the email's link, or by the clinic) the file says so.
    ics = build_ics(appointment, cancel=appointment.status == AppointmentStatus.CANCELLED)
    return Response(
        ics,
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="{appointment.reference}.ics"'},
    )


@bp.get("/privacy")
def privacy():
    return render_template(
        "public/privacy.html",
        version=NOTICE_VERSION,
        grievance=grievance_contact(),
        video_service=video_service(),
        audit_years=round(current_app.config["AUDIT_RETENTION_DAYS"] / 365),
    )
