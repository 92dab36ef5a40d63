"""The answers of an earlier booking, as the booking form's fields, for a patient choosing a
new time after a cancellation: they check them and book, instead of typing everything again.

Two things are asked afresh: the safety check (symptoms may have changed since) and the
agreements (consent is given for each booking, never carried over).
"""

from __future__ import annotations

from ..core.models import Appointment
from ..intake.booking_questions import DEFINED_ONLY


def answers_of_booking(appointment: Appointment) -> dict:
    """The earlier booking's answers; only its contact details when its health answers were
    withdrawn, and nothing once its data is erased."""
    if appointment.erased_at is not None:
        return {}
    contact = {
        "booked_by": appointment.booked_by,
        "booker_name": appointment.booker_name,
        "booker_relationship": appointment.booker_relationship,
        "booker_email": appointment.booker_email,
        "booker_phone": appointment.booker_phone,
        "patient_agrees": appointment.patient_agrees,
        "messages_to": appointment.messages_to if appointment.booked_by == "caregiver" else None,
        "relative_channel": appointment.relative_channel,
        "patient_name": appointment.patient_name,
        "patient_email": appointment.patient_email,
        "patient_phone": appointment.patient_phone,
        "preferred_channel": appointment.preferred_channel,
        "consult_mode": appointment.consult_mode,
    }
    intake = appointment.intake
    if intake is None:
        return contact
    born = intake.born
    return {
        **contact,
        "birth_date": born.as_typed() if born else None,
        "therapy": intake.therapy,
        "cancer_type": intake.cancer_type,
        "cancer_type_other": intake.cancer_type_other,
        "stage": intake.stage,
        "diagnosed": intake.diagnosed,
        "diagnosis_details": intake.diagnosis_details,
        "treatments": intake.treatment_list,
        "treatment_details": intake.treatment_details,
        "payment_routes": intake.payment_route_list,
        "state_scheme": intake.state_scheme,
        "insurer": intake.insurer,
        "tpa": intake.tpa,
        "policy_holder": intake.policy_holder,
        "policy_after_diagnosis": intake.policy_after_diagnosis,
        "cost_help": intake.cost_help,
        "own_questions": intake.own_questions,
        **{q.name: q.for_form(getattr(intake, q.name)) for q in DEFINED_ONLY},
    }
