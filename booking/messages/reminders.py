"""Reminder emails: rows planned with the booking, turned into emails when they fall due.

Rules:
- One row per offset in ``REMINDER_OFFSETS``, due that long before the start (in UTC, so a
  daylight-saving change in any zone does not move it).
- A reminder already past when the booking is made is ``skipped``: the confirmation carries
  the question list. So is every reminder of a patient who did not want reminder emails.
- The job queues every ``pending`` reminder whose time has come, even late after an outage,
  as long as the consult has not started; one for a consult already under way is ``skipped``.
- The email is written when the worker sends it: the consult's current time, the current
  question list, a fresh manage link.
- Claims are atomic (one ``UPDATE ... RETURNING``, ``SKIP LOCKED`` on PostgreSQL) and the
  outbox rows are written in the same transaction, so two workers never queue one reminder
  twice and a crash never queues it zero times.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from ..core.due_rows import take_due
from ..core.models import Appointment, Reminder
from ..core.statuses import AppointmentStatus, MessageKind, ReminderStatus
from ..extensions import Session
from .outbox import queue_for_readers


def reminder_plan(
    starts_at: datetime, consent_reminders: bool, now: datetime, offsets: list[timedelta]
) -> list[dict]:
    """One reminder row's columns per offset (shared with the booking's Core insert)."""
    plan = []
    for offset in offsets:
        due_at = starts_at - offset
        wanted = consent_reminders and due_at > now
        plan.append(
            {
                "offset_minutes": int(offset.total_seconds() // 60),
                "due_at": due_at,
                "status": ReminderStatus.PENDING if wanted else ReminderStatus.SKIPPED,
                "queued_at": None,
            }
        )
    return plan


def retime_reminders(
    appointment: Appointment, now: datetime, withdrawn_reminder_ids: list[int]
) -> None:
    """After a move: every reminder is due again relative to the new start.

    A reminder already sent for the old time is sent again only if its new time is still
    ahead; one whose email was withdrawn before it went out counts as not sent.
    """
    for reminder in appointment.reminders:
        reminder.due_at = appointment.starts_at - timedelta(minutes=reminder.offset_minutes)
        unsent = (
            reminder.status in (ReminderStatus.PENDING, ReminderStatus.SKIPPED)
            or reminder.id in withdrawn_reminder_ids
        )
        if reminder.status == ReminderStatus.CANCELLED:
            continue
        if reminder.due_at > now and appointment.consent_reminders:
            if unsent or reminder.status == ReminderStatus.QUEUED:
                reminder.status = ReminderStatus.PENDING
                reminder.queued_at = None
        elif unsent:
            reminder.status = ReminderStatus.SKIPPED


def cancel_reminders(appointment: Appointment) -> None:
    for reminder in appointment.reminders:
        if reminder.status == ReminderStatus.PENDING:
            reminder.status = ReminderStatus.CANCELLED


@dataclass
class QueueReport:
    claimed: int = 0
    queued: int = 0
    skipped: int = 0
    cancelled: int = 0


def _claim_due(session: Session, now: datetime, limit: int) -> list[int]:
    return take_due(
        session,
        Reminder,
        due=sa.and_(Reminder.status == ReminderStatus.PENDING, Reminder.due_at <= now),
        order_by=(Reminder.due_at, Reminder.id),
        limit=limit,
        values={"status": ReminderStatus.QUEUED, "queued_at": now},
    )


def _latest_per_consult(
    session: Session, claimed: Sequence[Reminder], now: datetime, report: QueueReport
) -> list[Reminder]:
    """Of the reminders of one consult that are due together (after an outage), only the one
    nearest the start is sent: "in 45 minutes" once, not also "tomorrow" a moment before.

    Due reminders not claimed here are skipped only while still ``pending``, so a row another
    worker has just claimed is never overwritten.
    """
    claimed_ids = {reminder.id for reminder in claimed}
    # Only the other reminders of these consults that are due too: a consult's full history
    # is never loaded, whatever the size of the table.
    others = session.scalars(
        sa.select(Reminder).where(
            Reminder.appointment_id.in_({reminder.appointment_id for reminder in claimed}),
            Reminder.status == ReminderStatus.PENDING,
            Reminder.due_at <= now,
        )
    ).all()
    due_by_appointment: dict[int, list[Reminder]] = defaultdict(list)
    for reminder in [*claimed, *others]:
        due_by_appointment[reminder.appointment_id].append(reminder)
    chosen = []
    for due in due_by_appointment.values():
        best = min(due, key=lambda reminder: reminder.offset_minutes)
        for reminder in due:
            if reminder is best:
                continue
            report.skipped += 1
            if reminder.id in claimed_ids:
                reminder.status = ReminderStatus.SKIPPED
            else:
                session.execute(
                    sa.update(Reminder)
                    .where(Reminder.id == reminder.id, Reminder.status == ReminderStatus.PENDING)
                    .values(status=ReminderStatus.SKIPPED)
                    .execution_options(synchronize_session=False)
                )
        if best.id in claimed_ids:
            chosen.append(best)
    return sorted(chosen, key=lambda reminder: reminder.due_at)


def queue_due_reminders(session: Session, now: datetime, limit: int = 200) -> QueueReport:
    """Turn one batch of due reminders into outbox rows, in one transaction."""
    report = QueueReport()
    ids = _claim_due(session, now, limit)
    report.claimed = len(ids)
    if not ids:
        session.commit()
        return report
    reminders = session.scalars(
        sa.select(Reminder)
        .where(Reminder.id.in_(ids))
        .options(so.joinedload(Reminder.appointment))
        .order_by(Reminder.due_at)
    ).all()
    for reminder in _latest_per_consult(session, reminders, now, report):
        appointment = reminder.appointment
        if appointment.status != AppointmentStatus.CONFIRMED:
            reminder.status = ReminderStatus.CANCELLED
            report.cancelled += 1
            continue
        if appointment.starts_at <= now:
            reminder.status = ReminderStatus.SKIPPED
            report.skipped += 1
            continue
        queue_for_readers(session, MessageKind.REMINDER, now, appointment, reminder)
        report.queued += 1
    session.commit()
    return report
