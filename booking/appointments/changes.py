"""Cancelling and moving a booking, by the patient (manage link) or by staff.

Each change is one transaction: the appointment, its reminders, the emails to both sides and
the audit event. The functions that must commit themselves (a lost race has to roll back
cleanly) say so in their names, ``move_and_commit`` and ``reassign_and_commit``; the others
leave the commit to the caller. The calendar entry keeps its UID; its SEQUENCE (the booking's
version) goes up by one, so calendar apps update or remove the event they already have.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from ..core import audit
from ..core.audit import Actor
from ..core.models import Appointment, AppointmentNote, StaffUser
from ..core.statuses import ACTIVE_STATUSES, ActorKind, AppointmentStatus, MessageKind, Reader
from ..extensions import Session
from ..messages.outbox import queue_for_readers, queue_message, withdraw_reminder_emails
from ..messages.readers import relative_words
from ..messages.reminders import cancel_reminders, retime_reminders
from ..scheduling.availability import slot_rules
from ..scheduling.chosen_time import consultants_free_at
from ..scheduling.holds import claim_for, clear_expired
from .bookings import SlotTaken
from .video import give_link, tell_consultant

log = logging.getLogger(__name__)


class ChangeRefused(Exception):
    """The booking cannot be changed any more (cancelled, or past the cut-off)."""


def change_deadline(appointment: Appointment) -> datetime:
    """Patients can change a booking online until this moment; staff at any time."""
    return appointment.starts_at - timedelta(hours=current_app.config["CHANGE_CUTOFF_HOURS"])


def patient_can_change(appointment: Appointment, now: datetime) -> bool:
    return appointment.status == AppointmentStatus.CONFIRMED and now < change_deadline(appointment)


def _by_whom(session: Session, appointment: Appointment, actor: Actor) -> str:
    """Who made a change, as the staff email says it."""
    if actor.is_staff:
        user = session.get(StaffUser, actor.staff_user_id)
        return user.name if user else "a member of staff"
    if actor.kind == ActorKind.PATIENT:
        if actor.reader == Reader.RELATIVE:
            return f"{relative_words(appointment)}, with the link in their email"
        return "the patient, with the link in their email"
    return "the system"


def notify_staff(
    session, appointment, change, now, actor, previous_start=None, also: str | None = None
) -> None:
    """Tell the staff addresses (and ``also``, once) what happened to a booking ("cancelled",
    "moved", "erased") and who did it."""
    by = _by_whom(session, appointment, actor)
    recipients = list(current_app.config["STAFF_NOTIFY_EMAILS"])
    if also and also not in recipients:
        recipients.append(also)
    for recipient in recipients:
        queue_message(
            session,
            MessageKind(f"staff_{change}"),
            recipient,
            now,
            appointment,
            by=by,
            previous_start=previous_start,
        )


def cancel_appointment(
    session: Session,
    appointment: Appointment,
    now: datetime,
    actor: Actor,
    reason: str | None = None,
    category: str | None = None,
    rebook: bool = True,
) -> None:
    """Cancel, stop its reminders, and tell both sides. The caller commits.

    ``category`` (staff only, from choices.CANCEL_CATEGORIES) is what the patient's email says
    as the reason; the free-text ``reason`` stays with the clinic. The email carries a link to
    choose a new time with the answers already given (unless ``rebook`` is False: the patient
    withdrew those answers)."""
    if appointment.status != AppointmentStatus.CONFIRMED:
        raise ChangeRefused("only a confirmed booking can be cancelled")
    appointment.status = AppointmentStatus.CANCELLED
    appointment.claim = None  # the consultant's time is free again
    appointment.cancelled_at = now
    appointment.cancel_reason = reason or None
    appointment.version += 1
    cancel_reminders(appointment)
    withdraw_reminder_emails(session, appointment)
    by_patient = actor.kind == ActorKind.PATIENT
    queue_for_readers(
        session,
        MessageKind.CANCELLED,
        now,
        appointment,
        by_patient=by_patient,
        by_reader=actor.reader if by_patient else None,
        category=None if by_patient else category,
        rebook=rebook,  # a link to book again with the answers filled in
    )
    notify_staff(session, appointment, "cancelled", now, actor)
    if appointment.video_link:  # the consultant has the link: they must not wait in the room
        tell_consultant(
            session,
            appointment,
            appointment.consultant.email,
            now,
            MessageKind.CONSULTANT_VIDEO_CANCELLED,
        )
    detail = f"reason: {category}" if category else None
    audit.record(session, "cancelled", now, actor, appointment=appointment, detail=detail)
    log.info("booking %s cancelled by %s", appointment.reference, actor.kind)


def move_and_commit(
    session: Session,
    appointment: Appointment,
    new_start: datetime,
    now: datetime,
    actor: Actor,
) -> None:
    """Move to a free time and commit, or raise :class:`SlotTaken` with nothing changed.

    The same consultant keeps the booking when free at the new time; otherwise the least busy
    free one takes it. Like booking, this commits itself (hence the name): the unique index is
    the final word on a race, and a lost race must roll back cleanly.
    """
    if appointment.status != AppointmentStatus.CONFIRMED:
        raise ChangeRefused("only a confirmed booking can be moved")
    rules = staff_rules() if actor.is_staff else slot_rules(current_app.config)
    free = consultants_free_at(session, rules, now, new_start)
    if appointment.consultant_id in free:
        free.remove(appointment.consultant_id)
        free.insert(0, appointment.consultant_id)
    if not free:
        raise SlotTaken()
    appointment_id = appointment.id
    for consultant_id in free:
        appointment = session.get_one(Appointment, appointment_id)
        previous_start = appointment.starts_at
        try:
            clear_expired(session, consultant_id, new_start, now)
            appointment.claim  # noqa: B018  (loaded before the change, so no flush happens midway)
            appointment.consultant = session.get_one(StaffUser, consultant_id)
            appointment.starts_at = new_start
            appointment.ends_at = new_start + rules.consult
            claim_for(appointment)
            appointment.version += 1
            withdrawn = withdraw_reminder_emails(session, appointment)
            retime_reminders(appointment, now, withdrawn)
            give_link(session, appointment, now)  # a video consult keeps its link
            # The other reader is told who moved it ("Ravi Kumar moved your free consult").
            by_reader = actor.reader if actor.kind == ActorKind.PATIENT else None
            queue_for_readers(session, MessageKind.MOVED, now, appointment, by_reader=by_reader)
            notify_staff(session, appointment, "moved", now, actor, previous_start)
            if appointment.video_link:  # the consultant's copy of the link, at the new time
                tell_consultant(
                    session,
                    appointment,
                    appointment.consultant.email,
                    now,
                    MessageKind.CONSULTANT_VIDEO_MOVED,
                )
            audit.record(session, "moved", now, actor, appointment=appointment)
            session.commit()
        except sa.exc.IntegrityError:
            # Someone took this consultant at that time first; nothing of this attempt stays.
            session.rollback()
            continue
        log.info("booking %s moved by %s", appointment.reference, actor.kind)
        return
    raise SlotTaken()


def staff_rules():
    """Staff may book and move up to the last minute: no minimum notice for them."""
    return replace(slot_rules(current_app.config), min_notice=timedelta(0))


def set_outcome(
    session: Session,
    appointment: Appointment,
    status: str,
    now: datetime,
    actor: Actor,
) -> None:
    """Completed or no-show once the consult has started; "confirmed" undoes a mistake.
    The caller commits."""
    if appointment.status == AppointmentStatus.CANCELLED:
        raise ChangeRefused("A cancelled consult has no outcome.")
    if (
        status in (AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW)
        and appointment.starts_at > now
    ):
        raise ChangeRefused("The consult has not started yet.")
    if status not in ACTIVE_STATUSES:
        raise ChangeRefused("Unknown outcome.")
    appointment.status = status
    audit.record(session, f"marked_{status}", now, actor, appointment=appointment)


def reassign_and_commit(
    session: Session,
    appointment: Appointment,
    consultant_id: int,
    now: datetime,
    actor: Actor,
) -> None:
    """Give the consult to another consultant free at that time, and commit.

    Raises :class:`SlotTaken` when that consultant is not free; the unique index has the
    final word if two reassignments race.
    """
    if appointment.status != AppointmentStatus.CONFIRMED:
        raise ChangeRefused("Only a confirmed consult can be reassigned.")
    if consultant_id == appointment.consultant_id:
        return
    free = consultants_free_at(session, staff_rules(), now, appointment.starts_at)
    if consultant_id not in free:
        raise SlotTaken()
    try:
        clear_expired(session, consultant_id, appointment.starts_at, now)
        appointment.claim  # noqa: B018  (loaded before the change, so no flush happens midway)
        appointment.consultant = session.get_one(StaffUser, consultant_id)
        claim_for(appointment)
        if appointment.video_link:  # the new consultant needs the link
            tell_consultant(session, appointment, appointment.consultant.email, now)
        audit.record(session, "reassigned", now, actor, appointment=appointment)
        session.commit()
    except sa.exc.IntegrityError:
        session.rollback()
        raise SlotTaken() from None


def add_note(
    session: Session,
    appointment: Appointment,
    text: str,
    now: datetime,
    actor: Actor,
) -> AppointmentNote:
    """An encrypted note by a member of staff. The caller commits."""
    note = AppointmentNote(
        appointment=appointment, author_id=actor.staff_user_id, created_at=now, text=text
    )
    session.add(note)
    audit.record(session, "note_added", now, actor, appointment=appointment)
    return note
