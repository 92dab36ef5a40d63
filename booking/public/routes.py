"""The patient's pages: the booking form, the confirmation and its calendar file."""

from __future__ import annotations

import secrets

from flask import (
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from .. import choices
from ..availability import free_slots, slot_rules
from ..bookings import (
    SlotTaken,
    TooManyBookings,
    book_and_commit,
    find_by_submission,
)
from ..extensions import csrf, db, limiter
from ..fields import chosen_timezone, slot_choices
from ..models import Appointment
from ..notifications import build_ics, manage_url, safety_context, times
from ..statuses import AppointmentStatus
from ..timeutil import now_utc
from . import bp
from .forms import BookingForm, valid_submission_key

CONFIRMED_KEY = "confirmed_appointment"


def booking_rate_limit() -> str:
    return current_app.config["BOOKING_RATE_LIMIT"]


def _render_form(form: BookingForm, tz_name: str, slots, notice: str | None = None, status=200):
    form.slot.choices = slot_choices(slots, tz_name)
    form.timezone.data = tz_name
    return (
        render_template(
            "public/book.html",
            form=form,
            notice=notice,
            slot_count=len(slots),
            conditional=choices.CANCER_TYPES_WITH_NAME,
        ),
        status,
    )


@bp.get("/")
def home():
    return redirect(url_for(".book"))


@bp.route("/book", methods=["GET", "POST"])
@csrf.exempt  # the form checks its own token, so an expired one can keep the patient's answers
@limiter.limit(booking_rate_limit, methods=["POST"])
def book():
    config = current_app.config
    now = now_utc()
    slots = free_slots(db.session, slot_rules(config), now)
    form = BookingForm(free_slots=slots)
    tz_name = chosen_timezone(
        form.timezone.data if request.method == "POST" else request.args.get("tz"),
        config["CLINIC_TIMEZONE"],
    )

    if request.method == "GET":
        form.submission_key.data = secrets.token_urlsafe(24)
        return _render_form(form, tz_name, slots)

    if not valid_submission_key(form.submission_key.data):
        form.submission_key.data = secrets.token_urlsafe(24)
    if request.form.get("refresh"):
        # The time zone changed: show the times again in the new zone, nothing else.
        return _render_form(form, tz_name, slots)
    if form.leave_blank.data:
        current_app.logger.info("booking form refused: honeypot field filled")
        return _render_form(
            form,
            tz_name,
            slots,
            notice="We could not accept this form. Please call the clinic to book.",
            status=400,
        )

    existing = find_by_submission(db.session, form.submission_key.data)
    if existing is not None:
        # The same form sent twice (a double click, a reload): show the booking it made.
        session[CONFIRMED_KEY] = existing.id
        return redirect(url_for(".confirmed"))

    if not form.validate_on_submit():
        notice = None
        if form.csrf_token.errors:
            notice = (
                "For your security this form timed out. Your answers are kept below: "
                "please check them and press Book again."
            )
        elif request.form.get("shown_timezone") not in (None, tz_name):
            notice = "The times are now shown in your chosen time zone. Please check your choice."
        return _render_form(form, tz_name, slots, notice=notice, status=422)

    if request.form.get("shown_timezone") not in (None, tz_name):
        form.slot.errors = []
        return _render_form(
            form,
            tz_name,
            slots,
            notice="The times are now shown in your chosen time zone. Please check your choice "
            "and press Book again.",
        )

    try:
        result = book_and_commit(db.session, form.to_request(request.remote_addr), now)
    except TooManyBookings:
        form.patient_email.errors = [
            f"This email already has {config['MAX_BOOKINGS_PER_EMAIL']} upcoming consults. "
            "To book another, "
            "cancel one with the link in its email, or call the clinic."
        ]
        return _render_form(form, tz_name, slots, status=409)
    except SlotTaken:
        fresh = free_slots(db.session, slot_rules(config), now_utc())
        form.slot.errors = [
            "That time was just taken by someone else. Please choose another time; "
            "your other answers are kept."
        ]
        return _render_form(form, tz_name, fresh, status=409)

    session[CONFIRMED_KEY] = result.appointment.id
    if result.manage_token:
        session["manage_token"] = result.manage_token
    return redirect(url_for(".confirmed"))


def _confirmed_appointment() -> Appointment:
    appointment_id = session.get(CONFIRMED_KEY)
    appointment = db.session.get(Appointment, appointment_id) if appointment_id else None
    if appointment is None:
        abort(404)
    return appointment


@bp.get("/book/confirmed")
def confirmed():
    appointment = _confirmed_appointment()
    token = session.get("manage_token")
    return render_template(
        "public/confirmed.html",
        appointment=appointment,
        manage_link=manage_url(token) if token else None,
        mode=choices.label(choices.CONSULT_MODES, appointment.consult_mode),
        **safety_context(appointment),
        **times(appointment),
    )


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
