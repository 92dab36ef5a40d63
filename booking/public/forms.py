"""The booking form. Every rule lives here, next to the field its message is shown beside.

Questions that do not apply (a caregiver's name when the patient books, insurer details without
insurance) are neither required nor kept: :meth:`BookingForm.to_request` drops them, so what is
stored is exactly what the patient was asked.
"""

from __future__ import annotations

import re

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TelField,
)
from wtforms.validators import Length, ValidationError

from .. import choices
from ..bookings import BookingRequest
from ..fields import (
    MultiCheckboxField,
    TimeChoiceForm,
    clean_line,
    line,
    plain_name,
    required,
    text,
    with_placeholder,
)
from ..safety import is_urgent

SUBMISSION_KEY = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


class BookingForm(TimeChoiceForm):
    submission_key = HiddenField()
    # Humans never see this field (hidden by CSS, skipped by keyboard and screen readers);
    # form-filling bots do, and fill it.
    leave_blank = StringField("Leave this field empty", filters=[clean_line])

    booked_by = RadioField(
        "Who is booking?",
        choices=dict(choices.BOOKED_BY),
        validators=[required("Tell us who is booking.")],
    )
    booker_name = line("Your name", 120, plain_name)
    booker_relationship = line("Your relationship to the patient", 60)

    patient_name = line(
        "Patient's full name", 120, required("Enter the patient's name."), plain_name
    )
    patient_email = EmailField(
        "Email", [required("Enter an email address."), Length(max=254)], filters=[clean_line]
    )
    patient_phone = TelField(
        "Phone, with country code",
        [required("Enter a phone number."), Length(max=40)],
        filters=[clean_line],
    )
    preferred_channel = RadioField(
        "How should we contact you?",
        choices=dict(choices.CHANNELS),
        validators=[required("Choose how we should contact you.")],
    )

    cancer_type = SelectField(
        "Type of cancer",
        choices=with_placeholder(choices.CANCER_TYPES),
        validators=[required("Choose the type of cancer, or 'Not sure / other'.")],
    )
    cancer_type_other = line("Which cancer? (if you know)", 200)
    stage = SelectField(
        "Stage",
        choices=with_placeholder(choices.STAGES),
        validators=[required("Choose the stage, or 'Not staged / not sure'.")],
    )
    diagnosed = SelectField(
        "When was it diagnosed?",
        choices=with_placeholder(choices.DIAGNOSED),
        validators=[required("Choose when it was diagnosed, or 'Not sure'.")],
    )
    diagnosis_details = text("Anything else about the diagnosis (optional)", 2000)

    treatments = MultiCheckboxField(
        "Current treatment (choose all that apply)", choices=dict(choices.TREATMENTS)
    )
    treatment_details = text("Treatment details", 2000)
    treating_hospital = line("Treating hospital or oncologist (optional)", 200)

    has_insurance = RadioField(
        "Do you have health insurance that may cover treatment?",
        choices=dict(choices.YES_NO_UNSURE),
        validators=[required("Tell us whether you have health insurance.")],
    )
    insurer = line("Insurance company", 120)
    policy_number = line("Policy number (optional)", 60)
    policy_holder = line("Policy holder, if not the patient (optional)", 120)
    preauthorisation = RadioField(
        "Does your insurer need pre-authorisation for treatment?",
        choices=dict(choices.YES_NO_UNSURE),
        validate_choice=False,  # checked in validate_preauthorisation, only when insured
    )

    # Rendered by hand in two groups (see public/_red_flags.html); the legend follows who books.
    red_flags = MultiCheckboxField("Safety check", choices=dict(choices.RED_FLAGS))
    own_questions = text("Your questions for the consult (optional)", 3000)

    consult_mode = RadioField(
        "How would you like the consult?",
        choices=dict(choices.CONSULT_MODES),
        validators=[required("Choose how you would like the consult.")],
    )

    consent_health = BooleanField(
        "I agree that the clinic stores the health information in this form to prepare for "
        "this consult.",
        validators=[required("We need your agreement to store this information for the consult.")],
    )
    # Not ticked in advance: a pre-ticked box is not consent.
    consent_reminders = BooleanField(
        "Send me reminder emails before the consult, with the questions to ask."
    )

    # The checks below depend on other answers, so they live here rather than in validators.

    def validate_booker_name(self, field):
        if self.booked_by.data == "caregiver" and not field.data:
            raise ValidationError("Enter your own name, as the person booking.")

    def validate_booker_relationship(self, field):
        if self.booked_by.data == "caregiver" and not field.data:
            raise ValidationError("Tell us how you are related to the patient, e.g. daughter.")

    def validate_patient_email(self, field):
        # Addresses whose part before the @ is not plain ASCII need SMTPUTF8 at every server on
        # the way; few patients have one, and a message that cannot be delivered helps nobody.
        local = (field.data or "").rsplit("@", 1)[0]
        if not local.isascii():
            raise ValidationError(
                "Please use an email address with only English letters, digits and . _ - "
                "before the @."
            )
        try:
            result = validate_email(field.data, check_deliverability=False, allow_smtputf8=False)
        except EmailNotValidError:
            raise ValidationError("Enter an email address like name@example.com.") from None
        # A domain in another script is sent in its ASCII (punycode) form.
        field.data = result.ascii_email or result.normalized

    def validate_patient_phone(self, field):
        message = "Enter a phone number with its country code, like +91 98765 43210."
        try:
            number = phonenumbers.parse(field.data, current_app.config["DEFAULT_PHONE_REGION"])
        except phonenumbers.NumberParseException:
            raise ValidationError(message) from None
        if not phonenumbers.is_valid_number(number):
            raise ValidationError(message)
        field.data = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    def validate_treatments(self, field):
        chosen = field.data or []
        known = {value for value, _ in choices.TREATMENTS}
        if not chosen:
            raise ValidationError("Choose at least one, or 'No treatment at the moment'.")
        if not set(chosen) <= known:
            raise ValidationError("Choose from the list.")
        if "none" in chosen and len(chosen) > 1:
            raise ValidationError(
                "'No treatment at the moment' cannot be combined with a treatment."
            )

    def validate_red_flags(self, field):
        chosen = field.data or []
        if not chosen:
            raise ValidationError("Tick any that apply, or 'None of these'.")
        if not set(chosen) <= {value for value, _ in choices.RED_FLAGS}:
            raise ValidationError("Choose from the list.")
        if choices.NO_RED_FLAGS in chosen and len(chosen) > 1:
            raise ValidationError(
                "'None of these' cannot be ticked together with a symptom. Please untick one."
            )

    def validate_treatment_details(self, field):
        if "other" in (self.treatments.data or []) and not field.data:
            raise ValidationError("Tell us which other treatment.")

    def validate_insurer(self, field):
        if self.has_insurance.data == "yes" and not field.data:
            raise ValidationError("Enter the name of your insurance company.")

    def validate_preauthorisation(self, field):
        if self.has_insurance.data != "yes":
            return
        if field.data not in {value for value, _ in choices.YES_NO_UNSURE}:
            raise ValidationError("Tell us whether pre-authorisation is needed, or 'Not sure'.")

    def to_request(self, ip_address: str | None) -> BookingRequest:
        """The validated answers as plain values; answers to questions that do not apply are
        dropped, so nothing is stored that the patient was not asked for."""
        caregiver = self.booked_by.data == "caregiver"
        insured = self.has_insurance.data == "yes"
        treatments = [value for value, _ in choices.TREATMENTS if value in self.treatments.data]
        red_flags = [value for value, _ in choices.RED_FLAGS if value in self.red_flags.data]

        def optional(field, keep=True):
            return (field.data or None) if keep else None

        return BookingRequest(
            submission_key=self.submission_key.data,
            starts_at=self.slot_start(),
            patient_timezone=self.timezone.data,
            booked_by=self.booked_by.data,
            booker_name=optional(self.booker_name, caregiver),
            booker_relationship=optional(self.booker_relationship, caregiver),
            patient_name=self.patient_name.data,
            patient_email=self.patient_email.data,
            patient_phone=self.patient_phone.data,
            preferred_channel=self.preferred_channel.data,
            cancer_type=self.cancer_type.data,
            cancer_type_other=optional(
                self.cancer_type_other, self.cancer_type.data in choices.CANCER_TYPES_WITH_NAME
            ),
            stage=self.stage.data,
            diagnosed=self.diagnosed.data,
            diagnosis_details=optional(self.diagnosis_details),
            treatments=treatments,
            treatment_details=optional(self.treatment_details),
            treating_hospital=optional(self.treating_hospital),
            has_insurance=self.has_insurance.data,
            insurer=optional(self.insurer, insured),
            policy_number=optional(self.policy_number, insured),
            policy_holder=optional(self.policy_holder, insured),
            preauthorisation=optional(self.preauthorisation, insured),
            urgent=is_urgent(red_flags),
            red_flags=red_flags,
            own_questions=optional(self.own_questions),
            consult_mode=self.consult_mode.data,
            consent_health=bool(self.consent_health.data),
            consent_reminders=bool(self.consent_reminders.data),
            ip_address=ip_address,
        )


def valid_submission_key(value: str | None) -> bool:
    return bool(value and SUBMISSION_KEY.match(value))


class MoveForm(TimeChoiceForm):
    """The manage page's choice of a new time."""


class CancelForm(FlaskForm):
    reason = text("Reason (optional)", 500)
