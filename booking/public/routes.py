"""The patient's pages: choosing a time (held while the form is filled in), the details form,
the confirmation and its calendar file."""

from __future__ import annotations

import math
import secrets
import time
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from .. import choices
from ..availability import consultants_free_at, free_slots, slot_rules
from ..bookings import (
    AlreadyBooked,
    SlotTaken,
    TooManyBookings,
    book_and_commit,
    find_by_submission,
)
from ..changes import patient_can_change
from ..extensions import csrf, db, limiter
from ..fields import MORE_ZONES, chosen_timezone, slot_value, timezone_choices
from ..holds import HoldRefused, current_hold, held_claim, hold_and_commit, holder_hash
from ..models import Appointment, SlotClaim
from ..notifications import build_ics, manage_url, safety_context, times
from ..statuses import AppointmentStatus
from ..timeutil import clinic_zone, now_utc, zone
from . import bp
from .forms import BookingForm, TimeForm, valid_submission_key
from .picker import build_picker, describe, parse_day

CONFIRMED_KEY = "confirmed_appointment"
HOLD_KEY = "hold_key"
ZONE_KEY = "booking_zone"
RECENT = timedelta(hours=1)


def booking_rate_limit() -> str:
    return current_app.config["BOOKING_RATE_LIMIT"]


def _made(response) -> bool:
    """Only what was made counts against the booking limit (a hold, a booking), not a form
    shown again with errors: many patients share one mobile network address."""
    return response.status_code in (302, 303)


def _patient_zone(tz_name: str):
    return zone(tz_name, current_app.config["CLINIC_TIMEZONE"])


def _hold_key() -> str:
    """This browser's hold key, made on its first choice of a time."""
    if not session.get(HOLD_KEY):
        session[HOLD_KEY] = secrets.token_urlsafe(24)
    return session[HOLD_KEY]


def _holder() -> str | None:
    key = session.get(HOLD_KEY)
    return holder_hash(key) if key else None


def _open_slots(now):
    """Every free time for this browser (its own hold counts as free)."""
    return free_slots(db.session, slot_rules(current_app.config), now, holder=_holder())


def _picker(slots, tz_name: str, day=None, from_day=None):
    return build_picker(slots, _patient_zone(tz_name), clinic_zone(), day, from_day)


@bp.get("/")
def home():
    return redirect(url_for(".book"))


@bp.get("/book")
def book():
    """First step: a day, then a time. Day links and the zone work without script."""
    now = now_utc()
    asked = request.args.get("tz")
    every_zone = asked == MORE_ZONES
    if every_zone:
        asked = request.args.get("shown")  # "Another time zone": the list, same times meanwhile
    tz_name = chosen_timezone(asked, current_app.config["CLINIC_TIMEZONE"])
    return _time_page(
        now,
        tz_name,
        parse_day(request.args.get("day")),
        parse_day(request.args.get("from")),
        every_zone=every_zone,
    )


def _recent_booking(now) -> Appointment | None:
    """The booking this browser made in the last hour: pressing Back after booking lands on
    the first step, which says so instead of offering to book again unawares."""
    appointment_id = session.get(CONFIRMED_KEY)
    appointment = db.session.get(Appointment, appointment_id) if appointment_id else None
    if appointment is None or appointment.status != AppointmentStatus.CONFIRMED:
        return None
    return appointment if now - appointment.created_at < RECENT else None


def _time_page(now, tz_name, day=None, from_day=None, error=None, status=200, every_zone=False):
    hold = current_hold(db.session, session.get(HOLD_KEY), now)
    recent = _recent_booking(now)
    picker = _picker(_open_slots(now), tz_name, day, from_day)
    return (
        render_template(
            "public/book_time.html",
            picker=picker,
            tz_name=tz_name,
            timezones=timezone_choices(tz_name, every=every_zone),
            error=error,
            hold=hold,
            held=describe(hold.starts_at, _patient_zone(tz_name), clinic_zone()) if hold else None,
            held_until=_until(hold, tz_name) if hold else None,
            recent=recent,
            recent_when=describe(recent.starts_at, _patient_zone(tz_name), clinic_zone())
            if recent
            else None,
        ),
        status,
    )


def _until(hold: SlotClaim, tz_name: str) -> str:
    expires_at = hold.expires_at or now_utc()  # a hold always has one
    return expires_at.astimezone(_patient_zone(tz_name)).strftime("%H:%M")


@bp.post("/book/time")
@csrf.exempt  # checked below, so that an expired form just shows the times again
@limiter.shared_limit(booking_rate_limit, scope="booking", deduct_when=_made)
def choose_time():
    """Hold the chosen time for this browser, then ask for the details."""
    now = now_utc()
    form = TimeForm()
    tz_name = chosen_timezone(form.timezone.data, current_app.config["CLINIC_TIMEZONE"])
    if not form.validate_on_submit():
        error = next(iter(form.slot.errors), "Choose a time for the consult.")
        if form.csrf_token.errors:
            error = "For your security the page timed out. Please choose the time again."
        return _time_page(now, tz_name, error=error, status=422)
    starts_at = form.slot_start()
    try:
        hold_and_commit(db.session, _hold_key(), starts_at, slot_rules(current_app.config), now)
    except HoldRefused:
        day = starts_at.astimezone(_patient_zone(tz_name)).date()
        return _time_page(
            now,
            tz_name,
            day,
            error="That time was just taken by someone else. Please choose another time.",
            status=409,
        )
    session[ZONE_KEY] = tz_name
    return redirect(url_for(".details"), code=303)


@bp.get("/book/details")
def details():
    now = now_utc()
    hold = current_hold(db.session, session.get(HOLD_KEY), now)
    if hold is None:
        flash(
            "Please choose a time first. A time is kept for you for "
            f"{current_app.config['HOLD_MINUTES']} minutes once chosen."
        )
        return redirect(url_for(".book"))
    tz_name = session.get(ZONE_KEY) or current_app.config["CLINIC_TIMEZONE"]
    form = BookingForm(formdata=None, timezone=tz_name, slot=slot_value(hold.starts_at))
    form.submission_key.data = secrets.token_urlsafe(24)
    return _details_page(form, tz_name, now)


def _details_page(
    form, tz_name, now, notice=None, status=200, picking=False, day=None, already=None
):
    """The details form with the chosen time at its top: held (with until when), or, when
    the patient asked to change it or it is no longer free, the picker inside the form, so
    that every answer typed so far travels with the next submit."""
    form.timezone.data = tz_name
    hold = current_hold(db.session, session.get(HOLD_KEY), now)
    chosen = _chosen_slot(form)
    if chosen is None or form.slot.errors:
        picking = True
    picker = None
    if picking:
        slots = _open_slots(now)
        if day is None and chosen is not None:
            day = chosen.astimezone(_patient_zone(tz_name)).date()
        picker = _picker(slots, tz_name, day)
    held = hold is not None and chosen is not None and hold.starts_at == chosen
    return (
        render_template(
            "public/book.html",
            form=form,
            notice=notice,
            picker=picker,
            timezones=timezone_choices(tz_name),
            chosen=describe(chosen, _patient_zone(tz_name), clinic_zone()) if chosen else None,
            held_until=_until(hold, tz_name) if held and hold else None,
            conditional=choices.CANCER_TYPES_WITH_NAME,
            already=already,
        ),
        status,
    )


def _chosen_slot(form) -> datetime | None:
    try:
        return datetime.fromisoformat(form.slot.data) if form.slot.data else None
    except ValueError:
        return None


def _too_many(limit):
    """Over the booking limit: the form again, every answer kept, and when to try again."""
    minutes = max(math.ceil((limit.reset_at - time.time()) / 60), 1)
    form = BookingForm()
    tz_name = chosen_timezone(form.timezone.data, current_app.config["CLINIC_TIMEZONE"])
    notice = (
        "Many bookings have come from your network in the last hour, so we cannot take "
        f"another just now. Your answers are kept: please press Book again in {minutes} "
        f"minute{'s' if minutes != 1 else ''}, or call {current_app.config['CLINIC_PHONE']} "
        f"({current_app.config['CLINIC_PHONE_HOURS']})."
    )
    body, _ = _details_page(form, tz_name, now_utc(), notice=notice)
    return Response(body, status=429, headers={"Retry-After": str(minutes * 60)})


@bp.post("/book")
@csrf.exempt  # the form checks its own token, so an expired one can keep the patient's answers
@limiter.shared_limit(booking_rate_limit, scope="booking", deduct_when=_made, on_breach=_too_many)
def book_submit():
    config = current_app.config
    now = now_utc()
    holder = _holder()
    form = BookingForm(slot_is_open=lambda moment: _slot_is_open(moment, holder, now))
    tz_name = chosen_timezone(form.timezone.data, config["CLINIC_TIMEZONE"])
    if not valid_submission_key(form.submission_key.data):
        form.submission_key.data = secrets.token_urlsafe(24)

    action = request.form.get("action", "book")
    if action in ("change_time", "show_day", "show_times"):
        # Nothing is checked: the patient is choosing another time, answers kept.
        day = parse_day(request.form.get("show_day"))
        return _details_page(form, tz_name, now, picking=True, day=day)
    if action == "hold":
        return _hold_from_details(form, tz_name, now)
    if form.leave_blank.data:
        current_app.logger.info("booking form refused: honeypot field filled")
        return _details_page(
            form,
            tz_name,
            now,
            notice="We could not accept this form. Please call the clinic to book.",
            status=400,
        )

    existing = find_by_submission(db.session, form.submission_key.data)
    if existing is not None:
        # The same form sent twice (a double click, a reload): show the booking it made.
        session[CONFIRMED_KEY] = existing.id
        return redirect(url_for(".confirmed"))

    if not form.validate_on_submit():
        same = _same_booking(form)
        if same is not None:  # the time is not free because this patient booked it
            return _already_booked(form, tz_name, now, same)
        notice = None
        if form.csrf_token.errors:
            notice = (
                "For your security this form timed out. Your answers are kept below: "
                "please check them and press Book again."
            )
        return _details_page(form, tz_name, now, notice=notice, status=422)

    try:
        request_ = form.to_request(request.remote_addr)
        request_.holder = holder
        result = book_and_commit(db.session, request_, now)
    except AlreadyBooked as error:
        return _already_booked(form, tz_name, now, error.appointment)
    except TooManyBookings:
        form.patient_email.errors = [
            f"This email already has {config['MAX_BOOKINGS_PER_EMAIL']} upcoming consults. "
            "To book another, "
            "cancel one with the link in its email, or call the clinic."
        ]
        return _details_page(form, tz_name, now, status=409)
    except SlotTaken:
        form.slot.errors = [
            "That time was just taken by someone else. Please choose another time; "
            "your other answers are kept."
        ]
        return _details_page(form, tz_name, now_utc(), status=409)

    session[CONFIRMED_KEY] = result.appointment.id
    if result.manage_token:
        session["manage_token"] = result.manage_token
    return redirect(url_for(".confirmed"))


def _same_booking(form) -> Appointment | None:
    chosen = _chosen_slot(form)
    if chosen is None or not form.slot.errors or form.patient_email.errors:
        return None
    return db.session.scalar(
        sa.select(Appointment).where(
            Appointment.patient_email == form.patient_email.data,
            Appointment.starts_at == chosen,
            Appointment.status == AppointmentStatus.CONFIRMED,
        )
    )


def _already_booked(form, tz_name, now, appointment: Appointment):
    """Back after booking, then Book again: no second booking, and a way to the first."""
    mine = session.get(CONFIRMED_KEY) == appointment.id
    form.slot.errors = []
    form.patient_email.errors = [
        f"This email already has a consult at this time ({appointment.reference}). "
        + (
            "It is shown on the confirmation page: nothing more to do."
            if mine
            else "The confirmation email has its details and a link to change it."
        )
    ]
    return _details_page(form, tz_name, now, status=409, already=appointment if mine else None)


def _slot_is_open(moment: datetime, holder: str | None, now: datetime) -> bool:
    """Only the chosen time is checked: this browser holds it, or a consultant is free."""
    if held_claim(db.session, holder, moment) is not None:
        return True
    rules = slot_rules(current_app.config)
    return bool(consultants_free_at(db.session, rules, now, moment, holder))


def _hold_from_details(form, tz_name, now):
    """A new time chosen on the details page: hold it, keep every answer."""
    chosen = _chosen_slot(form)
    if chosen is None:
        form.slot.errors = ["Choose a time for the consult."]
        return _details_page(form, tz_name, now, status=422)
    try:
        hold_and_commit(db.session, _hold_key(), chosen, slot_rules(current_app.config), now)
    except HoldRefused:
        form.slot.errors = [
            "That time was just taken by someone else. Please choose another time; "
            "your other answers are kept."
        ]
        return _details_page(form, tz_name, now, status=409)
    session[ZONE_KEY] = tz_name
    return _details_page(form, tz_name, now)


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
        can_change=patient_can_change(appointment, now_utc()),
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
