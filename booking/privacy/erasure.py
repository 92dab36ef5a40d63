"""Erasing a booking's personal data, and withdrawing a consent.

Erasure keeps the skeleton: the reference, times, consultant, status and the ``erased_at``
marker stay, so the clinic's counts and the audit trail stay whole. Everything else the patient
or the clinic wrote about them goes: the intake, the questionnaire, staff notes, call-back
notes, the cancellation reason, contact details, the video link, every email's subject, bodies
and calendar file, and what audit events said about contact corrections. Emails still waiting
are withdrawn, and a consult still to come is cancelled (without its contact details nobody
can prepare for it, call the patient or tell them).

One function does it for every caller: the patient's "Delete my data", staff acting on a
request by phone or letter, the ``erase`` command and the retention job. Marking the booking
erased is its claim: two callers at once erase it once, and a second request is a no-op.
Contact columns that the schema requires are emptied rather than nulled.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import cast

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value

from ..appointments.changes import cancel_appointment, notify_staff
from ..core import audit
from ..core.audit import Actor
from ..core.models import (
    Appointment,
    AppointmentNote,
    AuditEvent,
    CallBack,
    Intake,
    OutboundEmail,
    Questionnaire,
    UrgentCase,
)
from ..core.statuses import ActorKind, AppointmentStatus, OutboxStatus
from ..extensions import Session
from ..messages.outbox import withdraw_reminder_emails
from ..messages.reminders import cancel_reminders

log = logging.getLogger(__name__)

# Why a booking was erased, as the audit event records it (never more than this code).
REASONS = {
    "patient_request": "the patient asked, with the link in their email",
    "request_by_phone": "the patient asked by phone",
    "request_in_writing": "the patient asked in writing",
    "retention": "the retention period ended",
    "operator": "the operator ran the erase command",
}

# Audit events whose detail repeats what the patient typed (old and new contact details).
CONTACT_DETAIL_ACTIONS = ("contact_corrected",)


def _erase_health(session: Session, appointment: Appointment, now: datetime) -> None:
    """The health data: intake, questionnaire, notes, call-back notes, cancellation reason.
    An open call-back case is closed: what it was about is gone."""
    session.execute(sa.delete(Intake).where(Intake.appointment_id == appointment.id))
    session.execute(sa.delete(Questionnaire).where(Questionnaire.appointment_id == appointment.id))
    session.execute(
        sa.delete(AppointmentNote).where(AppointmentNote.appointment_id == appointment.id)
    )
    cases = sa.select(UrgentCase.id).where(UrgentCase.appointment_id == appointment.id)
    session.execute(sa.update(CallBack).where(CallBack.case_id.in_(cases)).values(note=None))
    session.execute(
        sa.update(UrgentCase)
        .where(UrgentCase.appointment_id == appointment.id, UrgentCase.closed_at.is_(None))
        .values(closed_at=now, next_escalation_at=None)
    )
    appointment.cancel_reason = None
    # The rows are gone from the database; the objects loaded with the booking go too.
    for name in ("intake", "questionnaire"):
        set_committed_value(appointment, name, None)


def _blank_emails(session: Session, appointment: Appointment) -> None:
    session.execute(
        sa.update(OutboundEmail)
        .where(
            OutboundEmail.appointment_id == appointment.id,
            OutboundEmail.status == OutboxStatus.PENDING,
        )
        .values(status=OutboxStatus.WITHDRAWN, last_error="withdrawn: data erased")
    )
    session.execute(
        sa.update(OutboundEmail)
        .where(OutboundEmail.appointment_id == appointment.id)
        .values(recipient="", subject=None, body_text=None, body_html=None, ics=None, context=None)
    )


def _blank_contact(session: Session, appointment: Appointment) -> None:
    for name in ("patient_name", "patient_email", "patient_phone"):
        setattr(appointment, name, "")
    for name in ("booker_name", "booker_relationship", "booker_email", "booker_phone"):
        setattr(appointment, name, None)
    appointment.patient_agrees = None
    appointment.video_link = None
    session.execute(
        sa.update(AuditEvent)
        .where(
            AuditEvent.appointment_id == appointment.id,
            AuditEvent.action.in_(CONTACT_DETAIL_ACTIONS),
        )
        .values(detail=None)
    )
    session.execute(
        sa.update(AuditEvent)
        .where(AuditEvent.appointment_id == appointment.id, AuditEvent.actor == ActorKind.PATIENT)
        .values(ip_address=None)
    )


def _stop(appointment: Appointment, now: datetime) -> bool:
    """Cancel a consult still to come, quietly (there is nobody left to tell). True if it was."""
    if appointment.status != AppointmentStatus.CONFIRMED or appointment.ends_at <= now:
        return False
    appointment.status = AppointmentStatus.CANCELLED
    appointment.claim = None  # the consultant's time is free again
    appointment.cancelled_at = now
    appointment.version += 1
    cancel_reminders(appointment)
    return True


def erase(
    session: Session,
    appointment: Appointment,
    now: datetime,
    actor: Actor,
    reason: str,
    tell_staff: bool = True,
) -> bool:
    """Erase the booking's personal data (see the module's docstring). False when it was
    already erased. The caller commits."""
    claimed = session.execute(
        sa.update(Appointment)
        .where(Appointment.id == appointment.id, Appointment.erased_at.is_(None))
        .values(erased_at=now)
        .execution_options(synchronize_session=False)
    )
    if not cast(sa.CursorResult, claimed).rowcount:
        return False
    erase_claimed(session, appointment, now, actor, reason, tell_staff)
    return True


def erase_claimed(
    session: Session,
    appointment: Appointment,
    now: datetime,
    actor: Actor,
    reason: str,
    tell_staff: bool = False,
) -> None:
    """Everything after the claim: for a caller that has already set ``erased_at`` on this
    booking in its own transaction (the retention job claims a batch at once)."""
    if reason not in REASONS:
        raise ValueError(f"unknown erasure reason {reason!r}")
    set_committed_value(appointment, "erased_at", now)
    cancelled = _stop(appointment, now)
    _erase_health(session, appointment, now)
    _blank_contact(session, appointment)
    _blank_emails(session, appointment)
    detail = REASONS[reason] + ("; the consult was cancelled" if cancelled else "")
    audit.record(session, "data_erased", now, actor, appointment=appointment, detail=detail)
    if tell_staff:
        # A consult that was still to come is off the consultant's day: they hear it too.
        consultant = appointment.consultant.email if cancelled else None
        notify_staff(session, appointment, "erased", now, actor, also=consultant)
    log.info("booking %s erased (%s)", appointment.reference, reason)


def withdraw_health_consent(
    session: Session, appointment: Appointment, now: datetime, actor: Actor
) -> None:
    """The patient no longer agrees that the clinic stores their health information: the
    consult is cancelled with the usual emails, and the health data is erased at once. Their
    contact details stay until the retention period ends (the cancellation email needs them)
    or they ask for those to be deleted too. The caller commits."""
    if appointment.status == AppointmentStatus.CONFIRMED and appointment.ends_at > now:
        cancel_appointment(session, appointment, now, actor, rebook=False)
    appointment.consent_health_withdrawn_at = now
    _erase_health(session, appointment, now)
    session.execute(
        sa.update(OutboundEmail)
        .where(
            OutboundEmail.appointment_id == appointment.id,
            OutboundEmail.status.in_((OutboxStatus.SENT, OutboxStatus.DEAD)),
        )
        .values(body_text=None, body_html=None, ics=None, context=None)
    )
    audit.record(session, "health_consent_withdrawn", now, actor, appointment=appointment)


def withdraw_reminder_consent(
    session: Session, appointment: Appointment, now: datetime, actor: Actor
) -> None:
    """No more reminders for this booking; everything else stays as it is. The caller
    commits."""
    appointment.consent_reminders = False
    appointment.consent_reminders_withdrawn_at = now
    cancel_reminders(appointment)
    withdraw_reminder_emails(session, appointment)
    audit.record(session, "reminder_consent_withdrawn", now, actor, appointment=appointment)
