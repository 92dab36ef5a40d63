"""The booking flow both the patient and the front desk use: a day and a time (held for this
browser), then the details, then the booking.

A :class:`Flow` says who is booking: the patient on the public pages (the clinic's minimum
notice, a patient's audit entry, the confirmation page afterwards), or a member of staff
booking for a caller (no minimum notice, the staff member in the audit log, the appointment
page afterwards). Everything else (the picker, the hold, the questions and their rules, the
confirmation email and reminders) is the same code, so a booking by phone is asked the same
safety questions as one made online.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app, flash, redirect, render_template, request, session, url_for
from werkzeug.datastructures import MultiDict

from ..appointments.bookings import (
    AlreadyBooked,
    BookingResult,
    Checked,
    SlotTaken,
    TooManyBookings,
    book_and_commit,
    find_by_submission,
)
from ..appointments.changes import staff_rules
from ..appointments.drafts import drop_draft, load_draft, save_draft
from ..appointments.waitlist import OFFER_KEY
from ..core import audit
from ..core.audit import Actor
from ..core.models import Appointment, SlotClaim, WaitlistOffer
from ..core.statuses import AppointmentStatus
from ..core.timeutil import clinic_zone, now_utc, zone
from ..extensions import db
from ..intake import choices
from ..intake.safety import Guidance, guidance_for, is_urgent
from ..scheduling.availability import SlotRules, free_slots, slot_rules
from ..scheduling.chosen_time import consultants_free_at
from ..scheduling.holds import (
    DayCrowded,
    HoldRefused,
    current_hold,
    held_claim,
    hold_and_commit,
    hold_period,
    holder_hash,
)
from .booking_form import BookingForm, TimeForm, valid_submission_key
from .details_steps import (
    LAST,
    STEPS,
    Step,
    as_answers,
    as_formdata,
    check_rows,
    keep_only_errors_of,
    merged,
    step_number,
)
from .fields import MORE_ZONES, chosen_timezone, slot_value, timezone_choices
from .picker import build_picker, describe, parse_day
from .rebook import answers_of_booking

CONFIRMED_KEY = "confirmed_appointment"
HOLD_KEY = "hold_key"
ZONE_KEY = "booking_zone"
STEP_KEY = "details_step"  # the step of the details last shown (a number: nothing personal)
# A cancelled booking whose answers the details form starts with (from the cancellation email).
REBOOK_KEY = "rebook_from"
RECENT = timedelta(hours=1)
TAKEN = (
    "That time was just taken by someone else. Please choose another time; "
    "your other answers are kept."
)


def patient_actor() -> Actor:
    """A patient or their family, on the public pages, from this request's address."""
    return Actor.patient(request.remote_addr)


@dataclass(frozen=True)
class Flow:
    """Who is booking, and where their pages are. The front door that owns the pages says who
    acts (``actor``), so these steps never reach into the staff or public package."""

    staff: bool
    actor: Callable[[], Actor]
    time_endpoint: str  # GET: days and times
    choose_endpoint: str  # POST: hold the chosen time
    details_endpoint: str  # GET: the details form
    submit_endpoint: str  # POST: the details form
    time_template: str
    details_template: str
    # The details form in short steps (the patient's phone), or on one page (the front desk).
    in_steps: bool = False

    def rules(self) -> SlotRules:
        return staff_rules() if self.staff else slot_rules(current_app.config)

    def default_zone(self) -> str:
        return current_app.config["CLINIC_TIMEZONE"]


def reader_zone(tz_name: str):
    """The zone a reader's times are shown in: the one named, or the clinic's."""
    return zone(tz_name, current_app.config["CLINIC_TIMEZONE"])


def _hold_key() -> str:
    """This browser's hold key, made on its first choice of a time."""
    if not session.get(HOLD_KEY):
        session[HOLD_KEY] = secrets.token_urlsafe(24)
    return session[HOLD_KEY]


def _holder() -> str | None:
    key = session.get(HOLD_KEY)
    return holder_hash(key) if key else None


def _open_slots(flow: Flow, now: datetime):
    """Every free time for this browser (its own hold counts as free)."""
    return free_slots(db.session, flow.rules(), now, holder=_holder())


def _picker(slots, tz_name: str, day=None, from_day=None):
    return build_picker(slots, reader_zone(tz_name), clinic_zone(), day, from_day)


def _until(hold: SlotClaim, tz_name: str) -> str:
    expires_at = hold.expires_at or now_utc()  # a hold always has one
    return expires_at.astimezone(reader_zone(tz_name)).strftime("%H:%M")


def recent_booking(now: datetime) -> Appointment | None:
    """The booking this browser made in the last hour: pressing Back after booking lands on
    the first step, which says so instead of offering to book again unawares."""
    appointment_id = session.get(CONFIRMED_KEY)
    appointment = db.session.get(Appointment, appointment_id) if appointment_id else None
    if appointment is None or appointment.status != AppointmentStatus.CONFIRMED:
        return None
    return appointment if now - appointment.created_at < RECENT else None


def time_page(flow: Flow):
    """First step: a day, then a time. Day links and the zone work without script."""
    asked = request.args.get("tz")
    every_zone = asked == MORE_ZONES
    if every_zone:
        asked = request.args.get("shown")  # "Another time zone": the list, same times meanwhile
    tz_name = chosen_timezone(asked, flow.default_zone())
    return render_time_page(
        flow,
        now_utc(),
        tz_name,
        parse_day(request.args.get("day")),
        parse_day(request.args.get("from")),
        every_zone=every_zone,
    )


def render_time_page(
    flow, now, tz_name, day=None, from_day=None, error=None, status=200, every_zone=False
):
    hold = current_hold(db.session, session.get(HOLD_KEY), now)
    recent = None if flow.staff else recent_booking(now)
    picker = _picker(_open_slots(flow, now), tz_name, day, from_day)
    return (
        render_template(
            flow.time_template,
            flow=flow,
            picker=picker,
            tz_name=tz_name,
            timezones=timezone_choices(tz_name, every=every_zone),
            error=error,
            hold=hold,
            held=describe(hold.starts_at, reader_zone(tz_name), clinic_zone()) if hold else None,
            held_until=_until(hold, tz_name) if hold else None,
            recent=recent,
            recent_when=describe(recent.starts_at, reader_zone(tz_name), clinic_zone())
            if recent
            else None,
        ),
        status,
    )


def choose_time(flow: Flow):
    """Hold the chosen time for this browser, then ask for the details."""
    now = now_utc()
    form = TimeForm()
    tz_name = chosen_timezone(form.timezone.data, flow.default_zone())
    if not form.validate_on_submit():
        error = next(iter(form.slot.errors), "Choose a time for the consult.")
        if form.csrf_token.errors:
            error = "For your security the page timed out. Please choose the time again."
        return render_time_page(flow, now, tz_name, error=error, status=422)
    starts_at = form.slot_start()
    try:
        hold_and_commit(
            db.session, _hold_key(), starts_at, flow.rules(), now, ceiling=not flow.staff
        )
    except HoldRefused as refused:
        day = starts_at.astimezone(reader_zone(tz_name)).date()
        error = _not_held(refused, day)
        return render_time_page(flow, now, tz_name, day, error=error, status=409)
    session[ZONE_KEY] = tz_name
    return redirect(url_for(flow.details_endpoint), code=303)


def details(flow: Flow):
    now = now_utc()
    hold = current_hold(db.session, session.get(HOLD_KEY), now)
    if hold is None:
        flash(
            "Please choose a time first. A time is kept for you for "
            f"{current_app.config['HOLD_MINUTES']} minutes once chosen."
        )
        return redirect(url_for(flow.time_endpoint))
    tz_name = session.get(ZONE_KEY) or flow.default_zone()
    if flow.in_steps:
        return _show_step(flow, hold, tz_name, now)
    form = BookingForm(
        formdata=None, timezone=tz_name, slot=slot_value(hold.starts_at), **_prefilled()
    )
    form.submission_key.data = secrets.token_urlsafe(24)
    return render_details(flow, form, tz_name, now)


def _show_step(flow: Flow, hold: SlotClaim, tz_name: str, now: datetime):
    """One step of the details, with the answers kept so far (before any: a cancelled
    booking's, or a waitlist entry's), at the time now held."""
    answers = load_draft(db.session, _holder(), now)
    if answers is None:
        # Nothing kept until the first step is sent: a prefilled answer is read afresh until
        # then (from a booking whose data may be deleted meanwhile).
        answers = as_answers(_prefilled())
        answers["submission_key"] = [secrets.token_urlsafe(24)]
    step = STEPS[step_number(request.args.get("step", session.get(STEP_KEY))) - 1]
    session[STEP_KEY] = step.number
    form = BookingForm(
        formdata=as_formdata(answers or {}, timezone=tz_name, slot=slot_value(hold.starts_at))
    )
    return render_details(
        flow, form, tz_name, now, step=step, check=bool(request.args.get("check"))
    )


def _prefilled() -> dict:
    """Answers the details form starts with: those of a cancelled booking the patient is
    choosing a new time for, or what a waitlist offer's person gave; else nothing."""
    rebook_id = session.get(REBOOK_KEY)
    earlier = db.session.get(Appointment, rebook_id) if rebook_id else None
    if earlier is not None:
        return answers_of_booking(earlier)
    return _from_waitlist()


def _from_waitlist() -> dict:
    """Someone booking through a waitlist offer already gave their name and contact details:
    the form starts with them (they can change them, or book for someone else)."""
    offer_id = session.get(OFFER_KEY)
    offer = db.session.get(WaitlistOffer, offer_id) if offer_id else None
    if offer is None:
        return {}
    entry = offer.entry
    return {
        "patient_name": entry.name,
        "patient_email": entry.email,
        "patient_phone": entry.phone,
        "preferred_channel": entry.preferred_channel,
    }


def render_details(
    flow,
    form,
    tz_name,
    now,
    notice=None,
    status=200,
    picking=False,
    day=None,
    already=None,
    step: Step | None = None,
    check: bool = False,
):
    """The details form with the chosen time at its top: held (with until when), or, when
    the patient asked to change it or it is no longer free, the picker inside the form, so
    that every answer typed so far travels with the next submit. With ``step``, only that
    step's questions (the last one with the check of every answer); ``check``: the step was
    opened from the check, and goes back to it."""
    form.timezone.data = tz_name
    hold = current_hold(db.session, session.get(HOLD_KEY), now)
    chosen = chosen_slot(form)
    if (chosen is None or form.slot.errors) and step is None:
        picking = True
    picker = None
    if picking:
        if day is None and chosen is not None:
            day = chosen.astimezone(reader_zone(tz_name)).date()
        picker = _picker(_open_slots(flow, now), tz_name, day)
    held = hold is not None and chosen is not None and hold.starts_at == chosen
    return (
        render_template(
            flow.details_template,
            flow=flow,
            form=form,
            form_action=url_for(flow.submit_endpoint),
            notice=notice,
            picker=picker,
            timezones=timezone_choices(tz_name),
            chosen=describe(chosen, reader_zone(tz_name), clinic_zone()) if chosen else None,
            held_until=_until(hold, tz_name) if held and hold else None,
            conditional=choices.CANCER_TYPES_WITH_NAME,
            already=already,
            step=step,
            steps=len(STEPS),
            sections=step.sections if step else None,
            check=check,
            check_rows=check_rows(form) if step and step.number == LAST else None,
            guidance=_guidance_so_far(form) if step and step.number > 2 else None,
        ),
        status,
    )


def _guidance_so_far(form) -> Guidance | None:
    """After the safety check, what its answers call for stays at the top of every later
    step, so that a family without script (or who scrolled past it) sees it at once."""
    ticked = [code for code in form.red_flags.data or [] if code != choices.NO_RED_FLAGS]
    return guidance_for(ticked, True) if is_urgent(ticked) else None


def chosen_slot(form) -> datetime | None:
    try:
        return datetime.fromisoformat(form.slot.data) if form.slot.data else None
    except ValueError:
        return None


def submit(flow: Flow, on_booked):
    """The details form sent: a change of time (answers kept), or the booking itself.
    ``on_booked(result)`` answers once the booking is made (or found again)."""
    if flow.in_steps and "step" in request.form:
        return _submit_step(flow, on_booked)
    return _submit_whole(flow, on_booked)


def _submit_whole(flow: Flow, on_booked, formdata: MultiDict | None = None, step=None):
    """Every answer checked, then the booking: the one-page form, or the last step with the
    answers kept from the others (``formdata``). An error on an earlier step shows that step
    (``step`` is the last one's, which shows its own)."""
    config = current_app.config
    now = now_utc()
    holder = _holder()
    # What the form's check found at the chosen time, handed to the booking, which then need
    # not look again.
    checked: dict[datetime, Checked] = {}
    # Without ``formdata``, the request's own fields (FlaskForm reads them when none is given).
    sent = {"formdata": formdata} if formdata is not None else {}
    form = BookingForm(
        slot_is_open=lambda moment: _slot_is_open(flow, moment, holder, now, checked), **sent
    )
    tz_name = chosen_timezone(form.timezone.data, flow.default_zone())
    if not valid_submission_key(form.submission_key.data):
        form.submission_key.data = secrets.token_urlsafe(24)

    def again(status=200, notice=None, at=now):
        return render_details(
            flow,
            form,
            tz_name,
            at,
            notice=notice,
            status=status,
            step=_step_with_errors(form, step),
        )

    # A day button in the picker sends only ``show_day``: without this it would book.
    action = request.form.get("action") or ("show_day" if "show_day" in request.form else "book")
    if action in ("change_time", "show_day", "show_times"):
        # Nothing is checked: the patient is choosing another time, answers kept.
        day = parse_day(request.form.get("show_day"))
        return render_details(flow, form, tz_name, now, picking=True, day=day)
    if action == "hold":
        return _hold_from_details(flow, form, tz_name, now)
    if form.leave_blank.data:
        current_app.logger.info("booking form refused: honeypot field filled")
        refused = "We could not accept this form. Please call the clinic to book."
        return again(notice=refused, status=400)

    if not form.validate_on_submit():
        existing = find_by_submission(db.session, form.submission_key.data)
        if existing is not None:
            # The same form sent twice (a reload): its time is no longer free because it was
            # booked by this very form, so show that booking. (A form that still passes the
            # checks is recognised by book_and_commit.)
            return on_booked(BookingResult.found(db.session, existing))
        same = _same_booking(form)
        if same is not None:  # the time is not free because this patient booked it
            return _already_booked(flow, form, tz_name, now, same, step)
        expired = (
            "For your security this form timed out. Your answers are kept below: "
            "please check them and press Book again."
        )
        notice = expired if form.csrf_token.errors else None
        return again(notice=notice, status=422)

    try:
        booking = form.to_request(request.remote_addr)
        booking.holder = holder
        result = book_and_commit(
            db.session, booking, now, flow.rules(), flow.actor(), checked.get(booking.starts_at)
        )
    except AlreadyBooked as error:
        return _already_booked(flow, form, tz_name, now, error.appointment, step)
    except TooManyBookings as error:
        if flow.staff:  # the desk is told the real reason
            form.patient_email.errors = [
                f"This email already has {error.count} upcoming consults. To book another, "
                "cancel one first."
            ]
        else:
            _record_refusal(flow, error)
            form.patient_email.errors = [_not_booked_for_this_email(config)]
        return again(status=409)
    except SlotTaken:
        form.slot.errors = [TAKEN]
        return again(status=409, at=now_utc())
    if step is not None:  # booked: the answers kept on the way are done with
        drop_draft(db.session, holder)
        db.session.commit()
    return on_booked(result)


def _step_with_errors(form, last: Step | None) -> Step | None:
    """Which step to show the answers again on: the first with an error (only its errors
    shown), else ``last``; None for the one-page form."""
    if last is None:
        return None
    for step in STEPS:
        if any(form[name].errors for name in step.fields):
            keep_only_errors_of(form, step)
            return step
    return last


def _submit_step(flow: Flow, on_booked):
    """One step sent: keep its answers with the others, then Continue (this step checked),
    Back, a change of time, or, on the last step, the booking with every answer."""
    now = now_utc()
    holder = _holder()
    step = STEPS[step_number(request.form.get("step")) - 1]
    action = request.form.get("action") or "next"
    hold = current_hold(db.session, session.get(HOLD_KEY), now)
    answers = merged(load_draft(db.session, holder, now) or {}, request.form, step)
    if holder:
        # Kept while the time is held; without a hold, long enough to choose a time again.
        until = hold.expires_at if hold and hold.expires_at else now + hold_period()
        save_draft(db.session, holder, answers, now, until)
        db.session.commit()
    back_to_check = bool(request.form.get("check"))
    if hold is None:
        flash(
            "The time you chose was no longer kept for you. Please choose a time again: "
            "your answers are kept."
        )
        return redirect(url_for(flow.time_endpoint), code=303)
    if action == "back":
        return redirect(url_for(flow.details_endpoint, step=max(step.number - 1, 1)), code=303)
    if action == "change_time":
        return redirect(url_for(flow.time_endpoint), code=303)
    # The time is the one held now (a page from before a change of time may name another).
    formdata = as_formdata(
        answers,
        csrf_token=request.form.get("csrf_token", ""),
        slot=slot_value(hold.starts_at),
        timezone=session.get(ZONE_KEY) or flow.default_zone(),
    )
    if action == "book" and step.number == LAST:
        return _submit_whole(flow, on_booked, formdata, step)

    form = BookingForm(
        formdata=formdata,
        slot_is_open=lambda moment: _slot_is_open(flow, moment, holder, now, {}),
    )
    tz_name = chosen_timezone(form.timezone.data, flow.default_zone())
    form.validate_on_submit()
    if not keep_only_errors_of(form, step):
        notice = None
        if form.csrf_token.errors:
            notice = (
                "For your security this page timed out. Your answers are kept: please press "
                "Continue again."
            )
        return render_details(
            flow, form, tz_name, now, notice=notice, status=422, step=step, check=back_to_check
        )
    following = LAST if back_to_check else min(step.number + 1, LAST)
    session[STEP_KEY] = following
    return redirect(url_for(flow.details_endpoint, step=following), code=303)


def _same_booking(form) -> Appointment | None:
    chosen = chosen_slot(form)
    if chosen is None or not form.slot.errors or form.patient_email.errors:
        return None
    return db.session.scalar(
        sa.select(Appointment).where(
            Appointment.patient_email == form.patient_email.data,
            Appointment.starts_at == chosen,
            Appointment.status == AppointmentStatus.CONFIRMED,
        )
    )


def _not_booked_for_this_email(config) -> str:
    """A refusal that does not confirm that an email belongs to a patient of a cancer clinic:
    anyone can type anyone's address into the form."""
    return (
        "We could not book this time for this email. If you have booked before, the "
        "confirmation email has a link to see and change that booking; otherwise please call "
        f"the clinic on {config['CLINIC_PHONE']} ({config['CLINIC_PHONE_HOURS']})."
    )


def _record_refusal(flow: Flow, error: TooManyBookings) -> None:
    """Online, the page says nothing a stranger could learn from; the real reason goes on the
    latest booking's trail, where staff see it."""
    db.session.rollback()
    audit.record(
        db.session,
        "booking_refused",
        now_utc(),
        flow.actor(),
        appointment=db.session.get(Appointment, error.latest_id),
        detail=f"{error.count} upcoming consults",
    )
    db.session.commit()


def _already_booked(flow, form, tz_name, now, appointment: Appointment, step=None):
    """Back after booking, then Book again: no second booking, and a way to the first. Only
    the browser that booked it (or staff) is told that a booking exists."""
    mine = flow.staff or session.get(CONFIRMED_KEY) == appointment.id
    form.slot.errors = []
    form.patient_email.errors = [
        f"This email already has a consult at this time ({appointment.reference}). "
        "It is shown on the confirmation page: nothing more to do."
        if mine
        else _not_booked_for_this_email(current_app.config)
    ]
    already = appointment if mine else None
    return render_details(
        flow, form, tz_name, now, status=409, already=already, step=_step_with_errors(form, step)
    )


def _slot_is_open(
    flow: Flow, moment: datetime, holder: str | None, now: datetime, checked: dict
) -> bool:
    """Only the chosen time is checked: this browser holds it, or a consultant is free (what
    was found is kept in ``checked``)."""
    hold = held_claim(db.session, holder, moment)
    if hold is not None:
        checked[moment] = Checked(hold=(hold.id, hold.consultant_id))
        return True
    free = consultants_free_at(db.session, flow.rules(), now, moment, holder)
    checked[moment] = Checked(free=free)
    return bool(free)


def _not_held(refused: HoldRefused, day) -> str:
    """Why a time could not be kept: taken meanwhile, or too many held on that day."""
    if not isinstance(refused, DayCrowded):
        return TAKEN
    config = current_app.config
    return (
        f"Many people are choosing times on {day.strftime('%A')} {day.day} {day:%B} just now, "
        "so we cannot keep one more for you on that day. Please choose a time on another "
        f"day, or call {config['CLINIC_PHONE']} ({config['CLINIC_PHONE_HOURS']})."
    )


def _hold_from_details(flow, form, tz_name, now):
    """A new time chosen on the details page: hold it, keep every answer."""
    chosen = chosen_slot(form)
    if chosen is None:
        form.slot.errors = ["Choose a time for the consult."]
        return render_details(flow, form, tz_name, now, status=422)
    try:
        hold_and_commit(db.session, _hold_key(), chosen, flow.rules(), now, ceiling=not flow.staff)
    except HoldRefused as refused:
        form.slot.errors = [_not_held(refused, chosen.astimezone(reader_zone(tz_name)).date())]
        return render_details(flow, form, tz_name, now, status=409)
    session[ZONE_KEY] = tz_name
    return render_details(flow, form, tz_name, now)
