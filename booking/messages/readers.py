"""Who reads the messages about a booking, and how each is spoken to.

When a relative books, the form asks who should get the messages and calls: the patient, the
relative, or both (``Appointment.messages_to``). Every message about the booking goes to each
of them in their own voice ("your son Ravi Kumar booked a free consult for you"; "you booked a
free consult for Kamla Devi"), at times in their own zone, with a manage link of their own.

A patient who "does not yet know" about the booking, "cannot decide", or knows the diagnosis
only partly or not at all (the relative's answers on the form) may share a phone or an inbox
with the family: the messages they get are *discreet*, with no cancer type, treatment,
question list, symptoms or crisis line, only the consult's time, how it happens and the
neutral "when to get help". The relative's copy carries the rest.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.models import Appointment
from ..core.statuses import Reader
from ..intake.choices import KNOWS_LITTLE

# The patient's agreement answers after which the patient's own messages say nothing about
# cancer: the relative said the patient does not yet know, or cannot decide.
PATIENT_MAY_NOT_KNOW = {"not_yet", "cannot_decide"}


@dataclass(frozen=True)
class ReaderOf:
    """One reader of a booking's messages."""

    role: Reader  # PATIENT or RELATIVE, never BOTH
    name: str
    email: str
    phone: str
    timezone: str
    discreet: bool = False
    # The channel this reader chose on the form (choices.CHANNELS).
    channel: str = "email"

    @property
    def is_patient(self) -> bool:
        return self.role == Reader.PATIENT


def booked_by_relative(appointment: Appointment) -> bool:
    return appointment.booked_by == "caregiver" and bool(appointment.booker_email)


def may_not_know(appointment: Appointment) -> bool:
    """Whether the patient may not know about the booking or the illness behind it. Once the
    health answers are withdrawn only the booking's own answer is left to go by."""
    if not booked_by_relative(appointment):
        return False
    if appointment.patient_agrees in PATIENT_MAY_NOT_KNOW:
        return True
    # An intake question defined in booking_questions.py: its column is made from there.
    return getattr(appointment.intake, "knows_diagnosis", None) in KNOWS_LITTLE


def reader_of(appointment: Appointment, role: str | None) -> ReaderOf:
    """The patient or the relative as a reader; a relative's role without a relative (a
    booking made by the patient) is the patient."""
    if role == Reader.RELATIVE and booked_by_relative(appointment):
        return ReaderOf(
            Reader.RELATIVE,
            appointment.booker_name or "",
            appointment.booker_email or "",
            appointment.booker_phone or appointment.patient_phone,
            appointment.relative_timezone or appointment.patient_timezone,
            channel=appointment.relative_channel or "email",
        )
    return ReaderOf(
        Reader.PATIENT,
        appointment.patient_name,
        appointment.patient_email,
        appointment.patient_phone,
        appointment.patient_timezone,
        discreet=may_not_know(appointment),
        channel=appointment.preferred_channel,
    )


def readers(appointment: Appointment) -> list[ReaderOf]:
    """Everyone who gets the messages about this booking, in the order they are written."""
    if not booked_by_relative(appointment) or appointment.messages_to == Reader.PATIENT:
        return [reader_of(appointment, Reader.PATIENT)]
    relative = reader_of(appointment, Reader.RELATIVE)
    if appointment.messages_to == Reader.RELATIVE:
        return [relative]
    patient = reader_of(appointment, Reader.PATIENT)
    if patient.email.lower() == relative.email.lower():  # one shared address: one message
        return [relative]
    return [patient, relative]


def default_messages_to(
    booked_by: str | None, patient_agrees: str | None, knows_diagnosis: str | None = None
) -> Reader:
    """Who gets the messages when the form does not say: never the patient alone, nor the
    patient at all when the relative said the patient may not know."""
    if booked_by != "caregiver":
        return Reader.PATIENT
    if patient_agrees in PATIENT_MAY_NOT_KNOW or knows_diagnosis in KNOWS_LITTLE:
        return Reader.RELATIVE
    return Reader.BOTH


def numbers_to_call(appointment: Appointment) -> list[tuple[str, str]]:
    """Whom staff call about this booking and on which number, the first one first: the
    relative when the messages go to them alone."""
    patient = (appointment.patient_name, appointment.patient_phone)
    if not booked_by_relative(appointment) or not appointment.booker_phone:
        return [patient]
    relative = (relative_words(appointment), appointment.booker_phone)
    if appointment.messages_to == Reader.RELATIVE:
        return [relative]
    if appointment.messages_to == Reader.BOTH:
        return [patient, relative]
    return [patient]


def relative_words(appointment: Appointment) -> str:
    """ "Ravi Kumar, the patient's son": the relative as staff and the patient are told of them."""
    relationship = (appointment.booker_relationship or "").strip()
    if not relationship:
        return f"{appointment.booker_name}, who booked for the patient"
    return f"{appointment.booker_name}, the patient's {relationship}"


def messages_to_words(appointment: Appointment) -> str:
    """Who gets the messages, as the staff appointment page says it."""
    names = [
        appointment.patient_name if reader.is_patient else relative_words(appointment)
        for reader in readers(appointment)
    ]
    words = " and ".join(names)
    if may_not_know(appointment) and any(reader.is_patient for reader in readers(appointment)):
        words += " (the patient's messages say nothing about the illness)"
    return words


def is_discreet_copy(row, facts: dict) -> bool:
    """Whether an outbox row is a discreet reader's copy (for the sender's name)."""
    appointment = row.appointment
    if appointment is None or facts.get("reader") != Reader.PATIENT:
        return False
    return may_not_know(appointment)
