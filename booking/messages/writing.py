"""Emails a booking queues unwritten: the worker renders them when it sends them.

A booking request only writes rows (the outbox row names its kind, recipient and booking);
rendering three templates, building the calendar file and encrypting the bodies happens in the
worker, like reminders. The email then also tells the truth at the moment it leaves: the
consult's current time and question list, and a fresh manage link. The rendered bodies are
stored in the row before the first attempt, so a resend after a crash is the same message.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from ..core.models import Appointment, OutboundEmail
from ..core.statuses import MessageKind
from ..core.tokens import issue_manage_token
from ..extensions import Session
from ..intake.previsit_questions import questions_for
from .notifications import (
    Email,
    confirmation_email,
    consultant_video_email,
    staff_new_booking_email,
)


class NothingToWrite(Exception):
    """The row's booking is gone or erased, or (a confirmation) its health answers were
    withdrawn with the booking: there is nothing left to tell anyone."""


def _confirmation(session: Session, row: OutboundEmail, appointment: Appointment, now) -> Email:
    intake = appointment.intake
    if intake is None:
        raise NothingToWrite(row.kind)
    token = issue_manage_token(session, appointment, now)
    email = confirmation_email(
        appointment, questions_for(session, intake), intake.own_questions, token
    )
    email.recipient = row.recipient
    return email


def _staff_new_booking(session: Session, row: OutboundEmail, appointment: Appointment, now):
    return staff_new_booking_email(appointment, row.recipient)


def _consultant_video(session: Session, row: OutboundEmail, appointment: Appointment, now):
    # The kind says which change it reports, whatever has happened to the consult since.
    return consultant_video_email(appointment, row.recipient, MessageKind(row.kind))


WRITERS: dict[str, Callable[[Session, OutboundEmail, Appointment, datetime], Email]] = {
    MessageKind.CONFIRMATION: _confirmation,
    MessageKind.STAFF_NEW_BOOKING: _staff_new_booking,
    MessageKind.CONSULTANT_VIDEO: _consultant_video,
    MessageKind.CONSULTANT_VIDEO_MOVED: _consultant_video,
    MessageKind.CONSULTANT_VIDEO_CANCELLED: _consultant_video,
}


def write(session: Session, row: OutboundEmail, now: datetime) -> Email:
    """Render an unwritten row and store what was rendered in it (the caller commits)."""
    appointment = row.appointment
    if appointment is None or appointment.erased_at is not None or row.kind not in WRITERS:
        raise NothingToWrite(row.kind)
    email = WRITERS[row.kind](session, row, appointment, now)
    row.subject, row.body_text, row.body_html, row.ics = (
        email.subject,
        email.text,
        email.html,
        email.ics,
    )
    return email
