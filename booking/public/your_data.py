"""The patient's rights over their data, from the manage link: see and download everything
stored about the booking, delete it, or withdraw a consent.

These pages work for a cancelled or past booking too (the rights outlast the consult), and
every one of them is audited. A booking whose data is already erased says so.
"""

from __future__ import annotations

import json
from datetime import datetime

from flask import Response, flash, redirect, render_template, request, url_for

from ..core import audit
from ..core.audit import Actor
from ..core.models import Appointment
from ..core.statuses import AppointmentStatus
from ..core.timeutil import now_utc
from ..core.tokens import find_by_token
from ..extensions import csrf, db, limiter
from ..messages.notifications import times
from ..privacy.data_export import booking_data
from ..privacy.erasure import erase, withdraw_health_consent, withdraw_reminder_consent
from ..web.booking_form import ConfirmForm
from . import bp
from .manage import ask_the_clinic, gone_page, is_discreet, manage_rate_limit


def _find(token: str):
    """The booking behind a token whose data is still held, or the page saying why not. A
    discreet reader's link (a patient who may not yet know) is sent to the clinic's phone:
    these pages show the diagnosis. After staff changed an email or phone, every link is
    sent there too until the desk has confirmed the change with the patient."""
    appointment = find_by_token(db.session, token)
    if appointment is None or appointment.erased_at is not None:
        return None, gone_page(appointment)
    if is_discreet(appointment, token):
        return None, ask_the_clinic(appointment)
    if appointment.data_held_at is not None:  # until the desk confirms a contact change
        return None, ask_the_clinic(appointment, held=True)
    return appointment, None


def _everything(appointment: Appointment, action: str) -> dict:
    """Everything stored about the booking; each look at it is audited."""
    actor = Actor.patient(request.remote_addr)
    audit.record(db.session, action, now_utc(), actor, appointment=appointment)
    data = booking_data(db.session, appointment)
    db.session.commit()
    return data


def _upcoming(appointment: Appointment, now: datetime) -> bool:
    return appointment.status == AppointmentStatus.CONFIRMED and appointment.ends_at > now


@bp.get("/manage/<token>/data")
@limiter.limit(manage_rate_limit)
def your_data(token):
    """Everything stored about the booking, readable, with the download and the choices."""
    appointment, gone = _find(token)
    if gone:
        return gone
    data = _everything(appointment, "data_viewed")
    return render_template("public/your_data.html", appointment=appointment, token=token, data=data)


@bp.get("/manage/<token>/data.json")
@limiter.limit(manage_rate_limit)
def your_data_json(token):
    appointment, gone = _find(token)
    if gone:
        return gone
    data = _everything(appointment, "data_exported")
    return Response(
        json.dumps(data, ensure_ascii=False, indent=2),
        mimetype="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="{appointment.reference}-data.json"'
        },
    )


@bp.route("/manage/<token>/delete", methods=["GET", "POST"])
@csrf.exempt  # the form checks its own token, and an expired one is shown as such
@limiter.limit(manage_rate_limit)
def delete_your_data(token):
    """A second step names what goes and what stays, then deletes."""
    appointment, gone = _find(token)
    if gone:
        return gone
    now = now_utc()
    form = ConfirmForm()
    if request.method == "GET" or not form.validate_on_submit():
        return render_template(
            "public/delete_data.html",
            appointment=appointment,
            token=token,
            form=form,
            upcoming=_upcoming(appointment, now),
            **times(appointment),
        ), (200 if request.method == "GET" else 422)
    erase(db.session, appointment, now, Actor.patient(request.remote_addr), "patient_request")
    db.session.commit()
    return redirect(url_for(".delete_your_data_done", token=token), code=303)


@bp.get("/manage/<token>/deleted")
def delete_your_data_done(token):
    appointment = find_by_token(db.session, token)
    if appointment is None or appointment.erased_at is None:
        return redirect(url_for(".manage", token=token))
    return render_template("public/data_deleted.html", appointment=appointment)


@bp.route("/manage/<token>/withdraw", methods=["GET", "POST"])
@csrf.exempt  # the form checks its own token, and an expired one is shown as such
@limiter.limit(manage_rate_limit)
def withdraw_consent(token):
    """Withdraw the agreement to reminders alone, or the agreement to storing health
    information (which cancels a consult still to come and deletes the health answers)."""
    appointment, gone = _find(token)
    if gone:
        return gone
    now = now_utc()
    form = ConfirmForm()
    which = request.form.get("which") if request.method == "POST" else None
    if which not in ("reminders", "health") or not form.validate_on_submit():
        return render_template(
            "public/withdraw.html",
            appointment=appointment,
            token=token,
            form=form,
            upcoming=_upcoming(appointment, now),
            **times(appointment),
            expired=request.method == "POST" and which in ("reminders", "health"),
        ), (200 if request.method == "GET" else 422)
    actor = Actor.patient(request.remote_addr)
    if which == "reminders":
        withdraw_reminder_consent(db.session, appointment, now, actor)
        flash("We will not send you reminder emails for this consult.")
    else:
        upcoming = _upcoming(appointment, now)
        withdraw_health_consent(db.session, appointment, now, actor)
        flash(
            "Your health information for this booking is deleted."
            + (" Your consult is cancelled; we have emailed you." if upcoming else "")
        )
    db.session.commit()
    return redirect(url_for(".manage", token=token), code=303)
