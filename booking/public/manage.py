"""The manage link: a patient sees their booking and can cancel or move it before the cut-off.

The page shows the least personal data needed: reference, time and how the consult happens;
never the diagnosis, treatment or insurance. Unknown and used-up links get a friendly 404.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app, flash, redirect, render_template, request, session, url_for

from ..appointments.changes import (
    ChangeRefused,
    cancel_appointment,
    change_deadline,
    patient_can_change,
)
from ..core import audit
from ..core.audit import Actor
from ..core.models import Appointment
from ..core.statuses import AppointmentStatus
from ..core.timeutil import format_local, now_utc, zone
from ..core.tokens import find_by_token, reader_of_token
from ..extensions import csrf, db, limiter
from ..intake import choices
from ..intake.health_questionnaire import state as questionnaire_state
from ..messages.channels import STOPPED_ON_PAGE, text_channel, turn_off
from ..messages.notifications import times
from ..messages.readers import reader_of
from ..scheduling.availability import slot_rules
from ..web.booking_flow import REBOOK_KEY
from ..web.booking_form import CancelForm, StopTextsForm
from ..web.moving import MoveDoor, move_page
from . import bp


def manage_rate_limit() -> str:
    return current_app.config["MANAGE_RATE_LIMIT"]


def _gone(title: str, message: str, token: str | None = None, discreet: bool = False):
    """Why the link cannot change a booking; with ``token``, the data it still holds can be
    seen, downloaded or deleted from here (not from a discreet reader's link)."""
    return (
        render_template(
            "public/manage_gone.html",
            title=title,
            message=message,
            token=None if discreet else token,
            discreet=discreet,
        ),
        _status_of_a_link_that_worked(),
    )


def _status_of_a_link_that_worked() -> int:
    """A link to a booking that was cancelled, took place or was deleted is not broken: its
    page answers 200 (a request to change it, 409). 404 is for links that never existed."""
    return 409 if request.method == "POST" else 200


def is_discreet(appointment: Appointment, token: str) -> bool:
    """Whether this link was sent to a patient who may not yet know their diagnosis (the
    relative who booked said "not yet" or "cannot decide")."""
    return reader_of(appointment, reader_of_token(db.session, token)).discreet


def ask_the_clinic(appointment: Appointment, held: bool = False):
    """What a discreet reader's link shows instead of a page of health answers (the data
    page, the questionnaire, a form filled in with the answers): the clinic's phone. The
    patient can still see, correct or delete everything, through a person who checks it is
    them, and who can talk it through."""
    return render_template(
        "public/ask_the_clinic.html", appointment=appointment, discreet=True, held=held
    )


def gone_page(appointment: Appointment | None):
    """The page for a link that finds no booking (404), or a booking whose data is erased."""
    status = _status_of_a_link_that_worked()
    if appointment is None or appointment.erased_at is None:
        status = 404
        title = "This link does not work"
        message = (
            "It may be mistyped or incomplete. Please use the link in your most recent email, "
            "or call the clinic."
        )
    else:
        zone_ = zone(appointment.patient_timezone, current_app.config["CLINIC_TIMEZONE"])
        title = "Your data is deleted"
        message = (
            f"The personal data of booking {appointment.reference} was deleted on "
            f"{format_local(appointment.erased_at, zone_)}. We keep only its reference, time and "
            "status."
        )
    return render_template("public/manage_gone.html", title=title, message=message), status


def _load(token: str, now: datetime):
    """The booking behind a token, or the friendly page that explains why there is none."""
    appointment = find_by_token(db.session, token)
    if appointment is None or appointment.erased_at is not None:
        return None, gone_page(appointment)
    if appointment.status == AppointmentStatus.CANCELLED:
        return None, _gone(
            "This booking is cancelled",
            f"The consult {appointment.reference} was cancelled. You are welcome to book "
            "another time.",
            token,
            is_discreet(appointment, token),
        )
    if appointment.status != AppointmentStatus.CONFIRMED or appointment.ends_at <= now:
        return None, _gone(
            "This consult has taken place",
            f"The consult {appointment.reference} is over. To book another, use the form.",
            token,
            is_discreet(appointment, token),
        )
    return appointment, None


def _page(appointment: Appointment, token: str, now: datetime, status=200):
    """The booking as its reader sees it: times in their zone; for a patient who does not
    yet know, nothing about the illness (no questionnaire); a way to stop their texts."""
    deadline = change_deadline(appointment)
    reader = reader_of(appointment, reader_of_token(db.session, token))
    reader_tz = zone(reader.timezone, current_app.config["CLINIC_TIMEZONE"])
    return (
        render_template(
            "public/manage.html",
            appointment=appointment,
            token=token,
            reader=reader,
            discreet=reader.discreet,
            texts_on=text_channel(db.session, reader.channel, reader.phone),
            stop_form=StopTextsForm(),
            can_change=patient_can_change(appointment, now),
            deadline=format_local(deadline, reader_tz),
            mode=choices.label(choices.CONSULT_MODES, appointment.consult_mode),
            questionnaire_state=questionnaire_state(appointment),
            **times(appointment, reader.timezone),
        ),
        status,
    )


@bp.post("/manage/<token>/stop-texts")
@limiter.limit(manage_rate_limit)
def manage_stop_texts(token):
    """No more WhatsApp or SMS texts to this reader's number: email only from now on."""
    now = now_utc()
    appointment, gone = _load(token, now)
    if gone:
        return gone
    reader = reader_of(appointment, reader_of_token(db.session, token))
    channel = text_channel(db.session, reader.channel, reader.phone)
    if StopTextsForm().validate_on_submit() and channel is not None:
        turn_off(db.session, reader.phone, channel, STOPPED_ON_PAGE, now)
        actor = Actor.patient(request.remote_addr, reader.role)
        detail = f"{channel} off"
        audit.record(
            db.session, "texts_stopped", now, actor, appointment=appointment, detail=detail
        )
        db.session.commit()
        flash("Done: no more text messages. We will keep writing to you by email.")
    return redirect(url_for(".manage", token=token))


@bp.get("/manage/<token>")
@limiter.limit(manage_rate_limit)
def manage(token):
    now = now_utc()
    appointment, gone = _load(token, now)
    if gone:
        return gone
    return _page(appointment, token, now)


@bp.route("/manage/<token>/cancel", methods=["GET", "POST"])
@csrf.exempt  # the form checks its own token, and an expired one is shown as such
@limiter.limit(manage_rate_limit)
def manage_cancel(token):
    """A second step: the consult named, "Yes, cancel it" or "No, keep it"."""
    now = now_utc()
    appointment, gone = _load(token, now)
    if gone:
        return gone
    form = CancelForm()
    if request.method == "GET" or not form.validate_on_submit():
        if not patient_can_change(appointment, now):
            return _page(appointment, token, now, status=409)
        status = 200 if request.method == "GET" else 422
        return (
            render_template(
                "public/manage_cancel.html",
                appointment=appointment,
                token=token,
                form=form,
                **times(appointment),
            ),
            status,
        )
    if not patient_can_change(appointment, now):
        return _page(appointment, token, now, status=409)
    try:
        cancel_appointment(
            db.session,
            appointment,
            now,
            Actor.patient(request.remote_addr, reader_of_token(db.session, token)),
            reason=form.reason.data,
        )
    except ChangeRefused:
        return _page(appointment, token, now, status=409)
    db.session.commit()
    flash(
        "Your consult is cancelled. The clinic knows, and everyone who gets messages about "
        "this consult is being told."
    )
    return redirect(url_for(".manage", token=token))


@bp.get("/manage/<token>/rebook")
@limiter.limit(manage_rate_limit)
def manage_rebook(token):
    """From a cancellation email: choose a new time, with the answers of that booking filled
    in on the details step (the patient checks them and books; nothing is booked before)."""
    appointment = find_by_token(db.session, token)
    if appointment is None or appointment.erased_at is not None:
        return gone_page(appointment)
    # No form filled in with the health answers for a reader who may not know, nor while a
    # contact change waits for the desk's confirmation.
    if is_discreet(appointment, token) or appointment.data_held_at is not None:
        return redirect(url_for(".book"))
    session[REBOOK_KEY] = appointment.id
    flash(
        "Choose a new time. The answers you gave for "
        f"{appointment.reference} will be filled in for you to check."
    )
    return redirect(url_for(".book"))


@bp.route("/manage/<token>/move", methods=["GET", "POST"])
@csrf.exempt  # the form checks its own token, and an expired one is shown as such
@limiter.limit(manage_rate_limit)
def manage_move(token):
    """The booking's picker in the reader's zone, then "You are moving to …" to confirm."""
    now = now_utc()
    appointment, gone = _load(token, now)
    if gone:
        return gone
    if not patient_can_change(appointment, now):
        return _page(appointment, token, now, status=409)
    reader_id = reader_of_token(db.session, token)
    door = MoveDoor(
        endpoint="public.manage_move",
        url_args={"token": token},
        template="public/manage_move.html",
        rules=slot_rules(current_app.config),
        actor=Actor.patient(request.remote_addr, reader_id),
        default_zone=reader_of(appointment, reader_id).timezone,
        done_url=url_for(".manage", token=token),
        done_message="Your consult has moved. Everyone who gets messages about this consult "
        "is being sent the new time.",
        context={"token": token},
    )
    return move_page(appointment, door)
