"""Staff change how a consult happens (video creates the meeting link), and replace a video
consult's meeting link (for a clinic Zoom or Meet room)."""

from __future__ import annotations

from flask import flash, redirect, url_for

from ..appointments.video import change_mode, replace_link
from ..core.statuses import AppointmentStatus
from ..core.timeutil import now_utc
from ..extensions import db
from . import bp
from .access import staff_actor
from .appointments import _detail, load
from .forms import ModeForm, VideoLinkForm


@bp.post("/appointments/<reference>/video-link")
def appointment_video_link(reference):
    appointment = load(reference)
    form = VideoLinkForm()
    if appointment.consult_mode != "video" or appointment.status != AppointmentStatus.CONFIRMED:
        flash("Only a video consult that stands has a meeting link.")
    elif not form.validate_on_submit():
        return _detail(appointment, 422, video_form=form)
    else:
        replace_link(db.session, appointment, form.link.data, now_utc(), staff_actor())
        db.session.commit()
        flash(
            "The new meeting link is saved: the consultant is emailed it, and the patient's "
            "reminders carry it. To send it to the patient now, resend the confirmation."
        )
    return redirect(url_for(".appointment_detail", reference=appointment.reference))


@bp.post("/appointments/<reference>/mode")
def appointment_mode(reference):
    appointment = load(reference)
    form = ModeForm()
    if appointment.status != AppointmentStatus.CONFIRMED:
        flash("Only a consult that stands can be changed.")
    elif not form.validate_on_submit():
        return _detail(appointment, 422, mode_form=form)
    else:
        change_mode(db.session, appointment, form.consult_mode.data, now_utc(), staff_actor())
        db.session.commit()
        flash("Saved. The patient's reminders say how the consult happens.")
    return redirect(url_for(".appointment_detail", reference=appointment.reference))
