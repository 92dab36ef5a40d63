"""The booking form. Every rule lives here, next to the field its message is shown beside.

Questions that do not apply (a caregiver's name when the patient books, insurer details without
insurance) are neither required nor kept: :meth:`BookingForm.to_request` drops them, so what is
stored is exactly what the patient was asked.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from datetime import datetime
from functools import lru_cache

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget, html_params

from .. import choices
from ..bookings import BookingRequest
from ..safety import is_urgent
from ..timeutil import format_local, is_known_timezone, timezone_names, zone

SUBMISSION_KEY = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
# Control characters have no place in a name or an answer, and PostgreSQL refuses NUL outright.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\ufeff]")


def clean_text(value):
    """Trim, normalise and drop invisible control characters; keep line breaks."""
    if not isinstance(value, str):
        return value
    value = unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n"))
    return CONTROL.sub("", value).strip()


def clean_line(value):
    """As :func:`clean_text`, for one-line answers: line breaks become spaces."""
    value = clean_text(value)
    return re.sub(r"\s+", " ", value) if isinstance(value, str) else value


def required(message: str):
    # DataRequired looks at the cleaned value, so an answer of only spaces counts as none.
    return DataRequired(message=message)


def plain_name(field_form, field):
    """Names are shown in emails, on calendars and (later) in text messages, and no person's
    name has angle brackets: refusing them stops a name from being used to carry markup or a
    fake link, on top of the escaping every template does anyway."""
    if field.data and ("<" in field.data or ">" in field.data):
        raise ValidationError("A name cannot contain < or >.")


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _line(label, limit, *validators, **kwargs):
    return StringField(label, [*validators, Length(max=limit)], filters=[clean_line], **kwargs)


def _text(label, limit, *validators, **kwargs):
    return TextAreaField(label, [*validators, Length(max=limit)], filters=[clean_text], **kwargs)


def _with_placeholder(options, text="Choose one"):
    return {"": text, **dict(options)}


def slot_value(moment: datetime) -> str:
    """A slot as the form sends it: its UTC start, e.g. ``2026-12-01T04:30:00Z``."""
    return moment.isoformat().replace("+00:00", "Z")


class PlainSelect:
    """Renders a ``<select>`` whose options the field writes itself.

    WTForms builds an object per option; for ~400 time zones and ~350 slots that was most of
    the booking page's time. The options here are plain, escaped strings.
    """

    def __call__(self, field, **kwargs):
        kwargs.setdefault("id", field.id)
        return Markup(
            f"<select {html_params(name=field.name, **kwargs)}>{field.options_html()}</select>"
        )


def _option(value: str, label: str, selected: bool) -> str:
    chosen = " selected" if selected else ""
    return f'<option{chosen} value="{escape(value)}">{escape(label)}</option>'


@lru_cache(maxsize=64)
def _timezone_options(selected: str) -> str:
    return "".join(
        _option(name, name.replace("_", " "), name == selected) for name in timezone_names()
    )


class TimezoneField(SelectField):
    """The time-zone select; its ~400 options are rendered once per chosen zone."""

    widget = PlainSelect()

    def options_html(self) -> str:
        return _timezone_options(self.data or "")


class SlotField(SelectField):
    """Free slots grouped by day (``{day: {value: label}}``), rendered as optgroups."""

    widget = PlainSelect()

    def options_html(self) -> str:
        parts = []
        for day, options in (self.choices or {}).items():
            inner = "".join(
                _option(value, label, value == self.data) for value, label in options.items()
            )
            parts.append(f'<optgroup label="{escape(day)}">{inner}</optgroup>')
        return "".join(parts)


def chosen_timezone(submitted: str | None, fallback: str) -> str:
    """The zone to show times in: the one asked for, if it is a real zone."""
    return submitted if submitted and is_known_timezone(submitted) else fallback


def slot_choices(slots, tz_name: str) -> dict[str, dict[str, str]]:
    """Free slots grouped by the patient's local day, labelled in their zone (and the clinic's)."""
    config = current_app.config
    patient_tz = zone(tz_name, config["CLINIC_TIMEZONE"])
    clinic_tz = zone(config["CLINIC_TIMEZONE"], "UTC")
    same = str(patient_tz) == str(clinic_tz)
    groups: dict[str, dict[str, str]] = defaultdict(dict)
    for moment in slots:
        local = moment.astimezone(patient_tz)
        day = f"{local.strftime('%A')} {local.day} {local.strftime('%B %Y')}"
        label = format_local(moment, patient_tz, with_date=False)
        if not same:
            label += f" (clinic {format_local(moment, clinic_tz, with_date=False)})"
        groups[day][slot_value(moment)] = label
    return dict(groups)


class TimeChoiceForm(FlaskForm):
    """A time zone and a free slot: the last part of the booking form, and the move form."""

    timezone = TimezoneField("Show times in this time zone", validate_choice=False)
    slot = SlotField(
        "Consult time",
        validate_choice=False,
        validators=[required("Choose a time for the consult.")],
    )

    def __init__(self, *args, free_slots=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.free_slot_values = {slot_value(moment) for moment in free_slots}

    def validate_timezone(self, field):
        if not is_known_timezone(field.data or ""):
            raise ValidationError("Choose a time zone from the list.")

    def validate_slot(self, field):
        if field.data not in self.free_slot_values:
            raise ValidationError(
                "That time was just taken or is no longer available. Please choose another time."
            )

    def slot_start(self) -> datetime:
        return datetime.fromisoformat(self.slot.data)


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
    booker_name = _line("Your name", 120, plain_name)
    booker_relationship = _line("Your relationship to the patient", 60)

    patient_name = _line(
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
        choices=_with_placeholder(choices.CANCER_TYPES),
        validators=[required("Choose the type of cancer, or 'Not sure / other'.")],
    )
    cancer_type_other = _line("Which cancer? (if you know)", 200)
    stage = SelectField(
        "Stage",
        choices=_with_placeholder(choices.STAGES),
        validators=[required("Choose the stage, or 'Not staged / not sure'.")],
    )
    diagnosed = SelectField(
        "When was it diagnosed?",
        choices=_with_placeholder(choices.DIAGNOSED),
        validators=[required("Choose when it was diagnosed, or 'Not sure'.")],
    )
    diagnosis_details = _text("Anything else about the diagnosis (optional)", 2000)

    treatments = MultiCheckboxField(
        "Current treatment (choose all that apply)", choices=dict(choices.TREATMENTS)
    )
    treatment_details = _text("Treatment details", 2000)
    treating_hospital = _line("Treating hospital or oncologist (optional)", 200)

    has_insurance = RadioField(
        "Do you have health insurance that may cover treatment?",
        choices=dict(choices.YES_NO_UNSURE),
        validators=[required("Tell us whether you have health insurance.")],
    )
    insurer = _line("Insurance company", 120)
    policy_number = _line("Policy number (optional)", 60)
    policy_holder = _line("Policy holder, if not the patient (optional)", 120)
    preauthorisation = RadioField(
        "Does your insurer need pre-authorisation for treatment?",
        choices=dict(choices.YES_NO_UNSURE),
        validate_choice=False,  # checked in validate_preauthorisation, only when insured
    )

    # Rendered by hand in two groups (see public/_red_flags.html); the legend follows who books.
    red_flags = MultiCheckboxField(
        "Right now, do you have any of these?", choices=dict(choices.RED_FLAGS)
    )
    own_questions = _text("Your questions for the consult (optional)", 3000)

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
        try:
            result = validate_email(field.data, check_deliverability=False)
        except EmailNotValidError:
            raise ValidationError("Enter an email address like name@example.com.") from None
        field.data = result.normalized

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
    reason = _text("Reason (optional)", 500)
