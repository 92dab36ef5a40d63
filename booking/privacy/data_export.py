"""Everything stored about one booking, for the patient who asks for it ("Download my data").

The same sections feed the JSON file and the readable page, so the two never disagree. Answers
are decrypted and given in the words the form showed next to the stored value; the emails are
listed by kind, address, status and time, not their bodies (those repeat what is here); the
audit events say what was done, when, and by whom (a member of staff is "clinic staff": the
patient has a right to know what was done with their data, not the staff rota).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app

from ..core.models import Appointment, AuditEvent, Intake, OutboundEmail
from ..core.plain_words import EMAIL_STATUSES, action_words, channel_words
from ..core.timeutil import format_local, zone
from ..extensions import Session
from ..intake import choices
from ..intake.booking_questions import label_and_words
from ..intake.health_questionnaire import answers_of
from ..intake.questionnaire_questions import answer_rows
from ..messages.kinds import email_kind_words

Section = list[tuple[str, Any]]

# Every answer column of the intake (the form's definition gives each its question and answers):
# the patient has a right to all of it, answers the form no longer asks included.
INTAKE_COLUMNS = [
    column.key for column in Intake.__table__.columns if column.key not in {"id", "appointment_id"}
]


class _Clock:
    """Times as the patient reads them elsewhere ("Mon 30 Nov 2026, 10:00 IST"), in their
    own zone."""

    def __init__(self, appointment: Appointment):
        self.zone = zone(appointment.patient_timezone, current_app.config["CLINIC_TIMEZONE"])

    def __call__(self, moment: datetime | None) -> str | None:
        return format_local(moment, self.zone) if moment else None


def _intake(intake: Intake | None) -> Section:
    if intake is None:
        return []
    rows: Section = []
    for name in INTAKE_COLUMNS:
        value = getattr(intake, name)
        if value not in (None, ""):
            rows.append(label_and_words(name, value))
    return rows


def _booking(appointment: Appointment, when: _Clock) -> Section:
    return [
        ("Reference", appointment.reference),
        ("Status", appointment.status.replace("_", " ")),
        ("Consult time", when(appointment.starts_at)),
        ("How", choices.label(choices.CONSULT_MODES, appointment.consult_mode)),
        ("Video link", appointment.video_link),
        ("Booked", when(appointment.created_at)),
        ("Cancelled", when(appointment.cancelled_at)),
    ]


def _contact(appointment: Appointment) -> Section:
    return [
        ("Patient's name", appointment.patient_name),
        ("Patient's email", appointment.patient_email),
        ("Patient's phone", appointment.patient_phone),
        ("Preferred channel", choices.label(choices.CHANNELS, appointment.preferred_channel)),
        ("Time zone", appointment.patient_timezone),
        ("Booked by", choices.label(choices.BOOKED_BY, appointment.booked_by)),
        ("Booker's name", appointment.booker_name),
        ("Relationship to the patient", appointment.booker_relationship),
        ("Booker's email", appointment.booker_email),
        ("Booker's phone", appointment.booker_phone),
        ("Does the patient know and agree?", appointment.patient_agrees),
    ]


def _consents(appointment: Appointment, when: _Clock) -> Section:
    if appointment.consent_reminders_withdrawn_at:
        reminders = f"No: stopped {when(appointment.consent_reminders_withdrawn_at)}"
    elif appointment.consent_reminders:
        reminders = f"Yes, {when(appointment.consent_reminders_at)}"
    else:
        reminders = "No"
    given, withdrawn = appointment.consent_health_at, appointment.consent_health_withdrawn_at
    health = (
        f"Withdrawn {when(withdrawn)} (given {when(given)})" if withdrawn else f"Yes, {when(given)}"
    )
    return [
        ("Agreed to storing health information", health),
        ("Privacy notice version of that agreement", appointment.consent_health_version),
        ("Agreed to reminder emails", reminders),
        ("Privacy notice version of that agreement", appointment.consent_reminders_version),
    ]


def _emails(session: Session, appointment: Appointment, when: _Clock) -> list[dict]:
    rows = session.execute(
        sa.select(
            OutboundEmail.kind,
            OutboundEmail.channel,
            OutboundEmail.recipient,
            OutboundEmail.status,
            OutboundEmail.delivery,
            OutboundEmail.created_at,
            OutboundEmail.sent_at,
        )
        .where(OutboundEmail.appointment_id == appointment.id)
        .order_by(OutboundEmail.created_at, OutboundEmail.id)
    )
    return [
        {
            "kind": email_kind_words(row.kind),
            "channel": channel_words(row.channel),
            "to": row.recipient,
            "status": EMAIL_STATUSES.get(row.status, row.status),
            "delivery": row.delivery,
            "queued": when(row.created_at),
            "sent": when(row.sent_at),
        }
        for row in rows
    ]


def _events(session: Session, appointment: Appointment, when: _Clock) -> list[dict]:
    events = session.scalars(
        sa.select(AuditEvent)
        .where(AuditEvent.appointment_id == appointment.id)
        .order_by(AuditEvent.at, AuditEvent.id)
    )
    who = {
        "staff": "clinic staff",
        "patient": "you (or the person who booked)",
        "system": "the system",
    }
    return [
        {
            "when": when(event.at),
            "what": action_words(event.action),
            "by": who.get(event.actor, event.actor),
        }
        for event in events
    ]


def booking_data(session: Session, appointment: Appointment) -> dict[str, Any]:
    """Every section, ready for ``json.dumps`` (sections are lists of [label, value])."""

    def kept(section: Section) -> list[list[Any]]:
        return [[label, value] for label, value in section if value not in (None, "")]

    questionnaire = answer_rows(answers_of(appointment.questionnaire))
    when = _Clock(appointment)
    return {
        "booking": kept(_booking(appointment, when)),
        "contact": kept(_contact(appointment)),
        "agreements": kept(_consents(appointment, when)),
        "booking_form_answers": kept(_intake(appointment.intake)),
        "questionnaire_answers": [[label, words] for label, words, _ in questionnaire],
        "emails_sent": _emails(session, appointment, when),
        "what_was_done": _events(session, appointment, when),
    }
