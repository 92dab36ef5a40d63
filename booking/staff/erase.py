"""Erasing a booking's personal data for a request that came by phone or letter (admins).

The same erasure as the patient's "Delete my data" (booking/erasure.py); the audit event
records which kind of request it was, never what the request said.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from wtforms import RadioField
from wtforms.validators import DataRequired

from ..core.timeutil import now_utc
from ..extensions import db
from ..privacy.erasure import REASONS, erase
from . import bp
from .access import admin_required, staff_actor
from .appointments import load

STAFF_REASONS = ("request_by_phone", "request_in_writing")


class EraseForm(FlaskForm):
    reason = RadioField(
        "The request came",
        choices={code: REASONS[code].removeprefix("the patient asked ") for code in STAFF_REASONS},
        validators=[DataRequired(message="Choose how the request came.")],
    )


@bp.route("/appointments/<reference>/erase", methods=["GET", "POST"])
@admin_required
def appointment_erase(reference):
    """A second step that says what goes and what stays, then erases."""
    appointment = load(reference)
    form = EraseForm()
    if form.validate_on_submit():
        erase(db.session, appointment, now_utc(), staff_actor(), form.reason.data)
        db.session.commit()
        flash("The booking's personal data is deleted.")
        return redirect(url_for(".appointment_detail", reference=appointment.reference))
    status = 422 if form.is_submitted() else 200
    return render_template("staff/erase.html", appointment=appointment, form=form), status
