"""Correct a booking's contact details, and resend the confirmation (for a caller whose email
was mistyped, or whose email bounced). Same checks as the booking form; audited."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from wtforms import EmailField, TelField
from wtforms.validators import Length, ValidationError

from ..appointments.contact_details import (
    confirm_contact_change,
    correct_contact,
    resend_confirmation,
)
from ..core.statuses import AppointmentStatus
from ..core.timeutil import now_utc
from ..extensions import db
from ..intake import choices
from ..messages.readers import readers
from ..web.booking_form import channel_field, checked_email, checked_phone, email_field, phone_field
from ..web.fields import QuickRadioField, clean_line, line, plain_name, required
from . import bp
from .access import staff_actor
from .appointments import load
from .forms import ActionForm


class ContactForm(FlaskForm):
    """The contact fields of the booking form, with its rules; the booker's only for a
    booking made by a family member or friend."""

    patient_name = line(
        "Patient's full name", 120, required("Enter the patient's name."), plain_name
    )
    patient_email = email_field()
    patient_phone = phone_field()
    preferred_channel = channel_field()
    booker_name = line("Booker's name", 120, plain_name)
    booker_email = EmailField("Booker's email", [Length(max=254)], filters=[clean_line])
    booker_phone = TelField(
        "Booker's phone, with country code", [Length(max=40)], filters=[clean_line]
    )
    relative_channel = QuickRadioField(
        "How the person who booked wants to be reached",
        choices=dict(choices.CHANNELS),
        validators=[required("Choose how to reach the person who booked.")],
    )
    messages_to = QuickRadioField(
        "Who gets the messages and calls",
        choices={
            "relative": "The person who booked",
            "patient": "The patient",
            "both": "Both",
        },
        validators=[required("Choose who gets the messages.")],
    )

    def __init__(self, *args, caregiver: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.caregiver = caregiver
        if not caregiver:
            for name in (
                "booker_name",
                "booker_email",
                "booker_phone",
                "relative_channel",
                "messages_to",
            ):
                del self[name]

    def validate_patient_email(self, field):
        field.data = checked_email(field.data)

    def validate_patient_phone(self, field):
        field.data = checked_phone(field.data)

    def validate_booker_name(self, field):
        if not field.data:
            raise ValidationError("Enter the name of the person who booked.")

    def validate_booker_email(self, field):
        field.data = checked_email(field.data)

    def validate_booker_phone(self, field):
        field.data = checked_phone(field.data)


@bp.route("/appointments/<reference>/contact", methods=["GET", "POST"])
def appointment_contact(reference):
    appointment = load(reference)
    caregiver = appointment.booked_by == "caregiver"
    form = ContactForm(obj=appointment, caregiver=caregiver)
    if form.validate_on_submit():
        values = {field.name: field.data for field in form if field.name != "csrf_token"}
        changed = correct_contact(db.session, appointment, values, now_utc(), staff_actor())
        db.session.commit()
        if changed:
            flash(
                f"Saved: {', '.join(changed)}. If the email was wrong, resend the confirmation "
                "below so the patient has their details and link."
            )
        else:
            flash("Nothing was changed.")
        return redirect(url_for(".appointment_detail", reference=appointment.reference))
    status = 422 if form.errors else 200
    return render_template("staff/contact.html", appointment=appointment, form=form), status


@bp.post("/appointments/<reference>/contact-confirmed")
def appointment_contact_confirmed(reference):
    """The desk called the patient and they confirmed the new details: the data pages open."""
    appointment = load(reference)
    if ActionForm().validate_on_submit() and appointment.data_held_at is not None:
        confirm_contact_change(db.session, appointment, now_utc(), staff_actor())
        db.session.commit()
        flash("Confirmed. The patient's links open everything again.")
    return redirect(url_for(".appointment_detail", reference=appointment.reference))


@bp.post("/appointments/<reference>/resend")
def appointment_resend(reference):
    appointment = load(reference)
    form = ActionForm()
    if not form.validate_on_submit():
        flash("The page had expired. Please press the button again.")
    elif appointment.status != AppointmentStatus.CONFIRMED:
        flash("Only a booking that stands has a confirmation to send.")
    else:
        resend_confirmation(db.session, appointment, now_utc(), staff_actor())
        db.session.commit()
        to = " and ".join(reader.email for reader in readers(appointment))
        flash(f"The confirmation is on its way to {to}.")
    return redirect(url_for(".appointment_detail", reference=appointment.reference))
