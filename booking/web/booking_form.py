"""The booking form. Every rule lives here, next to the field its message is shown beside.

Questions that do not apply (a caregiver's name when the patient books, insurer details when
no insurance pays) are neither required nor kept: :meth:`BookingForm.to_request` drops them,
so what is stored is exactly what the patient was asked.
"""

from __future__ import annotations

import re
from datetime import datetime

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    StringField,
    TelField,
)
from wtforms.validators import Length, ValidationError

from ..appointments.bookings import BookingRequest
from ..core.phones import NotAPhoneNumber, read_phone
from ..core.statuses import Reader
from ..core.timeutil import clinic_today
from ..intake import choices
from ..intake.birth_dates import ADULT_AGE, Born, parse_birth_date
from ..intake.booking_questions import (
    BOOKING_QUESTIONS,
    BY_NAME,
    DEFINED_ONLY,
    stored_answers,
)
from ..intake.safety import is_urgent
from .fields import (
    MultiCheckboxField,
    QuickRadioField,
    TimeChoiceForm,
    chosen_timezone,
    clean_line,
    line,
    plain_name,
    required,
    text,
)
from .question_fields import check_required, field_for

SUBMISSION_KEY = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


def email_field() -> EmailField:
    """Where the confirmation and reminders go (checked by :func:`checked_email`)."""
    return EmailField(
        "Email", [required("Enter an email address."), Length(max=254)], filters=[clean_line]
    )


def phone_field() -> TelField:
    return TelField(
        "Phone, with country code",
        [required("Enter a phone number."), Length(max=40)],
        filters=[clean_line],
    )


def channel_field() -> QuickRadioField:
    return QuickRadioField(
        "How should we contact you?",
        choices=dict(choices.CHANNELS),
        validators=[required("Choose how we should contact you.")],
    )


class TimeForm(TimeChoiceForm):
    """The first step: a time zone and one of the offered times, to hold."""

    def validate_timezone(self, field):
        field.data = chosen_timezone(field.data, current_app.config["CLINIC_TIMEZONE"])

    def validate_slot(self, field):
        try:
            datetime.fromisoformat(field.data)
        except (TypeError, ValueError):
            raise ValidationError("Choose one of the times shown.") from None


class BookingForm(TimeChoiceForm):
    born: Born  # set by validate_birth_date

    def validate_timezone(self, field):
        # The zone only decides how times are shown; one the server does not know (an old
        # browser, a hand-edited form) becomes the clinic's rather than stopping the booking.
        field.data = chosen_timezone(field.data, current_app.config["CLINIC_TIMEZONE"])

    def __init__(self, *args, slot_is_open=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.slot_is_open = slot_is_open

    def validate_slot(self, field):
        """Only the chosen time is checked (this browser's hold, or a free consultant)."""
        try:
            moment = datetime.fromisoformat(field.data)
        except (TypeError, ValueError):
            moment = None
        if moment is None or moment.tzinfo is None or not self.slot_is_open(moment):
            raise ValidationError(
                "That time was just taken or is no longer available. Please choose another time."
            )

    submission_key = HiddenField()
    # Humans never see this field (hidden by CSS, skipped by keyboard and screen readers);
    # form-filling bots do, and fill it.
    leave_blank = StringField("Leave this field empty", filters=[clean_line])

    booked_by = QuickRadioField(
        "Who is booking?",
        choices=dict(choices.BOOKED_BY),
        validators=[required("Tell us who is booking.")],
    )
    booker_name = line("Your name", 120, plain_name)
    booker_relationship = line("Your relationship to the patient", 60)
    booker_email = EmailField("Your email", [Length(max=254)], filters=[clean_line])
    booker_phone = TelField("Your phone, with country code", [Length(max=40)], filters=[clean_line])
    booker_is_guardian = BooleanField(
        "I am the patient's parent or legal guardian (needed when the patient is under 18)"
    )
    patient_agrees = QuickRadioField(
        "Does the patient know about this booking and agree to it?",
        choices=dict(choices.PATIENT_AGREES),
        validate_choice=False,  # checked in validate_patient_agrees, only when a caregiver books
    )
    messages_to = QuickRadioField(
        "Who should get messages and calls about this consult?",
        choices=dict(choices.MESSAGES_TO),
        validate_choice=False,  # optional: empty means readers.default_messages_to
    )
    patient_in_my_zone = BooleanField("The patient lives in the same time zone as me")
    relative_channel = QuickRadioField(
        "How should we contact you?",
        choices=dict(choices.CHANNELS),
        validate_choice=False,  # checked in validate_relative_channel, only for a relative
    )

    patient_name = line(
        "Patient's full name", 120, required("Enter the patient's name."), plain_name
    )
    birth_date = field_for(BY_NAME["birth_date"])
    patient_email = email_field()
    patient_phone = phone_field()
    preferred_channel = channel_field()

    # The intake questions, from their one definition (intake/booking_questions.py).
    for _question in BOOKING_QUESTIONS:
        if _question.name != "birth_date":  # asked with the patient's details, above
            locals()[_question.name] = field_for(_question)
    del _question

    consult_mode = QuickRadioField(
        "How would you like the consult?",
        choices=dict(choices.CONSULT_MODES),
        validators=[required("Choose how you would like the consult.")],
    )

    # When a relative books, the patient's agreement is what counts (or a guardian's).
    CONSENT_HEALTH_FOR_PATIENT = (
        "The patient agrees (or I am their legal guardian) that the clinic stores the health "
        "information in this form to prepare for this consult."
    )
    consent_health = BooleanField(
        "I agree that the clinic stores the health information in this form to prepare for "
        "this consult.",
        validators=[required("We need your agreement to store this information for the consult.")],
    )
    # Not ticked in advance: a pre-ticked box is not consent.
    consent_reminders = BooleanField(
        "Send me reminders before the consult, with the questions to ask: by email, and by "
        "WhatsApp or SMS if that is how you asked us to contact you."
    )

    # The checks below depend on other answers, so they live here rather than in validators.

    def validate_booker_name(self, field):
        if self.booked_by.data == "caregiver" and not field.data:
            raise ValidationError("Enter your own name, as the person booking.")

    def validate_booker_relationship(self, field):
        if self.booked_by.data == "caregiver" and not field.data:
            raise ValidationError("Tell us how you are related to the patient, e.g. daughter.")

    def validate_booker_email(self, field):
        if self.booked_by.data != "caregiver":
            return
        if not field.data:
            raise ValidationError("Enter your own email, so the clinic can reach you too.")
        field.data = checked_email(field.data)

    def validate_booker_phone(self, field):
        if self.booked_by.data != "caregiver":
            return
        if not field.data:
            raise ValidationError("Enter your own phone number, so the clinic can reach you too.")
        field.data = checked_phone(field.data, self.timezone.data)

    def validate_patient_agrees(self, field):
        if self.booked_by.data != "caregiver":
            return
        if field.data not in dict(choices.PATIENT_AGREES):
            raise ValidationError("Tell us whether the patient knows about this booking.")

    def validate_messages_to(self, field):
        chosen = field.data or None
        if self.booked_by.data == "caregiver" and chosen and chosen not in set(Reader):
            raise ValidationError("Choose who should get the messages, or leave it to us.")

    def validate_relative_channel(self, field):
        if self.booked_by.data == "caregiver" and field.data not in dict(choices.CHANNELS):
            raise ValidationError("Choose how we should contact you.")

    def validate_birth_date(self, field):
        today = clinic_today()
        born = parse_birth_date(field.data, today)
        # Kept as typed, so a page shown again for another answer shows it unchanged.
        self.born = born
        if born.age_on(today) >= ADULT_AGE:
            return
        if self.booked_by.data != "caregiver":
            raise ValidationError(
                "The patient is under 18, so a parent or guardian needs to book: choose "
                "'I am booking for someone else' above."
            )
        if not self.booker_is_guardian.data:
            self.booker_is_guardian.errors = [
                "The patient is under 18: please confirm you are their parent or guardian."
            ]
            raise ValidationError("The patient is under 18: see the question about the guardian.")

    def validate_patient_email(self, field):
        field.data = checked_email(field.data)

    def validate_patient_phone(self, field):
        field.data = checked_phone(field.data, self.timezone.data)

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

    def validate_payment_routes(self, field):
        chosen = field.data or []
        if not chosen:
            raise ValidationError("Choose at least one, or 'Not sure, we need help with this'.")
        if not set(chosen) <= set(dict(choices.PAYMENT_ROUTES)):
            raise ValidationError("Choose from the list.")

    def in_section(self, section: str) -> list:
        """The fields of the questions a section shows from their definition alone, each with
        the rule that shows it (None: always shown)."""
        return [
            (self[question.name], question.show_when)
            for question in DEFINED_ONLY
            if question.section == section
        ]

    def answers(self) -> dict:
        """The answers as typed, by question name, for the rules that depend on them."""
        return {name: field.data for name, field in self._fields.items()}

    def validate(self, extra_validators=None) -> bool:
        """The field checks, then every intake question that the other answers make required
        (a question not asked is never required)."""
        valid = super().validate(extra_validators)
        return check_required(self, BOOKING_QUESTIONS) and valid

    def patient_timezone(self) -> str:
        """The zone of the patient's own messages: the zone the form was filled in, unless a
        relative filled it in (a daughter in New Jersey booking for her mother in Pune): then
        the clinic's, unless they said the patient lives in their zone too."""
        if self.booked_by.data == "caregiver" and not self.patient_in_my_zone.data:
            return current_app.config["CLINIC_TIMEZONE"]
        return self.timezone.data

    def to_request(self, ip_address: str | None) -> BookingRequest:
        """The validated answers as plain values; answers to questions that do not apply are
        dropped, so nothing is stored that the patient was not asked for."""
        caregiver = self.booked_by.data == "caregiver"
        answers = self.answers()
        treatments = [value for value, _ in choices.TREATMENTS if value in self.treatments.data]
        routes = [value for value, _ in choices.PAYMENT_ROUTES if value in self.payment_routes.data]
        red_flags = [value for value, _ in choices.RED_FLAGS if value in self.red_flags.data]

        def optional(field, keep=True):
            return (field.data or None) if keep else None

        def asked(name: str):
            """The answer to an intake question, or None when it was not asked."""
            return optional(self[name], BY_NAME[name].asked(answers))

        return BookingRequest(
            submission_key=self.submission_key.data,
            starts_at=self.slot_start(),
            patient_timezone=self.patient_timezone(),
            booked_by=self.booked_by.data,
            booker_name=optional(self.booker_name, caregiver),
            booker_relationship=optional(self.booker_relationship, caregiver),
            booker_email=optional(self.booker_email, caregiver),
            booker_phone=optional(self.booker_phone, caregiver),
            patient_agrees=optional(self.patient_agrees, caregiver),
            messages_to=optional(self.messages_to, caregiver),
            relative_timezone=self.timezone.data if caregiver else None,
            relative_channel=optional(self.relative_channel, caregiver),
            patient_name=self.patient_name.data,
            birth_date=self.born.stored(),
            patient_email=self.patient_email.data,
            patient_phone=self.patient_phone.data,
            preferred_channel=self.preferred_channel.data,
            therapy=self.therapy.data,
            cancer_type=self.cancer_type.data,
            cancer_type_other=asked("cancer_type_other"),
            stage=self.stage.data,
            diagnosed=self.diagnosed.data,
            diagnosis_details=asked("diagnosis_details"),
            treatments=treatments,
            treatment_details=asked("treatment_details"),
            payment_routes=routes,
            state_scheme=asked("state_scheme"),
            insurer=asked("insurer"),
            tpa=asked("tpa"),
            policy_holder=asked("policy_holder"),
            policy_after_diagnosis=asked("policy_after_diagnosis"),
            cost_help=bool(self.cost_help.data),
            urgent=is_urgent(red_flags),
            red_flags=red_flags,
            own_questions=asked("own_questions"),
            consult_mode=self.consult_mode.data,
            consent_health=bool(self.consent_health.data),
            consent_reminders=bool(self.consent_reminders.data),
            ip_address=ip_address,
            more_answers=stored_answers(answers),
        )


def checked_email(value: str | None) -> str:
    """The address as it will be sent to, or a :class:`ValidationError` saying what to fix."""
    # Addresses whose part before the @ is not plain ASCII need SMTPUTF8 at every server on
    # the way; few patients have one, and a message that cannot be delivered helps nobody.
    local = (value or "").rsplit("@", 1)[0]
    if not local.isascii():
        raise ValidationError(
            "Please use an email address with only English letters, digits and . _ - before the @."
        )
    try:
        result = validate_email(value or "", check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError:
        raise ValidationError("Enter an email address like name@example.com.") from None
    # A domain in another script is sent in its ASCII (punycode) form.
    return result.ascii_email or result.normalized


def checked_phone(value: str | None, zone_name: str | None = None) -> str:
    """The number in international (E.164) form, read as one of the country of ``zone_name``
    (the browser's zone) or of the clinic's; or a :class:`ValidationError` with an example for
    that country."""
    try:
        return read_phone(value, zone_name, current_app.config["DEFAULT_PHONE_REGION"])
    except NotAPhoneNumber as error:
        raise ValidationError(str(error)) from None


def valid_submission_key(value: str | None) -> bool:
    return bool(value and SUBMISSION_KEY.match(value))


class ConfirmForm(FlaskForm):
    """A second step's button: only the CSRF token, so a link cannot act for the patient."""


class StopTextsForm(FlaskForm):
    """The manage page's "stop text messages" button: only the CSRF token."""


class CancelForm(FlaskForm):
    reason = text("Reason (optional)", 500)


class WaitlistForm(FlaskForm):
    """Joining the waitlist: how to reach the person, and when suits them. No health data."""

    name = line("Your name", 120, required("Enter your name."), plain_name)
    email = email_field()
    phone = phone_field()
    preferred_channel = channel_field()
    language = QuickRadioField(
        "Which language would you like the consult in?",
        choices=dict(choices.LANGUAGES),
        validators=[required("Choose a language.")],
    )
    weekdays = MultiCheckboxField("Which days suit?", choices=dict(choices.WEEKDAYS))
    day_parts = MultiCheckboxField("Which times of day suit?", choices=dict(choices.DAY_PARTS))
    timezone = HiddenField()
    consent = BooleanField(
        "I agree that the clinic keeps these details to offer me a time, until I book or ask "
        "to come off the waitlist.",
        validators=[required("We need your agreement to keep your details on the waitlist.")],
    )

    def validate_email(self, field):
        field.data = checked_email(field.data)

    def validate_phone(self, field):
        field.data = checked_phone(field.data, self.timezone.data)

    def validate_weekdays(self, field):
        if not field.data:
            raise ValidationError("Choose at least one day.")

    def validate_day_parts(self, field):
        if not field.data:
            raise ValidationError("Choose at least one time of day.")

    def validate_timezone(self, field):
        field.data = chosen_timezone(field.data, current_app.config["CLINIC_TIMEZONE"])
